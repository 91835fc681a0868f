import assert from 'node:assert/strict';
import { metricValue } from '../helpers/metrics';
import { deliveryConfig, newQueueTestbed, QueueTestbed, queueingConfig, req, ScriptedProvider, tokens } from '../helpers/queue-testbed';
import { drainSchedulers } from '../../src/scheduling/drain';

const M = 'push_notifications_';


describe('BatchingQueue', () => {
    let clock: QueueTestbed['clock'];
    let fcm: ScriptedProvider;
    let apns: ScriptedProvider;
    let makeQueue: QueueTestbed['makeQueue'];
    let stack: QueueTestbed['stack'];

    beforeEach(() => {
        ({ clock, fcm, apns, makeQueue, stack } = newQueueTestbed());
    });

    afterEach(() => clock.uninstall());

    it('flushes when the timer fires, not before', async () => {
        const q = makeQueue({ queueing: queueingConfig({ flushTimeoutMs: 1000 }) });
        assert.deepEqual(q.enqueue(req('fcm', ['a', 'b'])), { accepted: true });
        await clock.tickAsync(999);
        assert.equal(fcm.calls.length, 0);
        assert.equal(q.size, 2);
        await clock.tickAsync(1);
        assert.deepEqual(fcm.sent.sort(), ['a', 'b']);
        assert.equal(q.size, 0);
        assert.equal(await metricValue(`${M}provider_answers_total`, { provider: 'fcm', outcome: 'delivered' }), 2);
        assert.equal(await metricValue(`${M}queue_wait_seconds_sum`, { provider: 'fcm' }), 1, 'one request waited 1 s (observed once per request)');
        assert.equal(await metricValue(`${M}queue_wait_seconds_count`, { provider: 'fcm' }), 1);
        assert.equal(await metricValue(`${M}batch_size_tokens_sum`, { provider: 'fcm' }), 2);
        assert.equal(await metricValue(`${M}queue_tokens`, { provider: 'fcm' }), 0);
    });

    it('flushes as soon as maxSize tokens wait, without waiting for the timer', async () => {
        const q = makeQueue({ queueing: queueingConfig({ flushTimeoutMs: 60000, maxSize: 10 }) });
        q.enqueue(req('fcm', tokens('a', 6)));
        await clock.tickAsync(5);
        assert.equal(fcm.calls.length, 0);
        q.enqueue(req('apns', tokens('b', 4)));
        await clock.tickAsync(0);
        assert.equal(fcm.sent.length + apns.sent.length, 10);
    });

    it('draws a fresh random delay for every flush, within [min, max]', async () => {
        const draws = [0.1, 0.9, 0.5];
        const q = makeQueue({
            queueing: queueingConfig({ flushTimeoutMs: 'random', flushTimeoutMin: 1000, flushTimeoutMax: 5000 }),
            random: () => draws.shift() ?? 0
        });
        const flushedAfter: number[] = [];
        for (let i = 0; i < 3; i++) {
            const start = Date.now();
            q.enqueue(req('fcm', [`t${i}`]));
            while (fcm.calls.length === i) {
                await clock.tickAsync(10);
            }
            flushedAfter.push(Date.now() - start);
        }
        // 1000 + floor(r * 4001): 1400, 4600, 3000 (to the 10 ms tick).
        assert.deepEqual(flushedAfter, [1400, 4600, 3000]);
    });

    it('refuses past the cap with full + Retry-After, counts in-flight tokens, and drops nothing', async () => {
        const q = makeQueue({ queueing: queueingConfig({ flushTimeoutMs: 100, maxSize: 10, maxQueuedTokens: 20, retryAfterSeconds: 7 }) });
        fcm.hold();
        assert.equal(q.enqueue(req('fcm', tokens('a', 15))).accepted, true);
        await clock.tickAsync(200);
        assert.equal(fcm.calls.length, 1, 'in flight');
        assert.equal(q.size, 15, 'in-flight tokens still count against the cap');
        assert.deepEqual(q.enqueue(req('fcm', tokens('b', 6))), { accepted: false, reason: 'full', retryAfterSeconds: 7 });
        assert.equal(q.enqueue(req('fcm', tokens('c', 5))).accepted, true);
        assert.equal(q.isFull, true);
        assert.equal(q.enqueue(req('fcm', ['d'])).accepted, false);
        fcm.release();
        await clock.tickAsync(200);
        assert.equal(q.size, 0);
        assert.equal(q.isFull, false);
        assert.deepEqual(fcm.sent.sort(), [...tokens('a', 15), ...tokens('c', 5)].sort());
    });

    it('limits provider calls in flight to delivery.concurrency', async () => {
        const q = makeQueue({
            queueing: queueingConfig({ flushTimeoutMs: 10, maxSize: 100000 }),
            delivery: deliveryConfig({ concurrency: { fcm: 2 }, batchSize: 10 })
        });
        fcm.hold();
        q.enqueue(req('fcm', tokens('a', 100)));
        await clock.tickAsync(50);
        assert.equal(fcm.calls.length, 2);
        assert.equal(await metricValue(`${M}deliveries_in_flight`, { provider: 'fcm' }), 2);
        fcm.release();
        await clock.tickAsync(50);
        assert.equal(fcm.calls.length, 10);
        assert.equal(fcm.maxInFlight, 2);
        assert.equal(q.size, 0);
    });

    it('applies the outbound rate limit per provider', async () => {
        const q = makeQueue({
            queueing: queueingConfig({ flushTimeoutMs: 10, maxSize: 100000 }),
            delivery: deliveryConfig({ rateLimitPerSecond: { apns: 100 }, batchSize: 50 })
        });
        q.enqueue(req('apns', tokens('a', 200)));
        q.enqueue(req('fcm', tokens('f', 200)));
        await clock.tickAsync(10);
        assert.equal(apns.calls.length, 1, 'first batch goes at once');
        assert.equal(fcm.calls.length, 4, 'the other provider is not limited');
        await clock.tickAsync(499);
        assert.equal(apns.calls.length, 1);
        await clock.tickAsync(1);
        assert.equal(apns.calls.length, 2, '50 tokens at 100/s: one call every 500 ms');
        await clock.tickAsync(1000);
        assert.equal(apns.calls.length, 4);
    });

    it('delivers each token once over several size-triggered flushes while one is still chunking', async () => {
        const q = makeQueue({ queueing: queueingConfig({ flushTimeoutMs: 1000, maxSize: 100 }), chunkTokens: 10 });
        // Each of these triggers a size flush while the previous one is still chunking.
        for (let i = 0; i < 5; i++) {
            q.enqueue(req('fcm', tokens(`r${i}`, 100)));
        }
        await clock.tickAsync(0);
        await clock.runAllAsync();
        assert.equal(fcm.sent.length, 500);
        assert.equal(new Set(fcm.sent).size, 500);
        assert.equal(q.size, 0);
    });

    it('drain stops accepting, flushes at once and delivers everything queued', async () => {
        const q = makeQueue({ queueing: queueingConfig({ flushTimeoutMs: 600000, maxSize: 100000 }) });
        q.enqueue(req('fcm', tokens('a', 1234)));
        q.enqueue(req('apns', tokens('b', 10), { topic: 'org.wikimedia.wikipedia' }));
        const drained = drainSchedulers([q], stack().ledger, Date.now() + 5000);
        assert.deepEqual(q.enqueue(req('fcm', ['late'])), { accepted: false, reason: 'draining', retryAfterSeconds: 5 });
        await clock.tickAsync(10);
        assert.deepEqual(await drained, { undelivered: { fcm: 0, apns: 0 } });
        assert.equal(fcm.sent.length, 1234);
        assert.deepEqual(apns.sent.sort(), tokens('b', 10));
        assert.equal(apns.calls[0].message.apns?.topic, 'org.wikimedia.wikipedia');
    });

    it('drain gives up at the deadline and reports what is left, by provider', async () => {
        const q = makeQueue({ queueing: queueingConfig({ flushTimeoutMs: 600000 }) });
        apns.hold();
        q.enqueue(req('apns', tokens('a', 3)));
        q.enqueue(req('fcm', tokens('f', 2)));
        const drained = drainSchedulers([q], stack().ledger, Date.now() + 2000);
        await clock.tickAsync(1999);
        let done = false;
        void drained.then(() => {
            done = true;
        });
        await clock.tickAsync(0);
        assert.equal(done, false);
        await clock.tickAsync(1);
        assert.deepEqual(await drained, { undelivered: { fcm: 0, apns: 3 } });
        apns.release();
        await clock.tickAsync(10);
    });

    it('drain retries promptly (not after long backoffs) within the deadline', async () => {
        const q = makeQueue({
            queueing: queueingConfig({ flushTimeoutMs: 600000 }),
            delivery: deliveryConfig({ retry: { baseDelayMs: 60000, maxDelayMs: 600000 } }),
            random: () => 0.99
        });
        fcm.script = (_t, _b, call) => (call < 2 ? { outcome: 'transient', reason: 'messaging/internal-error' } : undefined);
        q.enqueue(req('fcm', ['x']));
        const drained = drainSchedulers([q], stack().ledger, Date.now() + 5000);
        await clock.tickAsync(1000);
        assert.deepEqual(await drained, { undelivered: { fcm: 0, apns: 0 } });
        assert.deepEqual(fcm.sent, ['x', 'x', 'x']);
    });

    it('with maxSize above the cap (the original "timer only" config), flushes when the cap is reached', async () => {
        const q = makeQueue({ queueing: queueingConfig({ flushTimeoutMs: 600000, maxSize: Number.MAX_SAFE_INTEGER, maxQueuedTokens: 10 }) });
        q.enqueue(req('fcm', tokens('a', 6)));
        await clock.tickAsync(10);
        assert.equal(fcm.calls.length, 0, 'below the cap: waits for the timer');
        q.enqueue(req('fcm', tokens('b', 4)));
        await clock.tickAsync(10);
        assert.equal(fcm.sent.length, 10, 'the cap reached: flushed at once');
    });

    it('drain reports per token: one hung token does not hold its answered neighbours', async () => {
        const q = makeQueue({ queueing: queueingConfig({ flushTimeoutMs: 600000 }) });
        // A provider that answers every token at once except the 'hung-' ones, which never come.
        apns.send = (batch, onResults) => {
            apns.calls.push(batch);
            onResults(batch.tokens.filter((t) => !t.startsWith('hung-')).map((token) => ({ token, outcome: 'delivered' as const, reason: 'ok' })));
            return new Promise<void>(() => undefined);
        };
        q.enqueue(req('apns', [...tokens('ok', 95), ...tokens('hung', 5)]));
        const report = await (async () => {
            const drained = drainSchedulers([q], stack().ledger, Date.now() + 2000);
            await clock.tickAsync(2000);
            return drained;
        })();
        assert.deepEqual(report, { undelivered: { fcm: 0, apns: 5 } });
        assert.equal(await metricValue(`${M}tokens_finished_total`, { provider: 'apns', result: 'delivered' }), 95);
    });

    it('drain with nothing queued resolves at once', async () => {
        const q = makeQueue();
        assert.deepEqual(await drainSchedulers([q], stack().ledger, Date.now() + 1000), { undelivered: { fcm: 0, apns: 0 } });
    });
});
