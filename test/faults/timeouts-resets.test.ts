import assert from 'node:assert/strict';
import { checkInvariants, messages, push, RETRY, Rig, settled, startRig, tokens, until } from './harness';

/**
 * Answers slower than the client's timeout, and connections that die under a batch in
 * flight. Proof: what was cut off is transient and retried; once the fake behaves it is
 * delivered; a token that never gets an answer is given up after exactly maxAttempts sends
 * and logged; nothing is deleted.
 */
describe('faults: timeouts and connection resets', function () {
    this.timeout(30_000);
    let rig: Rig;
    beforeEach(async () => {
        // APNs: 1 s per request (node-apn's requestTimeout); the fake's slow- answers take 2.5 s.
        // (Generous: with 200 ms, a busy machine timed out the answers that were not slow too.)
        rig = await startRig({ apns: { requestTimeoutMs: 1000 } });
        rig.fakes.apns.behaviour.slowMs = 2500;
    });
    afterEach(() => rig.close());

    it('APNs slower than requestTimeoutMs: transient, retried, delivered once the fake speeds up', async () => {
        rig.fakes.apns.behaviour.failuresPerToken = 1; // slow the first time only
        const slow = tokens('apns', 'slow-', 5);
        const ok = tokens('apns', 'ok-', 5);
        await push(rig, 'apns', [...slow, ...ok]);
        await settled('apns', 10);
        assert.equal(await messages('apns', 'delivered'), 10);
        // The reason is 'timeout' now (it was 'connection-error' before the core rewrite): a
        // request that hit its deadline is told apart from a lost connection (apns-errors.ts).
        assert.equal(await messages('apns', 'retried', 'timeout'), 5, 'each timed-out token retried once');
        assert.equal(await messages('apns', 'gave_up'), 0);
        for (const t of slow) {
            assert.equal(rig.fakes.apns.requestsFor(t), 2);
        }
        await checkInvariants(rig);
        assert.equal(rig.wiki.deleteCalls.length, 0);
    });

    it('APNs that never answers in time: given up after maxAttempts, logged, never deleted', async () => {
        const slow = tokens('apns', 'slow-', 3);
        await push(rig, 'apns', [...slow, ...tokens('apns', 'ok-', 2)]);
        await settled('apns', 5);
        assert.equal(await messages('apns', 'delivered'), 2);
        assert.equal(await messages('apns', 'gave_up'), 3);
        for (const t of slow) {
            assert.equal(rig.fakes.apns.requestsFor(t), RETRY.maxAttempts, 'one request per attempt, no hidden library retries');
        }
        const gaveUp = rig.svc.logger.at('warn').filter((e) => JSON.stringify(e.entry).includes('giving up'));
        assert.ok(gaveUp.some((e) => JSON.stringify(e.entry).includes('max_attempts')), 'the give-up is logged with why');
        await checkInvariants(rig);
        assert.equal(rig.wiki.deleteCalls.length, 0);
    });

    it('FCM slow- answers within the client timeout: delivered, nothing retried', async () => {
        // fcm.requestTimeoutMs is 10 s by default; a slow answer below it must simply arrive,
        // without a retry doubling the send.
        rig.fakes.fcm.behaviour.slowMs = 700;
        await push(rig, 'fcm', [...tokens('fcm', 'slow-', 4), ...tokens('fcm', 'ok-', 4)]);
        await settled('fcm', 8);
        assert.equal(await messages('fcm', 'delivered'), 8);
        assert.equal(await messages('fcm', 'retried'), 0);
        await checkInvariants(rig);
    });

    it('APNs reset- streams: transient, retried, delivered; a stream reset every time is given up', async () => {
        rig.fakes.apns.behaviour.failuresPerToken = 1;
        const reset = tokens('apns', 'reset-', 4);
        await push(rig, 'apns', [...reset, ...tokens('apns', 'ok-', 4)]);
        await settled('apns', 8);
        assert.equal(await messages('apns', 'delivered'), 8);
        assert.equal(await messages('apns', 'retried'), 4);
        assert.equal(await messages('apns', 'gave_up'), 0);

        rig.fakes.apns.behaviour.failuresPerToken = undefined;
        const always = tokens('apns', 'reset-', 2);
        await push(rig, 'apns', always);
        await settled('apns', 10);
        assert.equal(await messages('apns', 'gave_up'), 2);
        for (const t of always) {
            assert.equal(rig.fakes.apns.requestsFor(t), RETRY.maxAttempts);
        }
        await checkInvariants(rig);
        assert.equal(rig.wiki.deleteCalls.length, 0);
    });

    it('FCM reset- connections: retried (once more at once on a reused socket, then the queue), delivered', async () => {
        // Two failures per token. firebase-admin used to retry an ECONNRESET once by itself;
        // the direct FCM v1 client resends at once only when the reset came on a REUSED
        // keep-alive socket (Node's documented race: deadline-request.ts), so whether the
        // second failure is met there or by a queue retry depends on socket reuse: between one
        // and two queue retries per token, 3 requests each either way.
        rig.fakes.fcm.behaviour.failuresPerToken = 2;
        const reset = tokens('fcm', 'reset-', 4);
        await push(rig, 'fcm', [...reset, ...tokens('fcm', 'ok-', 4)]);
        await settled('fcm', 8);
        assert.equal(await messages('fcm', 'delivered'), 8);
        assert.equal(await messages('fcm', 'gave_up'), 0);
        const retried = await messages('fcm', 'retried', 'connection-error');
        assert.ok(retried >= 4 && retried <= 8, `the reset tokens went back through the queue (${retried} retries)`);
        for (const t of reset) {
            assert.equal(rig.fakes.fcm.requestsFor(t), 3);
        }
        await checkInvariants(rig);
    });

    it('connections destroyed while a batch is in flight (both providers): nothing lost', async () => {
        rig.fakes.apns.behaviour.delayMs = 400;
        rig.fakes.fcm.behaviour.delayMs = 400;
        const apns = tokens('apns', 'ok-', 20);
        const fcm = tokens('fcm', 'ok-', 20);
        await push(rig, 'apns', apns);
        await push(rig, 'fcm', fcm);
        // Every request has arrived and none is answered yet: cut every connection.
        await until('all requests in flight', () => rig.fakes.apns.counters.requests >= 20 && rig.fakes.fcm.counters.sends >= 20);
        rig.fakes.apns.behaviour.delayMs = 0;
        rig.fakes.fcm.behaviour.delayMs = 0;
        rig.fakes.apns.destroySessions();
        rig.fakes.fcm.dropConnections();
        await settled('apns', 20);
        await settled('fcm', 20);
        assert.equal(await messages('apns', 'delivered'), 20);
        assert.equal(await messages('fcm', 'delivered'), 20);
        assert.equal(await messages('apns', 'gave_up') + await messages('fcm', 'gave_up'), 0);
        assert.ok(rig.fakes.apns.counters.requests >= 40, 'every APNs token was sent again');
        assert.ok(rig.fakes.apns.counters.sessions >= 2, 'on a new HTTP/2 session');
        await checkInvariants(rig);
        assert.equal(rig.wiki.deleteCalls.length, 0);
    });
});
