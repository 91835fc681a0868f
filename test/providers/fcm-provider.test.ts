import assert from 'node:assert/strict';
import { FcmProvider } from '../../src/providers/fcm/fcm-provider';
import { PushMessage } from '../../src/push/message';
import { TokenResult } from '../../src/push/provider';
import { ProviderFakes, startProviderFakes, FAKE_FCM_PROJECT } from '../fakes/provider-fakes';
import { TestLogger } from '../helpers/test-logger';
import { collect, fcmBatch, fcmFrom, outcomes, pinnedEchoBody } from './fcm-helpers';
import { configFor, newLogger } from './helpers';

describe('FCM provider: our HTTP v1 client against the fake FCM v1 + OAuth', function () {
    this.timeout(20000);
    let fakes: ProviderFakes;
    const open: FcmProvider[] = [];

    function provider(overrides: Record<string, unknown> = {}, logger: TestLogger = newLogger()): FcmProvider {
        const p = fcmFrom(configFor(fakes, overrides), logger);
        open.push(p);
        return p;
    }

    before(async () => {
        fakes = await startProviderFakes();
    });
    afterEach(async () => {
        await Promise.all(open.splice(0).map((p) => p.close()));
        fakes.fcm.reset();
        Object.assign(fakes.fcm.behaviour, { delayMs: 0, slowMs: 2000, retryAfterSeconds: 7, oauthStatus: undefined,
            retryAfterForm: undefined, failuresPerToken: undefined, refuseAccessTokens: undefined });
    });
    after(async () => {
        await fakes.close();
    });

    it('sends Echo\'s checkEchoV1 with the exact bytes firebase-admin sent, one request per token, after a checked OAuth exchange', async () => {
        const p = provider();
        const { results } = await collect(p, fcmBatch(['tok-a', 'tok-b']));
        assert.deepEqual(outcomes(results), { 'tok-a': 'delivered:ok', 'tok-b': 'delivered:ok' });
        assert.equal(fakes.fcm.received.length, 2);
        for (const r of fakes.fcm.received) {
            // The pinned expectation: body bytes captured from firebase-admin 13.10 before the rewrite.
            assert.equal(r.rawBody, pinnedEchoBody(r.token));
            assert.equal(r.validateOnly, false);
            assert.match(String(r.headers.authorization), /^Bearer ya29\.fake-/);
            assert.equal(r.headers['content-type'], 'application/json; charset=UTF-8');
            assert.equal(Number(r.headers['content-length']), Buffer.byteLength(r.rawBody));
            assert.equal(r.headers.host, 'fcm.googleapis.com');
            assert.equal(r.headers['user-agent'], 'push-notifications-test/1.0 (test@example.org)');
            assert.equal(r.headers.connection, 'keep-alive');
        }
        assert.deepEqual(fakes.fcm.received.map((r) => r.token).sort(), ['tok-a', 'tok-b']);
        assert.equal(fakes.fcm.counters.oauthExchanges, 1);
        const claims = fakes.fcm.assertions[0];
        assert.equal(claims.scope, 'https://www.googleapis.com/auth/firebase.messaging');
        assert.equal(claims.aud, `${fakes.fcm.url}/token`);
        assert.equal(claims.exp as number - (claims.iat as number), 3600);
    });

    it('dryRun sends validate_only: true after the message (the pinned bytes), and reports validated', async () => {
        const p = provider();
        const { results } = await collect(p, fcmBatch(['tok-dry', 'dead-dry'], { dryRun: true }));
        assert.deepEqual(outcomes(results), { 'tok-dry': 'delivered:validated', 'dead-dry': 'dead:UNREGISTERED' });
        assert.equal(fakes.fcm.counters.validateOnly, 2);
        for (const r of fakes.fcm.received) {
            assert.equal(r.rawBody, pinnedEchoBody(r.token, true));
        }
    });

    it('renders a rich PushMessage per the FCM rules (fcm.message deep-merged last)', async () => {
        const p = provider();
        const message: PushMessage = {
            type: 'matrix',
            alert: { title: 'T', body: 'B', clickAction: 'OPEN', tag: 'room1' },
            badge: 3,
            sound: 'default',
            priority: 'high',
            ttlSeconds: 90,
            data: { room: '!r:x', unread: 2, nested: { a: [1] } },
            fcm: { message: { android: { notification: { channel_id: 'c1' }, priority: 'normal' }, fcm_options: { analytics_label: 'l' } } }
        };
        const { results } = await collect(p, fcmBatch(['tok-rich'], { message }));
        assert.deepEqual(outcomes(results), { 'tok-rich': 'delivered:ok' });
        assert.deepEqual(JSON.parse(fakes.fcm.received[0].rawBody), {
            message: {
                token: 'tok-rich',
                android: {
                    priority: 'normal',
                    ttl: '90s',
                    notification: { title: 'T', body: 'B', click_action: 'OPEN', tag: 'room1', sound: 'default', channel_id: 'c1' }
                },
                apns: { payload: { aps: { alert: { title: 'T', body: 'B' }, badge: 3, sound: 'default' } } },
                data: { room: '!r:x', unread: '2', nested: '{"a":[1]}' },
                fcm_options: { analytics_label: 'l' }
            }
        });
    });

    it('reuses the access token and the keep-alive connections across batches', async () => {
        const p = provider();
        for (let i = 0; i < 3; i++) {
            await collect(p, fcmBatch([`t${i}-1`, `t${i}-2`, `t${i}-3`]));
        }
        assert.equal(fakes.fcm.counters.oauthExchanges, 1);
        assert.equal(fakes.fcm.counters.sends, 9);
        // 1 OAuth connection plus at most one per concurrent request of the first batch.
        assert.ok(fakes.fcm.counters.connections <= 4, `connections: ${fakes.fcm.counters.connections}`);
    });

    it('classifies every FCM answer (table rows end to end), Retry-After per response', async () => {
        const logger = newLogger();
        const p = provider({}, logger);
        fakes.fcm.behaviour.retryAfterSeconds = 9;
        const kinds = ['ok-1', 'dead-1', 'invalid-1', 'badpayload-1', 'transient-1', 'ratelimit-1', 'internal-1',
            'auth-1', 'sender-1', 'permission-1', 'notfound-1', 'gateway-1', 'teapot-1', 'html-1'];
        // Tokens longer than a fingerprint's 6 visible characters, so a leak would show.
        const tokens = kinds.map((k) => `${k}-secret-tail`);
        const { results } = await collect(p, fcmBatch(tokens));
        assert.deepEqual(Object.fromEntries(Object.entries(outcomes(results)).map(([t, o]) => [t.replace('-secret-tail', ''), o])), {
            'ok-1': 'delivered:ok',
            'dead-1': 'dead:UNREGISTERED',
            'invalid-1': 'dead:INVALID_ARGUMENT:token',
            'badpayload-1': 'config_error:INVALID_ARGUMENT',
            'transient-1': 'transient:UNAVAILABLE',
            'ratelimit-1': 'transient:QUOTA_EXCEEDED',
            'internal-1': 'transient:INTERNAL',
            'auth-1': 'config_error:THIRD_PARTY_AUTH_ERROR',
            'sender-1': 'config_error:SENDER_ID_MISMATCH',
            'permission-1': 'config_error:PERMISSION_DENIED',
            'notfound-1': 'config_error:NOT_FOUND',
            'gateway-1': 'transient:BAD_GATEWAY',
            'teapot-1': 'config_error:TEAPOT',
            'html-1': 'transient:http-502'
        });
        const by = Object.fromEntries(results.map((r) => [r.token.replace('-secret-tail', ''), r]));
        // Retry-After comes from each answer: the 503 and the 429 carried one, the others did not.
        for (const t of ['transient-1', 'ratelimit-1']) {
            assert.equal(by[t].retryAfterMs, 9000, t);
        }
        for (const t of ['internal-1', 'gateway-1', 'html-1']) {
            assert.equal(by[t].retryAfterMs, undefined, t);
        }
        // A config error carries what FCM said, for the one error line.
        assert.match(String(by['badpayload-1'].detail), /^FCM 400: Invalid value at 'message\.android\.ttl'/);
        assert.match(String(by['permission-1'].detail), /cloudmessaging\.messages\.create/);
        // One error line per kind of config error for the whole call, with count, detail and fingerprints.
        const errors = logger.at('error').map((e) => e.entry as Record<string, unknown>);
        assert.equal(errors.length, 6, JSON.stringify(errors));
        const third = errors.find((e) => e.reason === 'THIRD_PARTY_AUTH_ERROR')!;
        assert.equal(third.count, 1);
        assert.equal(third.provider, 'fcm');
        assert.equal(third.messageType, 'checkEchoV1');
        assert.match(String(third.detail), /Auth error from APNS or Web Push Service/);
        assert.equal((third.tokens as string[]).length, 1);
        for (const t of tokens) {
            assert.ok(!logger.text().includes(t), `a full token (${t}) was logged`);
        }
    });

    it('reads Retry-After in its HTTP-date form too', async () => {
        const p = provider();
        fakes.fcm.behaviour.retryAfterSeconds = 30;
        fakes.fcm.behaviour.retryAfterForm = 'http-date';
        const { results } = await collect(p, fcmBatch(['transient-d', 'ratelimit-d']));
        for (const r of results) {
            // The fake rounds the date up to a whole second (an HTTP-date's resolution).
            const sent = fakes.fcm.retryAfters.find((x) => x.token === r.token)!;
            assert.match(sent.header, /GMT$/);
            assert.ok(r.retryAfterMs !== undefined && r.retryAfterMs > 28000 && r.retryAfterMs <= 31000, `${r.token}: ${r.retryAfterMs}`);
        }
    });

    it('a data value that is not a string gets FCM\'s field violation: config_error, never dead', async () => {
        const p = provider();
        const message: PushMessage = { type: 'x', fcm: { message: { data: { n: 12 } } } };
        const { results } = await collect(p, fcmBatch(['tok-x'], { message }));
        assert.deepEqual(outcomes(results), { 'tok-x': 'config_error:INVALID_ARGUMENT' });
        assert.match(String(results[0].detail), /message\.data\[0\]\.value/);
    });

    it('reports each answer as it arrives, not when the batch ends', async () => {
        const p = provider();
        fakes.fcm.behaviour.slowMs = 1500;
        const seen: { token: string; at: number }[] = [];
        const started = Date.now();
        await p.send(fcmBatch(['slow-1', 'fast-1', 'fast-2']), (group) => {
            for (const r of group) {
                seen.push({ token: r.token, at: Date.now() - started });
            }
        });
        const at = Object.fromEntries(seen.map((s) => [s.token, s.at]));
        assert.ok(at['fast-1'] < 1000 && at['fast-2'] < 1000, JSON.stringify(at));
        assert.ok(at['slow-1'] >= 1400, JSON.stringify(at));
    });

    it('keeps at most max_sockets requests in flight, over every batch, and a slow request holds only its own slot', async () => {
        const p = provider({ fcm: { max_sockets: 3 } });
        fakes.fcm.behaviour.delayMs = 30;
        const a = Array.from({ length: 20 }, (_, i) => `wa-${i}`);
        const b = Array.from({ length: 20 }, (_, i) => `wb-${i}`);
        const [ra, rb] = await Promise.all([collect(p, fcmBatch(a)), collect(p, fcmBatch(b))]);
        assert.equal([...ra.results, ...rb.results].filter((r) => r.outcome === 'delivered').length, 40);
        assert.equal(fakes.fcm.counters.maxInFlightSends, 3);
        assert.ok(ra.groups > 1, 'results came in several groups, as they arrived');

        // One hung request keeps one of the three slots; the other tokens flow through the other two.
        fakes.fcm.reset();
        fakes.fcm.behaviour.delayMs = 0;
        const fast = Array.from({ length: 30 }, (_, i) => `f-${i}`);
        const done: string[] = [];
        const sending = p.send(fcmBatch(['hang-1', ...fast]), (group) => done.push(...group.map((r) => r.token)));
        const end = Date.now() + 5000;
        while (done.length < 30 && Date.now() < end) {
            await new Promise((r) => setTimeout(r, 10));
        }
        assert.deepEqual([...done].sort(), [...fast].sort(), 'every other token was answered while hang-1 waited');
        assert.equal(fakes.fcm.inFlightSends, 1);
        await p.close();
        await sending;
    });

    it('a 401 on a stale access token (revoked on Google\'s side): one new exchange, each token retried at once, delivered', async () => {
        const logger = newLogger();
        const p = provider({}, logger);
        const tokens = ['r-1', 'r-2', 'r-3', 'r-4', 'r-5'];
        await collect(p, fcmBatch(tokens));
        fakes.fcm.revokeAccessTokens();
        const { results } = await collect(p, fcmBatch(tokens));
        assert.deepEqual(Object.values(outcomes(results)), tokens.map(() => 'delivered:ok'));
        assert.equal(fakes.fcm.counters.oauthExchanges, 2, 'the concurrent 401s shared one exchange');
        assert.equal(fakes.fcm.counters.sends, 15);
        for (const t of tokens) {
            // requestsFor counts requests past the fake's access-token check: the 401s are not among them.
            assert.equal(fakes.fcm.requestsFor(t), 2);
        }
        const info = logger.at('info').map((e) => e.entry as Record<string, unknown>).filter((e) => /access token/.test(String(e.msg)));
        assert.equal(info.length, 1);
        assert.equal(info[0].count, 5);
        assert.equal(logger.at('error').length, 0);
    });

    it('a 401 again with a fresh access token is a config_error (UNAUTHENTICATED), logged once', async () => {
        const logger = newLogger();
        const p = provider({}, logger);
        fakes.fcm.behaviour.refuseAccessTokens = true;
        const { results } = await collect(p, fcmBatch(['u-1', 'u-2', 'u-3']));
        assert.deepEqual(Object.values(outcomes(results)), ['config_error:UNAUTHENTICATED', 'config_error:UNAUTHENTICATED', 'config_error:UNAUTHENTICATED']);
        assert.equal(fakes.fcm.counters.sends, 6, 'each token: the first try and one retry');
        assert.equal(fakes.fcm.counters.oauthExchanges, 2);
        const errors = logger.at('error').map((e) => e.entry as Record<string, unknown>);
        assert.equal(errors.length, 1);
        assert.equal(errors[0].reason, 'UNAUTHENTICATED');
        assert.equal(errors[0].count, 3);
        assert.match(String(errors[0].detail), /invalid authentication credentials/);
    });

    it('a refused OAuth exchange is config_error oauth-rejected; an unavailable one transient oauth-unavailable; nothing is sent', async () => {
        for (const [status, expected] of [[400, 'config_error:oauth-rejected'], [401, 'config_error:oauth-rejected'],
            [503, 'transient:oauth-unavailable'], [429, 'transient:oauth-unavailable']] as const) {
            const logger = newLogger();
            fakes.fcm.behaviour.oauthStatus = status;
            const { results } = await collect(provider({}, logger), fcmBatch(['a', 'b']));
            assert.deepEqual(Object.values(outcomes(results)), [expected, expected], String(status));
            const lines = logger.entries.filter((e) => e.level === 'error' || e.level === 'warn');
            assert.equal(lines.length, 1, `${status}: one line for the call`);
            const line = lines[0].entry as Record<string, unknown>;
            assert.equal(line.count, 2);
            assert.match(String(line.detail), new RegExp(`answered ${status}: forced`));
            assert.equal(line.tokenUri, `${fakes.fcm.url}/token`);
        }
        assert.equal(fakes.fcm.counters.sends, 0);
    });

    it('a token that cannot be an FCM token is dead invalid_token, never sent; its neighbours are', async () => {
        const logger = newLogger();
        const p = provider({}, logger);
        const bad = ['has space', 'trailing-newline\n', 'tab\there', '', 'é-not-ascii', 'x'.repeat(4097)];
        const { results } = await collect(p, fcmBatch(['good-1', ...bad, 'good-2']));
        const o = outcomes(results);
        assert.equal(o['good-1'], 'delivered:ok');
        assert.equal(o['good-2'], 'delivered:ok');
        for (const t of bad) {
            assert.equal(o[t], 'dead:invalid_token', JSON.stringify(t));
        }
        assert.deepEqual(fakes.fcm.received.map((r) => r.token).sort(), ['good-1', 'good-2']);
        const warn = logger.at('warn').map((e) => e.entry as Record<string, unknown>);
        assert.equal(warn.length, 1);
        assert.equal(warn[0].count, bad.length);
    });

    it('a project our credentials do not match is SENDER_ID_MISMATCH (config_error)', async () => {
        const p = provider({ fcm: { project_id: 'other-project' } });
        const { results } = await collect(p, fcmBatch(['a']));
        assert.deepEqual(outcomes(results), { a: 'config_error:SENDER_ID_MISMATCH' });
        assert.notEqual(FAKE_FCM_PROJECT, 'other-project');
    });

    it('an unreachable FCM makes every token transient connection-error', async () => {
        const logger = newLogger();
        const p = provider({ fcm: { fcm_endpoint: 'https://127.0.0.1:1' } }, logger);
        const { results } = await collect(p, fcmBatch(['a', 'b']));
        assert.deepEqual(outcomes(results), { a: 'transient:connection-error', b: 'transient:connection-error' });
        assert.equal(results[0].detail, 'ECONNREFUSED');
        const warn = logger.at('warn').map((e) => e.entry as Record<string, unknown>);
        assert.equal(warn.length, 1);
        assert.equal(warn[0].count, 2);
    });

    it('a connection reset without an answer is transient connection-error; the neighbours are delivered', async () => {
        const p = provider();
        const { results } = await collect(p, fcmBatch(['reset-1', 'ok-2']));
        assert.deepEqual(outcomes(results), { 'reset-1': 'transient:connection-error', 'ok-2': 'delivered:ok' });
        // Sent again at once only when it went out on a reused keep-alive socket (Node's reusedSocket race).
        assert.ok(fakes.fcm.requestsFor('reset-1') <= 2);
    });

    it('after close(), tokens are transient closed, and close() ends requests in flight', async () => {
        const p = provider();
        const sending = collect(p, fcmBatch(['hang-2', 'hang-3']));
        const end = Date.now() + 5000;
        while (fakes.fcm.inFlightSends < 2 && Date.now() < end) {
            await new Promise((r) => setTimeout(r, 10));
        }
        const started = Date.now();
        await p.close();
        const { results } = await sending;
        assert.ok(Date.now() - started < 1000);
        assert.deepEqual(outcomes(results), { 'hang-2': 'transient:closed', 'hang-3': 'transient:closed' });
        const after = await collect(p, fcmBatch(['late']));
        assert.deepEqual(outcomes(after.results), { late: 'transient:closed' });
    });

    it('sends a batch of any size (600 tokens), each reported exactly once', async () => {
        const p = provider();
        const tokens = Array.from({ length: 600 }, (_, i) => `bulk-${i}`);
        const { results, groups } = await collect(p, fcmBatch(tokens));
        assert.equal(results.filter((r: TokenResult) => r.outcome === 'delivered').length, 600);
        assert.equal(fakes.fcm.counters.sends, 600);
        assert.ok(groups > 1 && groups < 600, `groups: ${groups}`);
    });
});
