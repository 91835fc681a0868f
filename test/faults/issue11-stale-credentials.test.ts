import assert from 'node:assert/strict';
import { metricValue } from '../helpers/metrics';
import { ANSWERS, checkInvariants, FINISHED, messages, push, RETRIES, Rig, settled, sleep, startRig, tokens } from './harness';

/**
 * Issue 11 §2, end to end through the real service against the fakes: a provider credential
 * that went stale or was revoked on the provider's side is refreshed and the tokens are
 * retried AT ONCE, inside the provider call (no queue retry, no config error, nothing logged
 * at error level); only a refusal of a FRESH credential is a configuration error (given up,
 * never deleted, never retried through the queue).
 * - APNs: 403 ExpiredProviderToken (the fake refuses its first JWT, or every JWT);
 * - FCM: 401 UNAUTHENTICATED (the fake forgets every access token it issued, or refuses all);
 * - Web Push: 401 to a VAPID JWT first seen too long ago (or to every JWT).
 */
describe('issue 11 §2: stale provider credentials are refreshed and retried at once', function () {
    this.timeout(30_000);
    let rig: Rig | undefined;
    afterEach(async () => {
        await rig?.close();
        rig = undefined;
    });

    /** What must hold after a stale credential was refreshed: delivered, no retry through the queue, no error line. */
    async function assertRefreshedInCall(r: Rig, provider: 'apns' | 'fcm' | 'webpush', n: number): Promise<void> {
        assert.equal(await messages(provider, 'delivered'), n, `${provider}: all delivered`);
        assert.equal(await metricValue(ANSWERS, { provider, outcome: 'config_error' }), 0, `${provider}: not a config error`);
        assert.equal(await metricValue(RETRIES, { provider }), 0, `${provider}: retried inside the call, not through the queue`);
        assert.equal(await metricValue(FINISHED, { provider, result: 'gave_up' }), 0);
        assert.deepEqual(r.svc.logger.at('error'), [], 'nothing logged at error level');
        assert.deepEqual(r.wiki.deleteCalls, []);
        await checkInvariants(r);
    }

    /** A refusal of a fresh credential: config_error, given up at once, one error line, nothing deleted. */
    async function assertConfigError(r: Rig, provider: 'apns' | 'fcm' | 'webpush', reason: string, n: number): Promise<void> {
        assert.equal(await metricValue(ANSWERS, { provider, outcome: 'config_error', reason }), n, `${provider}: config_error ${reason}`);
        assert.equal(await metricValue(FINISHED, { provider, result: 'gave_up' }), n);
        assert.equal(await metricValue(RETRIES, { provider }), 0, 'a config error is not retried through the queue');
        const errors = r.svc.logger.at('error');
        assert.equal(errors.length, 1, `one error line: ${JSON.stringify(errors)}`);
        assert.equal((errors[0].entry as { count?: number }).count, n);
        await sleep(200); // longer than the outbox's batch wait
        assert.deepEqual(r.wiki.deleteCalls, [], 'never deleted');
        await checkInvariants(r);
    }

    it('APNs 403 ExpiredProviderToken on a stale JWT: node-apn signs a new one, each token retried once at once, delivered', async () => {
        rig = await startRig();
        const { apns } = rig.fakes;
        apns.behaviour.refuseJwts = 1; // the first JWT the fake sees is "stale"
        const sent = tokens('apns', 'ok-', 10);
        await push(rig, 'apns', sent);
        await settled('apns', 10);
        assert.equal(apns.counters.jwtExpired > 0, true, 'the stale JWT was refused');
        assert.equal(apns.jwtsSeen.length, 2, 'one fresh JWT, shared by every retry');
        for (const t of sent) {
            assert.ok(apns.requestsFor(t) >= 1 && apns.requestsFor(t) <= 2, 'at most one immediate retry per token');
        }
        await assertRefreshedInCall(rig, 'apns', 10);
    });

    it('APNs: refused again after a fresh JWT is a config error (ExpiredProviderToken), after exactly two requests per token', async () => {
        rig = await startRig();
        const { apns } = rig.fakes;
        apns.behaviour.refuseJwts = Infinity;
        const sent = tokens('apns', 'ok-', 4);
        await push(rig, 'apns', sent);
        await settled('apns', 4);
        for (const t of sent) {
            assert.equal(apns.requestsFor(t), 2);
        }
        await assertConfigError(rig, 'apns', 'ExpiredProviderToken', 4);
    });

    it('FCM 401 UNAUTHENTICATED on a revoked access token: one new OAuth exchange, each token retried once at once, delivered', async () => {
        rig = await startRig();
        const { fcm } = rig.fakes;
        await push(rig, 'fcm', tokens('fcm', 'ok-', 2));
        await settled('fcm', 2);
        assert.equal(fcm.counters.oauthExchanges, 1);
        fcm.revokeAccessTokens(); // Google forgot the token we cache
        const sent = tokens('fcm', 'ok-', 8);
        await push(rig, 'fcm', sent);
        await settled('fcm', 10);
        assert.equal(fcm.counters.oauthExchanges, 2, 'one new exchange for the whole call');
        for (const t of sent) {
            // requestsFor counts requests past the fake's access-token check: the 401s are not among them.
            assert.equal(fcm.requestsFor(t), 1);
        }
        assert.equal(fcm.counters.sends, 2 + 8 * 2, 'each token: the refused request and its immediate retry');
        await assertRefreshedInCall(rig, 'fcm', 10);
    });

    it('FCM: 401 again with a fresh access token is a config error (UNAUTHENTICATED)', async () => {
        rig = await startRig();
        const { fcm } = rig.fakes;
        fcm.behaviour.refuseAccessTokens = true;
        await push(rig, 'fcm', tokens('fcm', 'ok-', 3));
        await settled('fcm', 3);
        assert.equal(fcm.counters.sends, 6, 'each token: the first try and one retry');
        assert.equal(fcm.counters.oauthExchanges, 2, 'the cached token, then one fresh one');
        await assertConfigError(rig, 'fcm', 'UNAUTHENTICATED', 3);
    });

    it('Web Push 401 to an old VAPID JWT: re-signed, the token retried once at once, delivered', async () => {
        rig = await startRig();
        const { webpush } = rig.fakes;
        webpush.behaviour.expireVapidAfterSeconds = 1;
        const first = webpush.createSubscription('');
        await push(rig, 'webpush', [first.token]);
        await settled('webpush', 1);
        await sleep(1300); // the cached JWT is now older than the fake accepts
        const second = webpush.createSubscription('');
        await push(rig, 'webpush', [second.token]);
        await settled('webpush', 2);
        const seen = webpush.receivedFor(second.id);
        assert.deepEqual(seen.map((r) => r.status), [401, 201], 'refused, re-signed, delivered');
        assert.notEqual(seen[0].vapid?.jwt, seen[1].vapid?.jwt, 'with a new JWT');
        await assertRefreshedInCall(rig, 'webpush', 2);
    });

    it('Web Push: 401 again with a freshly signed VAPID JWT is a config error (http-401)', async () => {
        rig = await startRig();
        const { webpush } = rig.fakes;
        webpush.behaviour.expireVapidAfterSeconds = -1; // every JWT, however fresh, is refused with 401
        const subs = [webpush.createSubscription(''), webpush.createSubscription('')];
        await push(rig, 'webpush', subs.map((s) => s.token));
        await settled('webpush', 2);
        // Concurrent refusals share one re-signed JWT; each token gets one retry with it.
        for (const s of subs) {
            assert.deepEqual(webpush.receivedFor(s.id).map((r) => r.status), [401, 401]);
        }
        await assertConfigError(rig, 'webpush', 'http-401', 2);
    });
});
