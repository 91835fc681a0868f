import assert from 'node:assert/strict';
import { metricValue } from '../helpers/metrics';
import { TestLogger } from '../helpers/test-logger';
import { deliveryConfig, newQueueTestbed, QueueTestbed, queueingConfig, RecordingSink, req, ScriptedProvider, tokens } from '../helpers/queue-testbed';

const ANSWERS = 'push_notifications_provider_answers_total';
const FINISHED = 'push_notifications_tokens_finished_total';
const RETRIES = 'push_notifications_retries_total';


describe('delivery outcomes through the queue', () => {
    let clock: QueueTestbed['clock'];
    let fcm: ScriptedProvider;
    let apns: ScriptedProvider;
    let sink: RecordingSink;
    let logger: TestLogger;
    let makeQueue: QueueTestbed['makeQueue'];

    beforeEach(() => {
        ({ clock, fcm, apns, sink, logger, makeQueue } = newQueueTestbed());
    });

    afterEach(() => clock.uninstall());

    /** Send times (ms since start) of each call. */
    function callTimes(p: ScriptedProvider, start: number, into: number[]): void {
        const orig = p.send.bind(p);
        p.send = (b, on) => {
            into.push(Date.now() - start);
            return orig(b, on);
        };
    }

    it('hands dead tokens to the sink exactly once, and counts them', async () => {
        const q = makeQueue();
        apns.script = (t) => (t.startsWith('dead') ? { outcome: 'dead', reason: 'Unregistered' } : undefined);
        q.enqueue(req('apns', ['dead-1', 'ok-1', 'dead-2', 'dead-1']));
        await clock.tickAsync(1000);
        await clock.runAllAsync();
        assert.deepEqual(sink.received.map((r) => ({ ...r, tokens: r.tokens.sort() })), [{ provider: 'apns', tokens: ['dead-1', 'dead-2'], source: 'echo' }]);
        assert.equal(await metricValue(ANSWERS, { provider: 'apns', outcome: 'dead', reason: 'Unregistered' }), 2);
        assert.equal(await metricValue(ANSWERS, { provider: 'apns', outcome: 'delivered' }), 1);
        assert.equal(q.size, 0);
    });

    it('never deletes for a dryRun batch', async () => {
        const q = makeQueue();
        fcm.script = () => ({ outcome: 'dead', reason: 'messaging/registration-token-not-registered' });
        q.enqueue(req('fcm', ['a', 'b'], { dryRun: true }));
        await clock.tickAsync(1000);
        await clock.runAllAsync();
        assert.equal(fcm.calls.length, 1);
        assert.equal(fcm.calls[0].dryRun, true);
        assert.deepEqual(sink.received, []);
        assert.equal(await metricValue(ANSWERS, { provider: 'fcm', outcome: 'dead' }), 2);
    });

    it('counts config_error once, never deletes, gives up (default: no retry), and logs nothing itself (the provider logs it once)', async () => {
        const q = makeQueue();
        apns.script = () => ({ outcome: 'config_error', reason: 'BadTopic' });
        q.enqueue(req('apns', ['abcdefSECRETTOKENVALUE0123456789']));
        await clock.tickAsync(1000);
        await clock.runAllAsync();
        assert.equal(apns.calls.length, 1);
        assert.deepEqual(sink.received, []);
        assert.equal(await metricValue(ANSWERS, { provider: 'apns', outcome: 'config_error', reason: 'BadTopic' }), 1);
        assert.equal(await metricValue(FINISHED, { provider: 'apns', result: 'gave_up' }), 1);
        assert.equal(await metricValue(RETRIES, { provider: 'apns' }), 0);
        assert.deepEqual(logger.at('error'), [], 'one event, one error line: the provider\'s');
        assert.deepEqual(logger.at('warn'), []);
        assert.equal(q.size, 0);
    });

    it('retries config_error a bounded number of times when configured', async () => {
        const q = makeQueue({ delivery: deliveryConfig({ retry: { configErrorMaxAttempts: 3, baseDelayMs: 10, maxDelayMs: 10 } }) });
        fcm.script = () => ({ outcome: 'config_error', reason: 'messaging/mismatched-credential' });
        q.enqueue(req('fcm', ['a']));
        await clock.runAllAsync();
        assert.equal(fcm.calls.length, 3);
        assert.equal(await metricValue(RETRIES, { provider: 'fcm' }), 2);
        assert.equal(await metricValue(FINISHED, { provider: 'fcm', result: 'gave_up' }), 1);
        assert.deepEqual(sink.received, []);
    });

    it('retries a transient failure back through the queue, after the backoff and the flush delay', async () => {
        const q = makeQueue({ delivery: deliveryConfig({ retry: { baseDelayMs: 2000, maxDelayMs: 300000 } }), random: () => 0.5 });
        const times: number[] = [];
        callTimes(fcm, Date.now(), times);
        fcm.script = (t, _b, call) => (call === 0 && t === 'x' ? { outcome: 'transient', reason: 'messaging/internal-error' } : undefined);
        q.enqueue(req('fcm', ['x', 'y']));
        await clock.tickAsync(1000);
        assert.deepEqual(fcm.calls.map((b) => [...b.tokens]), [['x', 'y']]);
        assert.equal(q.size, 1, 'the retried token is still owned (and counted against the cap)');
        // Full jitter with random 0.5 on attempt 1: 1000 ms backoff, then a 1000 ms flush delay.
        // Meanwhile a new request arrives: the retry is batched together with it.
        q.enqueue(req('fcm', ['z']));
        await clock.tickAsync(5000);
        assert.deepEqual(fcm.calls.map((b) => [...b.tokens].sort()), [['x', 'y'], ['x', 'z']]);
        assert.deepEqual(times, [1000, 2000]);
        assert.equal(await metricValue(RETRIES, { provider: 'fcm', reason: 'messaging/internal-error' }), 1);
        assert.equal(await metricValue(ANSWERS, { provider: 'fcm', outcome: 'delivered' }), 3);
        assert.equal(q.size, 0);
    });

    it('backs off exponentially between attempts', async () => {
        const q = makeQueue({
            queueing: queueingConfig({ flushTimeoutMs: 0 }),
            delivery: deliveryConfig({ retry: { baseDelayMs: 1000, maxDelayMs: 300000, maxAttempts: 5 } }), random: () => 0.999999
        });
        const times: number[] = [];
        callTimes(apns, Date.now(), times);
        apns.script = () => ({ outcome: 'transient', reason: 'ServiceUnavailable' });
        q.enqueue(req('apns', ['x']));
        await clock.runAllAsync();
        const gaps = times.slice(1).map((t, i) => t - times[i]);
        // Backoff ceiling 1000 * 2^(n-1), full jitter at 0.999999 -> ceiling - 1; plus the flush
        // timer (0 ms, which Node and fake-timers run after 1 ms).
        assert.deepEqual(gaps, [1000, 2000, 4000, 8000]);
        assert.equal(await metricValue(RETRIES, { provider: 'apns' }), 4);
        assert.equal(await metricValue(FINISHED, { provider: 'apns', result: 'gave_up' }), 1);
        assert.ok(logger.at('warn').some((e) => JSON.stringify(e.entry).includes('max_attempts')));
        assert.equal(q.size, 0);
    });

    it('honours Retry-After when it is longer than the backoff', async () => {
        const q = makeQueue({ queueing: queueingConfig({ flushTimeoutMs: 0 }), random: () => 0 });
        const times: number[] = [];
        callTimes(apns, Date.now(), times);
        apns.script = (_t, _b, call) => (call === 0 ? { outcome: 'transient', reason: 'TooManyRequests', retryAfterMs: 30000 } : undefined);
        q.enqueue(req('apns', ['x']));
        await clock.runAllAsync();
        assert.deepEqual(times, [0, 30001], 'Retry-After, then the 0 ms (= 1 ms) flush timer');
        assert.equal(q.size, 0);
    });

    it('gives up when the retry would pass maxAgeMs', async () => {
        const q = makeQueue({
            queueing: queueingConfig({ flushTimeoutMs: 0 }),
            delivery: deliveryConfig({ retry: { maxAgeMs: 10000, maxAttempts: 100 } }), random: () => 0
        });
        fcm.script = () => ({ outcome: 'transient', reason: 'messaging/message-rate-exceeded', retryAfterMs: 4000 });
        q.enqueue(req('fcm', ['x']));
        await clock.runAllAsync();
        // Sent at 0, 4000, 8000; a retry at 12000 would be older than 10 s.
        assert.equal(fcm.calls.length, 3);
        assert.equal(await metricValue(FINISHED, { provider: 'fcm', result: 'gave_up' }), 1);
        assert.ok(logger.at('warn').some((e) => JSON.stringify(e.entry).includes('max_age')));
        assert.equal(q.size, 0);
    });

    it('a retry waiting out its backoff does not hold up other deliveries', async () => {
        const q = makeQueue({ queueing: queueingConfig({ flushTimeoutMs: 100 }), random: () => 0.99 });
        fcm.script = (t) => (t === 'slow' ? { outcome: 'transient', reason: 'messaging/server-unavailable', retryAfterMs: 60000 } : undefined);
        q.enqueue(req('fcm', ['slow']));
        await clock.tickAsync(100);
        q.enqueue(req('fcm', ['fast']));
        await clock.tickAsync(100);
        assert.deepEqual(fcm.sent, ['slow', 'fast']);
        assert.equal(q.size, 1);
    });

    it('treats a rejected send or a missing result as transient: nothing lost, nothing deleted', async () => {
        const q = makeQueue({ queueing: queueingConfig({ flushTimeoutMs: 0 }), random: () => 0 });
        let calls = 0;
        fcm.send = (b, onResults) => {
            calls++;
            if (calls === 1) {
                return Promise.reject(new Error('socket hang up'));
            }
            // Second call omits 'b'.
            onResults(b.tokens.filter((t) => t !== 'b' || calls > 2).map((token) => ({ token, outcome: 'delivered' as const, reason: 'ok' })));
            return Promise.resolve();
        };
        q.enqueue(req('fcm', ['a', 'b']));
        await clock.runAllAsync();
        assert.equal(calls, 3);
        assert.equal(await metricValue(RETRIES, { provider: 'fcm', reason: 'send_rejected' }), 2);
        assert.equal(await metricValue(RETRIES, { provider: 'fcm', reason: 'no_result' }), 1);
        assert.equal(await metricValue(ANSWERS, { provider: 'fcm', outcome: 'delivered' }), 2);
        assert.deepEqual(sink.received, []);
        assert.equal(q.size, 0);
    });

    it('counts retries waiting against the cap', async () => {
        const q = makeQueue({ queueing: queueingConfig({ flushTimeoutMs: 0, maxSize: 10, maxQueuedTokens: 10 }) });
        fcm.script = () => ({ outcome: 'transient', reason: 'messaging/internal-error', retryAfterMs: 60000 });
        q.enqueue(req('fcm', tokens('a', 8)));
        await clock.tickAsync(10);
        assert.equal(q.size, 8);
        assert.equal(q.enqueue(req('fcm', tokens('b', 3))).accepted, false);
        assert.equal(q.enqueue(req('fcm', tokens('b', 2))).accepted, true);
    });
});

describe('metrics that add up', () => {
    let bed: QueueTestbed;
    beforeEach(() => {
        bed = newQueueTestbed();
    });
    afterEach(() => bed.clock.uninstall());

    it('every accepted token finishes exactly once; answers count once per attempt', async () => {
        const { clock, apns } = bed;
        apns.script = (t, _b, call) => {
            if (t.startsWith('dead')) {
                return { outcome: 'dead', reason: 'Unregistered' };
            }
            if (t.startsWith('conf')) {
                return { outcome: 'config_error', reason: 'BadTopic' };
            }
            if (t.startsWith('flaky') && call === 0) {
                return { outcome: 'transient', reason: 'ServiceUnavailable' };
            }
            if (t.startsWith('down')) {
                return { outcome: 'transient', reason: 'ServiceUnavailable' };
            }
            return undefined;
        };
        const q = bed.makeQueue({
            queueing: queueingConfig({ flushTimeoutMs: 0 }),
            delivery: deliveryConfig({ retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 10 } }), random: () => 0
        });
        q.enqueue({ ...req('apns', ['ok-1', 'ok-1', 'dead-1', 'conf-1', 'flaky-1', 'down-1']),
            invalid: [{ token: 'not a token', reason: 'invalid_token' }] });
        await clock.runAllAsync();
        const v = (result: string) => metricValue(FINISHED, { provider: 'apns', result });
        assert.equal(await metricValue('push_notifications_tokens_accepted_total', { provider: 'apns' }), 7);
        assert.equal(await v('delivered'), 2, 'ok-1, flaky-1');
        assert.equal(await v('dead'), 2, 'dead-1 and the invalid one');
        assert.equal(await v('gave_up'), 2, 'conf-1 at once, down-1 after 3 attempts');
        assert.equal(await v('duplicate'), 1);
        assert.equal(await metricValue(FINISHED, { provider: 'apns' }), 7, 'the sum over results is the accepted count');
        assert.equal(await metricValue(ANSWERS, { provider: 'apns', outcome: 'transient' }), 4, 'flaky once, down three times');
        assert.equal(await metricValue(RETRIES, { provider: 'apns' }), 3, 'flaky once, down twice');
        assert.equal(await metricValue(ANSWERS, { provider: 'apns', outcome: 'config_error' }), 1);
        assert.equal(q.size, 0);
    });
});

describe('mass-deletion guard in the delivery path', () => {
    it('answers streaming in small groups: the privacy queue hands a call\'s dead tokens on at its end, so a storm is caught first', async () => {
        const { clock, apns, sink } = bed;
        // A provider that reports 500 dead tokens 25 at a time, one event-loop turn apart.
        apns.send = async (b, onResults) => {
            apns.calls.push(b);
            for (let i = 0; i < b.tokens.length; i += 25) {
                onResults(b.tokens.slice(i, i + 25).map((token) => ({ token, outcome: 'dead' as const, reason: 'BadDeviceToken' })));
                await new Promise((r) => setImmediate(r));
            }
        };
        const q = bed.makeQueue({ queueing: queueingConfig({ flushTimeoutMs: 10 }) });
        q.enqueue(req('apns', tokens('s', 500)));
        await clock.tickAsync(10);
        await clock.runAllAsync();
        assert.equal(bed.stack().guard.isTripped('apns'), true);
        assert.deepEqual(sink.received, [], 'no deletion before the storm was recognised');
        assert.equal(bed.stack().guard.heldCount('apns'), 500);
        assert.equal(q.size, 0, 'the tokens were finished as they were answered');
    });

    it('tokens that fail the syntax check never trip the guard (a client cannot switch off dead-token reporting)', async () => {
        const { clock, sink } = bed;
        const q = bed.makeQueue({ queueing: queueingConfig({ flushTimeoutMs: 10 }) });
        const invalid = tokens('x', 1000).map((token) => ({ token: `${token} !`, reason: 'invalid_token' }));
        assert.ok(q.enqueue({ ...req('apns', []), invalid }).accepted);
        await clock.runAllAsync();
        assert.equal(bed.stack().guard.isTripped('apns'), false);
        assert.equal(sink.tokens.length, 1000, 'still deleted, through the guard');
    });

    it('one-token calls (the immediate sender\'s) are not held back by the call count: the gate counts tokens', async () => {
        const { fcm } = bed;
        fcm.hold();
        const s = bed.makeImmediate({ delivery: deliveryConfig({ concurrency: { fcm: 2 }, batchSize: 500 }) });
        for (let i = 0; i < 50; i++) {
            assert.ok(s.send(req('fcm', [`t${i}`], { source: 'mongoosepush' }), 1000).accepted);
        }
        await bed.clock.tickAsync(0);
        assert.equal(fcm.calls.length, 50, 'all 50 one-token calls in flight under concurrency 2 x 500 tokens');
        fcm.release();
        await bed.clock.tickAsync(10);
    });

    let bed: QueueTestbed;
    beforeEach(() => {
        bed = newQueueTestbed();
    });
    afterEach(() => bed.clock.uninstall());

    it('a dead storm (wrong APNs environment) trips the guard and nothing reaches the sink', async () => {
        const { clock, apns, sink } = bed;
        apns.script = () => ({ outcome: 'dead', reason: 'BadDeviceToken' });
        const q = bed.makeQueue({ queueing: queueingConfig({ flushTimeoutMs: 100 }) });
        q.enqueue(req('apns', tokens('a', 1000)));
        await clock.tickAsync(100);
        await clock.runAllAsync();
        assert.equal(apns.sent.length, 1000);
        assert.equal(bed.stack().guard.isTripped('apns'), true);
        assert.deepEqual(sink.received, [], 'the first 500-token call already exceeds minDeadTokens (200)');
        assert.equal(bed.stack().guard.heldCount('apns'), 1000);
        assert.equal(await metricValue('push_notifications_deletion_guard_tripped', { provider: 'apns' }), 1);
        assert.equal(await metricValue('push_notifications_deletions_held_tokens', { provider: 'apns' }), 1000);
        assert.equal(await metricValue(ANSWERS, { provider: 'apns', outcome: 'dead', reason: 'BadDeviceToken' }), 1000);
    });
});
