import assert from 'node:assert/strict';
import { DeliveryConfig } from '../../src/config/sections/delivery';
import { DeletionGuard } from '../../src/delivery/deletion-guard';
import { ServiceMetrics } from '../../src/metrics/service-metrics';
import { metricValue } from '../helpers/metrics';
import { TestLogger } from '../helpers/test-logger';
import { deliveryConfig, RecordingSink, testMetrics, tokens } from '../helpers/queue-testbed';

const TRIPPED = 'push_notifications_deletion_guard_tripped';
const HELD = 'push_notifications_deletions_held_tokens';
const OVERFLOW = 'push_notifications_deletion_guard_overflow_total';

describe('DeletionGuard', () => {
    let now: number;
    let sink: RecordingSink;
    let logger: TestLogger;
    let metrics: ServiceMetrics;

    beforeEach(() => {
        now = 1_000_000;
        sink = new RecordingSink();
        logger = new TestLogger();
        metrics = testMetrics(logger);
    });

    function guard(o: Partial<DeliveryConfig['deletionGuard']> = {}): DeletionGuard {
        const cfg = deliveryConfig({ deletionGuard: { windowMs: 60000, maxDeadRatio: 0.5, minDeadTokens: 10, ...o } }).deletionGuard;
        return new DeletionGuard([{ id: 'apns', kind: 'apns', deletionGuard: cfg }, { id: 'fcm', kind: 'fcm', deletionGuard: cfg }],
            sink, logger, metrics, () => now);
    }

    /** One provider call: `answered` definite answers, of which the first `dead` are dead. */
    function call(g: DeletionGuard, answered: number, dead: number, prefix = 'd'): string[] {
        const deadTokens = tokens(`${prefix}${now}`, dead);
        g.recordAnswers('apns', answered, dead);
        g.deadTokens('apns', deadTokens, 'echo');
        return deadTokens;
    }

    it('passes deletions on while the dead ratio is normal', async () => {
        const g = guard();
        const d = call(g, 100, 20);
        assert.deepEqual(sink.tokens, d);
        assert.equal(g.isTripped('apns'), false);
        assert.equal(await metricValue(TRIPPED, { provider: 'apns' }), 0);
    });

    it('does not trip on a high ratio with few dead tokens (minDeadTokens)', () => {
        const g = guard();
        call(g, 10, 10);
        assert.equal(g.isTripped('apns'), false);
        assert.equal(sink.tokens.length, 10);
    });

    it('trips on a dead storm: holds deletions, logs an error, raises the metrics', async () => {
        const g = guard();
        call(g, 20, 5);
        assert.equal(g.isTripped('apns'), false);
        const storm = call(g, 50, 50); // 55 dead of 70 answered, and more than 10
        assert.equal(g.isTripped('apns'), true);
        assert.equal(sink.tokens.length, 5, 'the storm batch itself is held');
        assert.equal(g.heldCount('apns'), 50);
        assert.equal(await metricValue(TRIPPED, { provider: 'apns' }), 1);
        assert.equal(await metricValue(TRIPPED, { provider: 'fcm' }), 0);
        assert.equal(await metricValue(HELD, { provider: 'apns' }), 50);
        assert.ok(logger.at('error').some((e) => JSON.stringify(e.entry).includes('mass-deletion guard tripped')));
        assert.ok(!logger.text().includes(storm[0]));
        // Still tripped while the storm is in the window, even if new answers are healthy.
        now += 30000;
        call(g, 1000, 0);
        call(g, 10, 10);
        assert.equal(g.isTripped('apns'), true);
        assert.equal(g.heldCount('apns'), 60);
    });

    it('is per provider', () => {
        const g = guard();
        call(g, 50, 50);
        g.recordAnswers('fcm', 10, 1);
        g.deadTokens('fcm', ['f1'], 'echo');
        assert.deepEqual(sink.received, [{ provider: 'fcm', tokens: ['f1'], source: 'echo' }]);
    });

    it('clears only after a full healthy window, then discards what it held (default)', async () => {
        const g = guard();
        call(g, 50, 50);
        // The storm ages out after one window; the first healthy evaluation starts the clock.
        now += 61000;
        call(g, 100, 0);
        assert.equal(g.isTripped('apns'), true);
        now += 59000;
        call(g, 100, 1);
        assert.equal(g.isTripped('apns'), true, 'healthy for less than a full window');
        now += 1000;
        call(g, 100, 1);
        assert.equal(g.isTripped('apns'), false);
        assert.equal(g.heldCount('apns'), 0);
        assert.equal(sink.tokens.length, 1, 'held deletions discarded; only the post-clear one passed');
        assert.equal(await metricValue(TRIPPED, { provider: 'apns' }), 0);
        assert.equal(await metricValue(HELD, { provider: 'apns' }), 0);
        assert.ok(logger.at('warn').some((e) => JSON.stringify(e.entry).includes('discarding')));
    });

    it('a relapse during the healthy window restarts it', () => {
        const g = guard();
        call(g, 50, 50);
        now += 61000;
        call(g, 100, 0); // healthy from here
        now += 30000;
        call(g, 200, 200); // storm again: 200 dead of 300
        now += 40000;
        call(g, 100, 0); // 200 dead of 400, not above 0.5: healthy again, the clock restarts here
        now += 30000;
        call(g, 100, 0);
        assert.equal(g.isTripped('apns'), true);
    });

    it("releases held deletions on clear with onClear: 'release'", () => {
        const g = guard({ onClear: 'release' });
        const held = call(g, 50, 50);
        now += 61000;
        call(g, 100, 0);
        now += 60000;
        call(g, 100, 0);
        assert.equal(g.isTripped('apns'), false);
        assert.deepEqual(sink.tokens, held);
    });

    it('bounds what it holds and counts the overflow', async () => {
        const g = guard({ maxHeldTokens: 30 });
        call(g, 50, 50);
        assert.equal(g.heldCount('apns'), 30);
        assert.equal(await metricValue(OVERFLOW, { provider: 'apns' }), 20);
    });

    it('logOnly never hands anything on and logs fingerprints of what would be deleted', async () => {
        const g = guard({ logOnly: true });
        const d = call(g, 10, 3);
        assert.deepEqual(sink.received, []);
        const lines = logger.entries.filter((e) => JSON.stringify(e.entry).includes('would delete'));
        assert.equal(lines.length, 1);
        assert.equal((lines[0].entry as { tokens: string[] }).tokens.length, 3);
        for (const t of d) {
            assert.ok(!logger.text().includes(t));
        }
        call(g, 50, 50);
        assert.equal(g.isTripped('apns'), true, 'the guard still watches in logOnly mode');
        assert.equal(await metricValue(TRIPPED, { provider: 'apns' }), 1);
        assert.deepEqual(sink.received, []);
    });
});
