import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { metricsText, metricValue } from '../helpers/metrics';
import { label, MW_DELETIONS, messages, push, Rig, settled, startRig, tokens, until } from './harness';

/**
 * "Secrets and tokens never leak", over the logs of a FULL run: FCM with a real OAuth
 * JWT-bearer exchange, APNs with ES256 provider JWTs, MediaWiki login + CSRF + deletions of
 * dead tokens, and every failure path that logs about tokens (config errors, give-ups,
 * resets, timeouts, the guard). The TestLogger keeps every level (trace and debug included)
 * and queueing.verbose is on. Then: no full device token, no distinguishable piece of one,
 * no password, cookie, login/CSRF token, access token, assertion, provider JWT or private
 * key line appears in any log entry or in the Prometheus text. (The HTTP surface itself,
 * /_info, /?spec and problem bodies, is test/http/leaks.test.ts.)
 */
const WIKI_USER = 'PushSubscriptionManager@leakscan';
const WIKI_PASSWORD = 'wiki-bot-password-LEAKSCAN-5d1e9a0c77b2';

describe('faults: a full run leaks no secret and no device token into logs or metrics', function () {
    this.timeout(30_000);
    let rig: Rig;
    const sent: { apns: string[]; fcm: string[]; webpush: string[] } = { apns: [], fcm: [], webpush: [] };
    /** Every token the fakes or our syntax check call dead: the only ones that may be deleted. */
    const dead = new Set<string>();
    const deadPrefixes = ['dead-', 'bad-', 'invalid-', 'expired-'];

    before(async () => {
        rig = await startRig({
            wikiAccount: { user: WIKI_USER, password: WIKI_PASSWORD },
            // slow- answers (2.5 s) outlast the request deadline (1 s): the timeout path runs. The
            // deadline is generous so that a busy machine does not time out the other answers too.
            apns: { requestTimeoutMs: 1000 },
            retry: { maxAttempts: 2 },
            conf: { queueing: { flushTimeoutMs: 20, maxSize: 500, maxQueuedTokens: 5000, verbose: true } }
        });
        rig.fakes.apns.behaviour.slowMs = 2500;
        rig.fakes.fcm.behaviour.retryAfterSeconds = 0;
        rig.fakes.apns.behaviour.retryAfterSeconds = 0;
        for (const p of ['ok-', 'dead-', 'expired-', 'bad-', 'topic-', 'transient-', 'ratelimit-', 'internal-', 'auth-', 'slow-', 'reset-']) {
            sent.apns.push(...tokens('apns', p, 3));
        }
        for (const p of ['ok-', 'dead-', 'invalid-', 'badpayload-', 'transient-', 'ratelimit-', 'internal-', 'auth-', 'sender-',
            'gateway-', 'teapot-', 'html-', 'reset-']) {
            sent.fcm.push(...tokens('fcm', p, 3));
        }
        // Tokens that cannot be tokens (issue 11 §1): dead invalid_token, logged, deleted.
        const malformed = { apns: `not-a-token-${randomBytes(12).toString('hex')}!`, fcm: `malformed token ${randomBytes(12).toString('hex')}` };
        sent.apns.push(malformed.apns);
        sent.fcm.push(malformed.fcm);
        // Web Push: delivered, dead, refused VAPID (a config error), and not a subscription at all.
        const subscriptions = ['', '', 'dead-', 'dead-', 'auth-', 'auth-'].map((p) => rig.fakes.webpush.createSubscription(p));
        sent.webpush.push(...subscriptions.map((s) => s.token), `not json ${randomBytes(12).toString('hex')}`);
        for (const t of [...sent.apns, ...sent.fcm]) {
            if (deadPrefixes.some((p) => label(t).startsWith(p))) {
                dead.add(t);
            }
        }
        for (const t of [malformed.apns, malformed.fcm, sent.webpush[6], subscriptions[2].token, subscriptions[3].token]) {
            dead.add(t);
        }
        await push(rig, 'apns', sent.apns);
        await push(rig, 'fcm', sent.fcm);
        await push(rig, 'webpush', sent.webpush);
        await push(rig, 'fcm', tokens('fcm', 'ok-', 2), { dryRun: true });
        await settled('apns', sent.apns.length);
        await settled('fcm', sent.fcm.length + 2);
        await settled('webpush', sent.webpush.length);
        // Session lost and found again: a second login, new cookies and CSRF token, on the record too.
        rig.wiki.expireSessions();
        const late = tokens('apns', 'dead-', 2);
        sent.apns.push(...late);
        late.forEach((t) => dead.add(t));
        await push(rig, 'apns', late);
        await until('every dead token deleted on the wiki', async () =>
            await metricValue(MW_DELETIONS, { result: 'succeeded' }) >= dead.size);
        await rig.svc.close(); // shutdown logs too
    });
    after(() => rig.close());

    /** Every secret the run produced, from what the fakes saw on the wire. */
    function secrets(): Map<string, string> {
        const out = new Map<string, string>();
        const add = (what: string, value: string | undefined): void => {
            if (value && value.length >= 12) {
                out.set(value, what);
            }
        };
        add('wiki password', WIKI_PASSWORD);
        for (const r of rig.wiki.requests) {
            for (const c of String(r.headers.cookie ?? '').split(';')) {
                add('wiki session cookie', c.split('=')[1]?.trim());
            }
            add('wiki login token', r.params.lgtoken?.replace('+\\', ''));
            add('wiki CSRF token', r.params.token?.replace('+\\', ''));
            add('wiki password (as sent)', r.params.lgpassword);
        }
        for (const t of rig.fakes.fcm.issuedAccessTokens) {
            add('OAuth access token', t);
        }
        for (const a of rig.fakes.fcm.rawAssertions) {
            add('OAuth assertion', a);
            add('OAuth assertion signature', a.split('.')[2]);
        }
        for (const r of rig.fakes.apns.received) {
            const jwt = String(r.headers.authorization ?? '').replace(/^bearer /i, '');
            add('APNs provider JWT', jwt);
            add('APNs JWT signature', jwt.split('.')[2]);
        }
        const sa = JSON.parse(readFileSync(rig.fakes.files.serviceAccount, 'utf8')) as { private_key: string };
        for (const [what, pem] of [['service-account key', sa.private_key], ['APNs .p8 key', readFileSync(rig.fakes.files.apnsKey, 'utf8')]]) {
            for (const line of pem.split('\n')) {
                if (!line.startsWith('-----')) {
                    add(`${what} PEM line`, line.trim());
                }
            }
        }
        for (const t of [...sent.apns, ...sent.fcm, ...sent.webpush]) {
            add('device token', t);
            // A piece no fingerprint (first 6 chars + hash) could contain.
            const at = t.indexOf('-') >= 0 ? t.indexOf('-') + 4 : 8;
            add('device token fragment', t.slice(at, at + 20));
        }
        // Web Push: the subscription's capability URL, its keys, and our VAPID JWTs and key.
        for (const t of sent.webpush) {
            try {
                const sub = JSON.parse(t) as { endpoint: string; keys: { p256dh: string; auth: string } };
                add('Web Push endpoint', sub.endpoint);
                add('Web Push subscription id', sub.endpoint.slice(-36)); // the UUID after its prefix
                add('Web Push p256dh', sub.keys.p256dh);
                add('Web Push auth secret', sub.keys.auth);
            } catch {
                // the malformed one: its full text and fragment are added above
            }
        }
        for (const r of rig.fakes.webpush.received) {
            add('VAPID JWT', r.vapid?.jwt);
            add('VAPID JWT signature', r.vapid?.jwt.split('.')[2]);
        }
        add('VAPID private key', (rig.fakes.conf.webpush.vapid as { privateKey: string }).privateKey);
        return out;
    }

    it('the run really went through every path (so the scan means something)', async () => {
        assert.ok(rig.fakes.fcm.issuedAccessTokens.length >= 1, 'OAuth exchange happened');
        assert.ok(rig.fakes.apns.received.length >= sent.apns.length, 'APNs got JWT-signed requests');
        assert.ok(rig.wiki.logins.filter((l) => l.result === 'Success').length >= 1, 'logged in to the wiki');
        assert.deepEqual([...rig.wiki.deletedTokens].sort(), [...dead].sort(), 'exactly the dead tokens deleted');
        assert.ok(rig.fakes.webpush.received.length >= 5, 'Web Push got VAPID-signed requests');
        assert.ok(await messages('webpush', 'config_error') > 0, 'the Web Push config-error path ran');
        assert.ok(await messages('apns', 'gave_up') > 0 && await messages('fcm', 'gave_up') > 0, 'give-up paths logged');
        assert.ok(await messages('apns', 'config_error') > 0 && await messages('fcm', 'config_error') > 0, 'config-error paths logged');
        const levels = new Set(rig.svc.logger.entries.map((e) => e.level));
        assert.ok(levels.has('debug') && levels.has('error') && levels.has('warn'), `levels logged: ${[...levels].join(',')}`);
        assert.ok(secrets().size > 150);
    });

    it('no log entry contains any of them', () => {
        const logged = rig.svc.logger.text();
        const leaks: string[] = [];
        for (const [value, what] of secrets()) {
            if (logged.includes(value)) {
                leaks.push(`${what}: ${value.slice(0, 10)}…`);
            }
        }
        assert.deepEqual(leaks, []);
        assert.ok(!/bearer [A-Za-z0-9._-]{20,}/i.test(logged), 'no Authorization header value');
    });

    it('the Prometheus text contains none of them', async () => {
        const text = await metricsText();
        assert.ok(text.includes('push_notifications_provider_answers_total'), 'the metrics are there');
        for (const [value, what] of secrets()) {
            assert.ok(!text.includes(value), `metrics contain a ${what}`);
        }
    });
});
