import assert from 'node:assert/strict';
import { runSend, SendReport } from '../../src/cli/send';
import { apnsToken } from '../fakes/apns-server';
import { CliFakes, fullConf, runNode, startCliFakes } from './helpers';

function line(report: SendReport, label: string): string {
    return report.lines.find(([l]) => l === label)?.[1] ?? '';
}

describe('npm run send (src/cli/send.ts) against the fakes', function () {
    this.timeout(60000);
    let f: CliFakes;
    let file: string;

    before(async () => {
        f = await startCliFakes();
        file = f.writeConfig('send.yaml', fullConf(f, {
            message_types: ['checkEchoV1', { name: 'wakeUp', delivery: 'background' }],
            delivery: { retry: { maxAttempts: 5, baseDelayMs: 1000, maxDelayMs: 60000, maxAgeMs: 600000 } }
        }));
    });
    after(async () => {
        await f.close();
    });

    const send = (provider: string, token: string, extra: { type?: string; topic?: string; dryRun?: boolean } = {}) =>
        runSend({ configFile: file, provider, token, env: {}, ...extra });

    it('APNs, delivered: Echo\'s checkEchoV1 bytes reach the device; exit 0', async () => {
        f.providers.apns.reset();
        const r = await send('apns', apnsToken('ok-1'));
        assert.equal(r.exitCode, 0);
        assert.equal(line(r, 'answer'), 'delivered ok');
        assert.equal(line(r, 'service'), 'delivered: the push service took the message; nothing more to do');
        assert.equal(line(r, 'provider'), 'apns (apns)');
        assert.equal(line(r, 'message'), 'checkEchoV1');
        assert.deepEqual(f.providers.apns.received.map((n) => [n.label, n.rawBody, n.headers['apns-topic']]), [['ok-1',
            '{"data":{"type":"checkEchoV1"},"aps":{"alert":"checkEchoV1","mutable-content":1,"thread-id":"checkEchoV1"}}', 'org.wikimedia.wikipedia']]);
        assert.ok(!r.lines.some(([, text]) => text.includes(apnsToken('ok-1'))), 'only a fingerprint of the token is printed');
    });

    it('APNs, dead: Unregistered, the service would delete the subscription; exit 3', async () => {
        const r = await send('apns', apnsToken('dead-1'));
        assert.equal(r.exitCode, 3);
        assert.equal(line(r, 'answer'), 'dead Unregistered');
        assert.match(line(r, 'service'), /^dead: the push service says the token is gone; the service would delete the subscription \(Echo: on the wiki, through the mass-deletion guard/);
    });

    it('APNs, configuration error: InvalidProviderToken, never retried nor deleted; exit 1', async () => {
        const r = await send('apns-two', apnsToken('auth-1'));
        assert.equal(r.exitCode, 1);
        assert.equal(line(r, 'answer'), 'config_error InvalidProviderToken: APNs 403 InvalidProviderToken (topic org.wikimedia.wikipedia)');
        assert.equal(line(r, 'service'), 'configuration error: logged at error level, not retried, never deleted; fix the configuration');
    });

    it('APNs, a token that is not hex: dead invalid_token, never sent', async () => {
        f.providers.apns.reset();
        const r = await send('apns', 'not-a-device-token');
        assert.equal(r.exitCode, 3);
        assert.equal(line(r, 'answer'), 'dead invalid_token');
        assert.match(line(r, 'service'), /it cannot be a apns token, so it was never sent/);
        assert.equal(f.providers.apns.counters.requests, 0);
    });

    it('APNs, --type and --topic: a configured background type to another topic; --dry-run sends nothing', async () => {
        f.providers.apns.reset();
        const r = await send('apns', apnsToken('ok-2'), { type: 'wakeUp', topic: 'org.wikimedia.other' });
        assert.equal(r.exitCode, 0);
        assert.deepEqual(f.providers.apns.received.map((n) => [n.headers['apns-topic'], n.headers['apns-push-type'], n.rawBody]),
            [['org.wikimedia.other', 'background', '{"data":{"type":"wakeUp"},"aps":{"content-available":1}}']]);
        const dry = await send('apns', apnsToken('ok-3'), { dryRun: true });
        assert.equal(line(dry, 'answer'), 'delivered dry_run');
        assert.equal(line(dry, 'service'), 'nothing was sent: a dry run (APNs has no validate-only mode)');
        assert.equal(f.providers.apns.received.length, 1);
    });

    it('FCM: dead (UNREGISTERED), transient with its Retry-After (exit 4), and a dry run is validate_only', async () => {
        const dead = await send('fcm', 'dead-1');
        assert.equal(dead.exitCode, 3);
        assert.equal(line(dead, 'answer'), 'dead UNREGISTERED');
        const transient = await send('fcm', 'transient-1');
        assert.equal(transient.exitCode, 4);
        assert.equal(line(transient, 'answer'), 'transient UNAVAILABLE, Retry-After 7 s');
        assert.equal(line(transient, 'service'),
            'transient: retried no sooner than the 7 s Retry-After asks, with backoff from 1000 ms to 60000 ms, up to 5 attempts in all within 600 s; never deleted');
        f.providers.fcm.reset();
        const dry = await send('fcm', 'ok-1', { dryRun: true });
        assert.equal(dry.exitCode, 0);
        assert.equal(line(dry, 'service'), 'FCM validated the message for this token (validate_only): nothing was delivered');
        assert.deepEqual(f.providers.fcm.received.map((m) => [m.token, m.validateOnly, m.rawBody]),
            [['ok-1', true, '{"message":{"token":"ok-1","android":{"collapse_key":"checkEchoV1"},"data":{"type":"checkEchoV1"}},"validate_only":true}']]);
        const config = await send('fcm', 'sender-1');
        assert.equal(config.exitCode, 1);
        assert.match(line(config, 'answer'), /^config_error SENDER_ID_MISMATCH: FCM 403: SenderId mismatch$/);
    });

    it('Web Push: a subscription is delivered; an unsubscribed one is dead', async () => {
        const ok = await send('webpush', f.providers.webpush.createSubscription().token);
        assert.equal(ok.exitCode, 0, ok.lines.join('\n'));
        const gone = await send('webpush', f.providers.webpush.createSubscription('gone-').token);
        assert.equal(gone.exitCode, 3);
        assert.match(line(gone, 'answer'), /^dead /);
    });

    it('an instance without credentials: config_error NotConfigured, with what to set', async () => {
        const bare = f.writeConfig('bare.yaml', { user_agent: 'test', mediawiki: { mock: true } });
        const r = await runSend({ configFile: bare, provider: 'fcm', token: 'ok-1', env: {} });
        assert.equal(r.exitCode, 1);
        assert.equal(line(r, 'note'), 'fcm is not configured (set service_account (or GOOGLE_APPLICATION_CREDENTIALS))');
        assert.equal(line(r, 'answer'), 'config_error NotConfigured');
    });

    it('an unknown provider, an unknown type: usage errors naming what there is', async () => {
        await assert.rejects(send('nope', 'x'), /no provider instance "nope" in .* \(there are: apns, fcm, webpush, apns-two, matrix\/web\)/);
        await assert.rejects(send('fcm', 'x', { type: 'other' }), /--type other is not one of the config's message_types \(checkEchoV1, wakeUp\)/);
    });

    it('as a real process (node dist/send.js): the answer, what the service would do, and the exit code', async () => {
        const token = apnsToken('dead-2');
        const dead = await runNode('send.js', ['-c', file, '--provider', 'apns', '--token', token]);
        assert.equal(dead.code, 3, dead.stdout + dead.stderr);
        const lines = dead.stdout.trim().split('\n');
        assert.deepEqual(lines.map((l) => l.split(/\s+/)[0]), ['provider', 'message', 'token', 'answer', 'service']);
        assert.equal(lines[3], 'answer    dead Unregistered');
        assert.ok(!dead.stdout.includes(token));
        const ok = await runNode('send.js', ['-c', file, '--provider', 'fcm', '--token', 'ok-7', '--dry-run']);
        assert.equal(ok.code, 0, ok.stdout + ok.stderr);
        const usage = await runNode('send.js', ['-c', file, '--provider', 'fcm']);
        assert.equal(usage.code, 2);
        assert.match(usage.stderr, /^--token required/);
    });
});
