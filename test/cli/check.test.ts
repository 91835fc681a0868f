import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { runCheck } from '../../src/cli/check';
import { CHECK_MESSAGE } from '../../src/providers/provider-check';
import { APNS_CHECK_TOKEN } from '../../src/providers/apns/apns-check';
import { FCM_CHECK_TOKEN } from '../../src/providers/fcm/fcm-check';
import { DEFAULT_FAKE_PASSWORD } from '../fakes/mediawiki-server';
import { FAKE_APNS_TOPIC } from '../fakes/provider-fakes';
import { freePort } from '../helpers/processes';
import {
    check, CliFakes, closeExtras, fullConf, mismatchedVapid, npmStartConf, revokedServiceAccount, rowsOf, runNode, show, startCliFakes
} from './helpers';

/** Every secret the fakes and configs hold, to scan the output for (PEM bodies by line). */
function secrets(f: CliFakes, ...extra: string[]): string[] {
    const pemLines = (pem: string): string[] => pem.split('\n').filter((l) => l.length >= 40 && !l.startsWith('-----'));
    const sa = JSON.parse(readFileSync(f.providers.files.serviceAccount, 'utf8')) as { private_key: string };
    const vapid = (f.providers.conf.webpush as { vapid: { privateKey: string } }).vapid;
    return [
        ...pemLines(readFileSync(f.providers.files.apnsKey, 'utf8')), ...pemLines(sa.private_key), vapid.privateKey,
        DEFAULT_FAKE_PASSWORD, 'dev-password-not-a-secret',
        ...f.providers.fcm.issuedAccessTokens, ...f.providers.fcm.rawAssertions, ...f.providers.apns.jwtsSeen, ...extra
    ];
}

function assertNoSecret(text: string, all: readonly string[]): void {
    for (const s of all) {
        assert.ok(!text.includes(s), `a secret was printed: ${s.slice(0, 12)}…`);
    }
}

describe('npm run check (src/cli/check.ts) against the fakes', function () {
    this.timeout(60000);
    let f: CliFakes;
    const printed: string[] = [];

    before(async () => {
        f = await startCliFakes();
    });
    after(async () => {
        try {
            assertNoSecret(printed.join('\n'), secrets(f));
        } finally {
            await f.close();
            await closeExtras();
        }
    });
    beforeEach(() => {
        f.providers.apns.reset();
        f.providers.fcm.reset();
        f.wiki.deleteCalls.length = 0;
        delete f.providers.apns.behaviour.teamTopics;
    });

    async function run(name: string, conf: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) {
        const report = await check(f.writeConfig(name, conf), env);
        printed.push(show(report));
        return report;
    }

    it('passes with the config npm start builds (config.dev.yaml pointed at the fakes), sending nothing a person would see', async () => {
        const report = await run('npm-start.yaml', await npmStartConf(f));
        assert.equal(report.exitCode, 0, show(report));
        assert.deepEqual(report.rows.map((r) => `${r.subject}:${r.step}:${r.status}`), [
            'config:config:ok',
            'apns:provider token:ok', 'apns:connection:ok', 'apns:request:ok',
            'fcm:service account:ok', 'fcm:OAuth:ok', 'fcm:validate_only send:ok',
            'webpush:VAPID key pair:ok', 'webpush:subject:ok', 'webpush:endpoints:warn',
            'mediawiki:login:ok'
        ], show(report));
        assert.match(rowsOf(report, 'apns')[2].detail, /accepted the provider token and topic org\.wikimedia\.wikipedia; the dummy device token was refused, as expected \(BadDeviceToken\)/);
        assert.match(rowsOf(report, 'fcm')[2].detail, /FCM accepted the credentials for project fake-project; the dummy token was refused, as expected \(INVALID_ARGUMENT\)/);
        assert.match(rowsOf(report, 'mediawiki')[0].detail, /logged in to .* as PushSubscriptionManager@dev \(action=login\) and got a CSRF token/);
        // What went out: one silent background request for the zero token, one validate_only request, no delete.
        assert.deepEqual(f.providers.apns.received.map((r) => [r.token, r.headers['apns-push-type'], r.headers['apns-priority'], r.rawBody]),
            [[APNS_CHECK_TOKEN, 'background', '5', '{"aps":{"content-available":1}}']]);
        assert.deepEqual(f.providers.fcm.received.map((r) => [r.token, r.validateOnly]), [[FCM_CHECK_TOKEN, true]]);
        assert.equal(f.wiki.deleteCalls.length, 0);
        assert.equal(CHECK_MESSAGE.contentAvailable, true);
    });

    it('passes with every kind configured: legacy blocks, providers: entries and a Matrix type: app', async () => {
        const report = await run('full.yaml', fullConf(f));
        assert.equal(report.exitCode, 0, show(report));
        for (const subject of ['apns', 'apns-two', 'fcm', 'webpush', 'matrix/web', 'mediawiki']) {
            assert.ok(rowsOf(report, subject).length > 0 && rowsOf(report, subject).every((r) => r.status === 'ok' || r.status === 'warn'), `${subject}\n${show(report)}`);
        }
        assert.deepEqual(rowsOf(report, 'webpush').map((r) => r.step), ['VAPID key pair', 'subject', 'endpoints']);
        assert.match(rowsOf(report, 'webpush')[0].detail, /the public key \(.{12}…\) is the private key's own: a signed VAPID JWT verifies with it/);
        assert.equal(rowsOf(report, 'webpush')[2].status, 'warn', 'testOnlyLoopbackEndpoints is pointed out');
    });

    it('a wrong APNs key id: InvalidProviderToken, named with the key id and team id; the other checks still run', async () => {
        const apns = f.providers.conf.apns as { token: Record<string, string> };
        const report = await run('wrong-key-id.yaml', fullConf(f, { apns: { ...apns, token: { ...apns.token, keyId: 'WRONGKEY12' } } }));
        assert.equal(report.exitCode, 1);
        const request = rowsOf(report, 'apns').find((r) => r.step === 'request')!;
        assert.equal(request.status, 'fail', show(report));
        assert.match(request.detail, /APNs refused the provider token \(InvalidProviderToken\): the key in .*AuthKey\.p8, key id WRONGKEY12 and team id FAKETEAM12 do not belong together/);
        assert.ok(rowsOf(report, 'apns-two').every((r) => r.status === 'ok'), 'the instance with the right key id passes');
        assert.ok(rowsOf(report, 'fcm').every((r) => r.status === 'ok'));
    });

    it('a wrong topic: TopicDisallowed, naming the topic and the team', async () => {
        f.providers.apns.behaviour.teamTopics = [FAKE_APNS_TOPIC];
        const report = await run('wrong-topic.yaml', fullConf(f, { apns: { ...f.providers.conf.apns, topic: 'org.example.not-ours' } }));
        assert.equal(report.exitCode, 1);
        const request = rowsOf(report, 'apns').find((r) => r.step === 'request')!;
        assert.equal(request.status, 'fail', show(report));
        assert.match(request.detail, /APNs does not let team FAKETEAM12 push to topic org\.example\.not-ours \(TopicDisallowed\)/);
        assert.equal(rowsOf(report, 'apns-two').find((r) => r.step === 'request')?.status, 'ok', 'the right topic passes');
    });

    it('a revoked FCM key: the OAuth exchange is refused (invalid_grant), and no FCM request is made', async () => {
        const report = await run('revoked-fcm.yaml', fullConf(f, { fcm: { ...f.providers.conf.fcm, service_account: revokedServiceAccount(f) } }));
        assert.equal(report.exitCode, 1);
        const oauth = rowsOf(report, 'fcm').find((r) => r.step === 'OAuth')!;
        assert.equal(oauth.status, 'fail', show(report));
        assert.match(oauth.detail, /refused the assertion signed by push@fake-project\.iam\.gserviceaccount\.com \(key id revokedkey0+1\) \(OAuth token exchange answered 400: invalid_grant: Invalid JWT Signature\.\): the key was deleted or revoked/);
        assert.ok(!rowsOf(report, 'fcm').some((r) => r.step === 'validate_only send'));
        assert.equal(f.providers.fcm.received.length, 0);
    });

    it('a bad VAPID key: the private key is not the public key\'s', async () => {
        const report = await run('bad-vapid.yaml', fullConf(f, { webpush: { ...f.providers.conf.webpush, vapid: mismatchedVapid(f) } }));
        assert.equal(report.exitCode, 1);
        assert.deepEqual(rowsOf(report, 'webpush').map((r) => [r.status, r.step, r.detail]),
            [['fail', 'VAPID key pair', 'config: webpush.vapid.privateKey: does not match webpush.vapid.publicKey']]);
        assert.ok(rowsOf(report, 'matrix/web').every((r) => r.status === 'ok'));
    });

    it('a bad VAPID subject fails the subject line', async () => {
        const vapid = (f.providers.conf.webpush as { vapid: Record<string, unknown> }).vapid;
        const report = await run('bad-subject.yaml', fullConf(f, { webpush: { ...f.providers.conf.webpush, vapid: { ...vapid, subject: 'mailto:me@localhost' } } }));
        assert.deepEqual(rowsOf(report, 'webpush').map((r) => [r.status, r.step]), [['fail', 'subject']]);
        assert.match(rowsOf(report, 'webpush')[0].detail, /Apple refuses @localhost/);
    });

    it('a wrong wiki password: the login is refused, with the wiki\'s reason; the password is not printed', async () => {
        const report = await run('wrong-password.yaml', fullConf(f, { mw_subscription_manager_password: 'not-the-password-123' }));
        assert.equal(report.exitCode, 1);
        const [login] = rowsOf(report, 'mediawiki');
        assert.equal(login.status, 'fail', show(report));
        assert.match(login.detail, /refused the login of PushSubscriptionManager@cleanup \(Failed: Incorrect username or password entered\. Please try again\.\); check the username and password \(action=login takes a bot password/);
        assert.ok(!show(report).includes('not-the-password-123'));
        assert.equal(f.wiki.deleteCalls.length, 0);
    });

    it('an unreachable wiki and no wiki credentials fail with what is wrong', async () => {
        const port = await freePort();
        const unreachable = await run('no-wiki.yaml', fullConf(f, { mwapi_req: { uri: `http://127.0.0.1:${port}/w/api.php` } }));
        assert.equal(rowsOf(unreachable, 'mediawiki')[0].detail, `no answer from http://127.0.0.1:${port}/w/api.php: ECONNREFUSED`);
        const conf = fullConf(f);
        delete conf.mw_subscription_manager_password;
        const none = await run('no-password.yaml', conf);
        assert.deepEqual(rowsOf(none, 'mediawiki').map((r) => r.status), ['fail']);
        assert.match(rowsOf(none, 'mediawiki')[0].detail, /dead subscriptions would never be deleted/);
    });

    it('a block without credentials fails when written, and is skipped when absent; mock: true is skipped', async () => {
        const report = await run('unconfigured.yaml', fullConf(f, { fcm: { max_sockets: 4 }, webpush: undefined, apns: { mock: true } }));
        assert.deepEqual(rowsOf(report, 'fcm').map((r) => [r.status, r.detail]),
            [['fail', 'not configured (set service_account (or GOOGLE_APPLICATION_CREDENTIALS)): the service would answer every message for it config_error NotConfigured']]);
        assert.deepEqual(rowsOf(report, 'webpush').map((r) => [r.status, r.detail]), [['skip', 'not configured (the config has no webpush block)']]);
        assert.deepEqual(rowsOf(report, 'apns').map((r) => r.status), ['skip']);
        // GOOGLE_APPLICATION_CREDENTIALS stands in for service_account, as in the image.
        const withEnv = await run('env-sa.yaml', fullConf(f, { fcm: { ...f.providers.conf.fcm, service_account: undefined } }),
            { GOOGLE_APPLICATION_CREDENTIALS: f.providers.files.serviceAccount });
        assert.ok(rowsOf(withEnv, 'fcm').every((r) => r.status === 'ok'), show(withEnv));
    });

    it('an APNs key that cannot sign fails the provider token line; a key file named for another key id is pointed out', async () => {
        const apns = f.providers.conf.apns as { token: Record<string, string> };
        const report = await run('bad-key.yaml', fullConf(f, { apns: { ...apns, token: { ...apns.token, key: f.providers.files.ca } } }));
        assert.deepEqual(rowsOf(report, 'apns').map((r) => [r.status, r.step]), [['fail', 'provider token']], show(report));
        assert.match(rowsOf(report, 'apns')[0].detail, /cannot sign provider tokens with the key in .*ca\.pem: /);
        const renamed = path.join(f.dir, 'AuthKey_ABCDE12345.p8');
        copyFileSync(f.providers.files.apnsKey, renamed);
        const hint = await run('hint.yaml', fullConf(f, { apns: { ...apns, token: { ...apns.token, key: renamed } } }));
        assert.deepEqual(rowsOf(hint, 'apns').map((r) => r.status), ['ok', 'warn', 'ok', 'ok'], show(hint));
        assert.equal(rowsOf(hint, 'apns')[1].detail, 'the key file is named AuthKey_ABCDE12345.p8, but the key id is FAKEKEY123: Apple names the file after its key id');
        assert.equal(hint.exitCode, 0, 'a warning does not fail the check');
    });

    it('a config the service would refuse fails the config line (exit 1); a missing file is a usage error', async () => {
        const report = await run('bad.yaml', fullConf(f, { apns: { ...f.providers.conf.apns, production: 'yes' } }));
        assert.deepEqual(report.rows.map((r) => [r.status, r.subject]), [['fail', 'config']]);
        assert.match(report.rows[0].detail, /config: apns\.production: must be boolean \(the service would not start\)/);
        assert.equal(report.exitCode, 1);
        await assert.rejects(runCheck({ configFile: path.join(f.dir, 'nope.yaml') }), /cannot read .*nope\.yaml: ENOENT/);
    });

    describe('as a real process (node dist/check.js)', () => {
        it('exit 0 and one line per check against the npm start config; exit 1 naming the failure; exit 2 for usage', async () => {
            const good = f.writeConfig('process-good.yaml', await npmStartConf(f));
            const ok = await runNode('check.js', ['-c', good]);
            printed.push(ok.stdout, ok.stderr);
            assert.equal(ok.code, 0, ok.stdout + ok.stderr);
            const lines = ok.stdout.trim().split('\n');
            assert.equal(lines.length, 12, ok.stdout);
            assert.match(lines[2], /^ok {4}apns {10}connection: 127\.0\.0\.1:\d+ \(sandbox, direct\): TLS and HTTP\/2 up$/);
            assert.match(lines[7], /^ok {4}webpush {7}VAPID key pair: /);
            assert.equal(lines[11], 'All checks passed (10 ok, 1 warning).');
            assert.equal(ok.stderr, '');

            const bad = f.writeConfig('process-bad.yaml', fullConf(f, { mw_subscription_manager_password: 'wrong-password-456' }));
            const failed = await runNode('check.js', ['--config', bad]);
            printed.push(failed.stdout, failed.stderr);
            assert.equal(failed.code, 1, failed.stdout + failed.stderr);
            assert.match(failed.stdout, /^FAIL {2}mediawiki +login: .* refused the login of PushSubscriptionManager@cleanup/m);
            assert.match(failed.stdout, /^1 check FAILED \(\d+ ok, 1 warning\)\.$/m);
            assert.ok(!failed.stdout.includes('wrong-password-456'));

            // Nothing answers (a closed port as the proxy): the process waits for the providers'
            // own deadlines (unref'd timers) instead of exiting 0 half-way.
            const closed = await freePort();
            const apns = f.providers.conf.apns;
            const unreachable = f.writeConfig('process-unreachable.yaml', {
                user_agent: 'test', proxy: `http://127.0.0.1:${closed}`, mediawiki: { mock: true },
                apns: { ...apns, address: undefined, port: undefined }
            });
            const down = await runNode('check.js', ['-c', unreachable]);
            assert.equal(down.code, 1, down.stdout + down.stderr);
            assert.match(down.stdout, new RegExp(`^FAIL {2}apns +connection: no answer from api\\.sandbox\\.push\\.apple\\.com:443 \\(sandbox, through the proxy 127\\.0\\.0\\.1:${closed}\\): .*ECONNREFUSED`, 'm'));
            assert.match(down.stdout, /^1 check FAILED \(2 ok, 3 skipped\)\.$/m);

            const usage = await runNode('check.js', []);
            assert.equal(usage.code, 2);
            assert.match(usage.stderr, /-c <config.yaml> is required/);
            const help = await runNode('check.js', ['--help']);
            assert.equal(help.code, 0);
            assert.match(help.stdout, /^Usage: node dist\/check\.js -c <config\.yaml>/);
        });
    });
});

describe('npm run check: the APNs environment (through the proxy, as in production)', function () {
    this.timeout(60000);
    let f: CliFakes;

    before(async () => {
        f = await startCliFakes({ proxy: true });
    });
    after(async () => {
        await f.close();
    });

    it('a key restricted to sandbox and production: true fails with BadEnvironmentKeyInToken; production: false passes', async () => {
        f.providers.apns.behaviour.keyEnvironment = 'sandbox';
        const wrong = await check(f.writeConfig('prod.yaml', fullConf(f, { apns: { ...f.providers.conf.apns, production: true } })));
        assert.equal(wrong.exitCode, 1);
        const [, connection, request] = rowsOf(wrong, 'apns');
        assert.match(connection.detail, /^api\.push\.apple\.com:443 \(production, through the proxy 127\.0\.0\.1:\d+\): TLS and HTTP\/2 up$/);
        assert.equal(request.status, 'fail', show(wrong));
        assert.match(request.detail, /the key \(key id FAKEKEY123\) is not enabled for the production environment that production: true sends to \(BadEnvironmentKeyInToken\): use a key enabled for production, or set production: false if the app's builds use sandbox/);
        const right = rowsOf(wrong, 'apns-two');
        assert.ok(right.every((r) => r.status === 'ok'), show(wrong));
        assert.match(right[2].detail, /^APNs \(sandbox\) accepted/);
        assert.ok(rowsOf(wrong, 'fcm').every((r) => r.status === 'ok'), 'FCM through the proxy too');
    });
});
