import assert from 'node:assert/strict';
import { drainSchedulers } from '../../src/scheduling/drain';
import { metricValue } from '../helpers/metrics';
import { deliveryConfig, newQueueTestbed, QueueTestbed, queueingConfig, req } from '../helpers/queue-testbed';

const M = 'push_notifications_';

describe('ImmediateSender', () => {
    let bed: QueueTestbed;
    beforeEach(() => {
        bed = newQueueTestbed();
    });
    afterEach(() => bed.clock.uninstall());

    it('sends at once, without a privacy delay, and answers each token\'s first answer', async () => {
        const { fcm } = bed;
        fcm.script = (t) => (t.startsWith('dead') ? { outcome: 'dead', reason: 'UNREGISTERED' } :
            t.startsWith('busy') ? { outcome: 'transient', reason: 'UNAVAILABLE', retryAfterMs: 1000 } : undefined);
        const s = bed.makeImmediate({ random: () => 0 });
        const r = s.send(req('fcm', ['ok-1', 'dead-1', 'busy-1'], { source: 'matrix' }), 5000);
        assert.ok(r.accepted);
        await bed.clock.tickAsync(0);
        const answers = await r.answers;
        assert.equal(fcm.calls.length, 1);
        assert.equal(answers.get('ok-1')?.outcome, 'delivered');
        assert.equal(answers.get('dead-1')?.outcome, 'dead');
        assert.equal(answers.get('dead-1')?.verdict, 'passed', 'the guard let it through: the front door may reject it');
        assert.equal(answers.get('busy-1')?.outcome, 'transient');
        assert.equal(answers.get('busy-1')?.willRetry, true);
        assert.deepEqual(bed.sink.received, [{ provider: 'fcm', tokens: ['dead-1'], source: 'matrix' }]);
        // The transient one is retried in the background, after its Retry-After, and delivered.
        fcm.script = () => undefined;
        await bed.clock.tickAsync(1000);
        assert.deepEqual(fcm.calls.map((c) => [...c.tokens]), [['ok-1', 'dead-1', 'busy-1'], ['busy-1']]);
        assert.equal(bed.stack().ledger.size, 0);
    });

    it('answers within the deadline while the provider hangs, and keeps owning the tokens', async () => {
        const { fcm } = bed;
        fcm.hold();
        const s = bed.makeImmediate();
        const r = s.send(req('fcm', ['a', 'b'], { source: 'mongoosepush' }), 1500);
        assert.ok(r.accepted);
        let answered = false;
        void r.answers.then(() => {
            answered = true;
        });
        await bed.clock.tickAsync(1499);
        assert.equal(answered, false);
        await bed.clock.tickAsync(1);
        const answers = await r.answers;
        assert.deepEqual([...answers.values()], [undefined, undefined], 'no answer yet: pending');
        assert.equal(bed.stack().ledger.size, 2, 'still ours');
        fcm.release();
        await bed.clock.tickAsync(10);
        assert.equal(bed.stack().ledger.size, 0);
    });

    it('a dead answer while the mass-deletion guard is tripped is not a verdict to reject', async () => {
        const { fcm } = bed;
        fcm.script = () => ({ outcome: 'dead', reason: 'UNREGISTERED' });
        const s = bed.makeImmediate({ delivery: deliveryConfig({ deletionGuard: { minDeadTokens: 5, windowMs: 60000 } }) });
        const tokensIn = Array.from({ length: 20 }, (_, i) => `t${i}`);
        const r = s.send(req('fcm', tokensIn, { source: 'matrix' }), 1000);
        assert.ok(r.accepted);
        await bed.clock.tickAsync(0);
        const answers = await r.answers;
        assert.ok([...answers.values()].every((a) => a?.outcome === 'dead' && a.verdict === 'held'));
        assert.deepEqual(bed.sink.received, []);
    });

    it('de-duplicates by syntax key within a request; twins share the answer', async () => {
        const { apns } = bed;
        const s = bed.makeImmediate();
        const r = s.send({ ...req('apns', ['abcd', 'ABCD']), keys: ['abcd', 'abcd'] }, 1000);
        assert.ok(r.accepted);
        await bed.clock.tickAsync(0);
        const answers = await r.answers;
        assert.deepEqual(apns.sent, ['abcd']);
        assert.equal(answers.get('ABCD')?.outcome, 'delivered');
        assert.equal(await metricValue(`${M}tokens_finished_total`, { provider: 'apns', result: 'duplicate' }), 1);
    });

    it('refuses at the shared cap and while draining; the drain waits for its retries', async () => {
        const { fcm } = bed;
        const s = bed.makeImmediate({ queueing: queueingConfig({ maxQueuedTokens: 3 }), random: () => 0 });
        fcm.hold();
        assert.ok(s.send(req('fcm', ['a', 'b']), 100).accepted);
        assert.deepEqual(s.send(req('fcm', ['c', 'd']), 100), { accepted: false, reason: 'full', retryAfterSeconds: 5 });
        assert.equal(s.canTake(1), true);
        fcm.release();
        await bed.clock.tickAsync(0);
        fcm.script = (_t, _b, call) => (call === 1 ? { outcome: 'transient', reason: 'INTERNAL' } : undefined);
        assert.ok(s.send(req('fcm', ['x']), 100).accepted);
        const drained = drainSchedulers([s], bed.stack().ledger, Date.now() + 5000);
        assert.equal(s.send(req('fcm', ['late']), 100).accepted, false);
        await bed.clock.tickAsync(1000);
        assert.deepEqual(await drained, { undelivered: { fcm: 0, apns: 0 } });
        assert.deepEqual(fcm.sent.slice(-2), ['x', 'x'], 'retried promptly during the drain');
    });
});
