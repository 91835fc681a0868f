import assert from 'node:assert/strict';
import { createProviders } from '../../src/providers/create-providers';
import { FcmProvider, FCM_INTERNAL_RETRY } from '../../src/providers/fcm/fcm-provider';
import { PushProvider } from '../../src/providers/push-provider';
import { ProviderFakes, startProviderFakes, FAKE_FCM_PROJECT } from '../fakes/provider-fakes';
import { batch, byToken, configFor, instrumentPacer, newLogger } from './helpers';

describe('FCM provider (real firebase-admin against the fake FCM v1 + OAuth)', function () {
    this.timeout(20000);
    let fakes: ProviderFakes;
    const open: PushProvider[] = [];

    function provider(overrides: Record<string, unknown> = {}, logger = newLogger()): FcmProvider {
        const p = createProviders({ config: configFor(fakes, overrides), logger }).fcm;
        open.push(p);
        assert.ok(p instanceof FcmProvider);
        return p;
    }

    before(async () => {
        fakes = await startProviderFakes();
    });
    afterEach(async () => {
        await Promise.all(open.splice(0).map((p) => p.close()));
        fakes.fcm.reset();
        fakes.fcm.behaviour.oauthStatus = undefined;
    });
    after(async () => {
        await fakes.close();
    });

    it('sends data.type and android.collapse_key, one request per token, after a checked OAuth exchange', async () => {
        const p = provider();
        const results = await p.send(batch('fcm', ['tok-a', 'tok-b']));
        assert.deepEqual(byToken(results), { 'tok-a': 'delivered:ok', 'tok-b': 'delivered:ok' });
        assert.equal(fakes.fcm.received.length, 2);
        for (const r of fakes.fcm.received) {
            assert.deepEqual(r.message.data, { type: 'checkEchoV1' });
            assert.deepEqual(r.message.android, { collapse_key: 'checkEchoV1' });
            assert.equal(r.validateOnly, false);
            assert.match(String(r.headers.authorization), /^Bearer ya29\.fake-/);
        }
        assert.deepEqual(fakes.fcm.received.map((r) => r.token).sort(), ['tok-a', 'tok-b']);
        assert.equal(fakes.fcm.counters.oauthExchanges, 1);
        const claims = fakes.fcm.assertions[0];
        assert.equal(claims.scope, 'https://www.googleapis.com/auth/firebase.messaging');
        assert.equal(claims.aud, `${fakes.fcm.url}/token`);
    });

    it('reuses the access token and the keep-alive connections across batches', async () => {
        const p = provider();
        for (let i = 0; i < 3; i++) {
            await p.send(batch('fcm', [`t${i}-1`, `t${i}-2`, `t${i}-3`]));
        }
        assert.equal(fakes.fcm.counters.oauthExchanges, 1);
        assert.equal(fakes.fcm.counters.sends, 9);
        // 1 OAuth connection plus at most one per concurrent request of the first batch.
        assert.ok(fakes.fcm.counters.connections <= 4, `connections: ${fakes.fcm.counters.connections}`);
    });

    it('calls FCM with validate_only on dryRun', async () => {
        const p = provider();
        const results = await p.send(batch('fcm', ['tok-dry', 'dead-dry'], { dryRun: true }));
        assert.deepEqual(byToken(results), { 'tok-dry': 'delivered:validated', 'dead-dry': 'dead:messaging/registration-token-not-registered' });
        assert.equal(fakes.fcm.counters.validateOnly, 2);
        assert.ok(fakes.fcm.received.every((r) => r.validateOnly));
    });

    it('classifies every FCM answer through the real client (table rows end to end)', async () => {
        const logger = newLogger();
        const p = provider({}, logger);
        fakes.fcm.behaviour.retryAfterSeconds = 9;
        const tokens = ['ok-1', 'dead-1', 'invalid-1', 'badpayload-1', 'transient-1', 'ratelimit-1', 'internal-1',
            'auth-1', 'sender-1', 'gateway-1', 'teapot-1', 'html-1'];
        const results = await p.send(batch('fcm', tokens));
        assert.deepEqual(byToken(results), {
            'ok-1': 'delivered:ok',
            'dead-1': 'dead:messaging/registration-token-not-registered',
            'invalid-1': 'dead:messaging/invalid-argument:token',
            'badpayload-1': 'config_error:messaging/invalid-argument',
            'transient-1': 'transient:messaging/server-unavailable',
            'ratelimit-1': 'transient:messaging/message-rate-exceeded',
            'internal-1': 'transient:messaging/internal-error',
            'auth-1': 'config_error:messaging/third-party-auth-error',
            'sender-1': 'config_error:messaging/mismatched-credential',
            'gateway-1': 'transient:messaging/unknown-error',
            'teapot-1': 'config_error:messaging/unknown-error',
            'html-1': 'transient:messaging/unknown-error'
        });
        // Retry-After (seen on the 503/429) reaches the transient results.
        for (const r of results.filter((x) => x.outcome === 'transient')) {
            assert.ok(r.retryAfterMs !== undefined && r.retryAfterMs > 7000 && r.retryAfterMs <= 9000, `${r.token}: ${r.retryAfterMs}`);
        }
        // config errors are logged at error level, with fingerprints, never full tokens.
        assert.ok(logger.at('error').length >= 4);
        assert.ok(!logger.text().includes('badpayload-1'));
    });

    it('does not let firebase-admin retry a 503 by itself (one request per attempt)', async () => {
        const p = provider();
        assert.deepEqual((p.internalRetryConfig() as { maxRetries: number }).maxRetries, FCM_INTERNAL_RETRY.maxRetries);
        const started = Date.now();
        const results = await p.send(batch('fcm', ['transient-once']));
        assert.equal(results[0].outcome, 'transient');
        assert.equal(fakes.fcm.counters.sends, 1);
        assert.ok(Date.now() - started < 2000);
    });

    it('a connection reset is retried once by the library, then transient', async () => {
        const p = provider();
        const results = await p.send(batch('fcm', ['reset-1', 'ok-2']));
        assert.deepEqual(byToken(results), { 'reset-1': 'transient:app/network-error', 'ok-2': 'delivered:ok' });
        assert.equal(fakes.fcm.received.filter((r) => r.token === 'reset-1').length, 2);
    });

    it('an unreachable FCM makes every token transient', async () => {
        const p = provider({ fcm: { fcm_endpoint: 'https://127.0.0.1:1' } });
        const results = await p.send(batch('fcm', ['a', 'b']));
        assert.deepEqual(results.map((r) => r.outcome), ['transient', 'transient']);
    });

    it('a rejected sendEachForMulticast makes every token transient', async () => {
        const p = provider();
        (p as any).messaging.sendEachForMulticast = () => Promise.reject(Object.assign(new Error('session gone'), { code: 'messaging/app/network-error' }));
        const results = await p.send(batch('fcm', ['a', 'b']));
        assert.deepEqual(byToken(results), { a: 'transient:messaging/app/network-error', b: 'transient:messaging/app/network-error' });
    });

    it('a refused OAuth exchange is a config_error, an unavailable one is transient', async () => {
        fakes.fcm.behaviour.oauthStatus = 400;
        const refused = await provider().send(batch('fcm', ['a']));
        assert.deepEqual(byToken(refused), { a: 'config_error:oauth-rejected' });
        fakes.fcm.behaviour.oauthStatus = 503;
        const down = await provider().send(batch('fcm', ['b']));
        assert.deepEqual(byToken(down), { b: 'transient:oauth-unavailable' });
        assert.equal(fakes.fcm.counters.sends, 0);
    });

    it('a token for another project is refused as mismatched-credential (config_error)', async () => {
        const p = provider({ fcm: { project_id: 'other-project' } });
        const results = await p.send(batch('fcm', ['a']));
        assert.deepEqual(byToken(results), { a: 'config_error:messaging/mismatched-credential' });
        assert.notEqual(FAKE_FCM_PROJECT, 'other-project');
    });

    it('splits more than 500 tokens into several calls', async () => {
        const p = provider();
        const tokens = Array.from({ length: 501 }, (_, i) => `many-${i}`);
        const results = await p.send(batch('fcm', tokens));
        assert.equal(results.filter((r) => r.outcome === 'delivered').length, 501);
    });

    it('a message firebase-admin refuses before sending is a config_error for every token', async () => {
        const p = provider();
        const results = await p.send(batch('fcm', ['a'], { messageType: 42 as unknown as string }));
        assert.deepEqual(byToken(results), { a: 'config_error:messaging/invalid-payload' });
        assert.equal(fakes.fcm.counters.sends, 0);
    });

    it('sends 500 tokens in one call and closes cleanly', async () => {
        const p = provider();
        const tokens = Array.from({ length: 500 }, (_, i) => `bulk-${i}`);
        const results = await p.send(batch('fcm', tokens));
        assert.equal(results.filter((r) => r.outcome === 'delivered').length, 500);
        assert.deepEqual(results.map((r) => r.token), tokens);
    });

    it('hands firebase-admin sub-chunks, yielding to the event loop before each, within the in-flight window', async () => {
        const p = provider();
        const seen = instrumentPacer(p, 7, 14);
        const tokens = Array.from({ length: 50 }, (_, i) => `chunked-${i}`);
        const results = await p.send(batch('fcm', tokens));
        assert.equal(seen.yields, 8, 'one yield per sub-chunk of 7');
        assert.ok(seen.maxInFlight <= 14, `in flight ${seen.maxInFlight}`);
        assert.deepEqual(results.map((r) => `${r.token}:${r.outcome}`), tokens.map((t) => `${t}:delivered`));
        assert.equal(fakes.fcm.counters.sends, 50);
    });
});
