import assert from 'node:assert/strict';
import { flushDelayPolicy } from '../../src/scheduling/flush-delay';

describe('flushDelayPolicy', () => {
    it('returns the fixed delay every time', () => {
        const next = flushDelayPolicy({ flushTimeoutMs: 250 });
        assert.deepEqual([next(), next(), next()], [250, 250, 250]);
    });

    it('draws a fresh random delay for every flush, within [min, max]', () => {
        const next = flushDelayPolicy({ flushTimeoutMs: 'random', flushTimeoutMin: 1000, flushTimeoutMax: 5000 });
        const delays = Array.from({ length: 500 }, () => next());
        for (const d of delays) {
            assert.ok(d >= 1000 && d <= 5000, `delay ${d} out of bounds`);
            assert.ok(Number.isInteger(d));
        }
        // Fresh per flush: many distinct values, and they spread over the range.
        assert.ok(new Set(delays).size > 100, `only ${new Set(delays).size} distinct delays`);
        assert.ok(Math.min(...delays) < 1500 && Math.max(...delays) > 4500, 'delays do not cover the range');
    });

    it('reaches both ends of the range', () => {
        const seq = [0, 0.999999999, 0.5];
        const next = flushDelayPolicy({ flushTimeoutMs: 'random', flushTimeoutMin: 10, flushTimeoutMax: 20 }, () => seq.shift()!);
        assert.deepEqual([next(), next(), next()], [10, 20, 15]);
    });

    it('handles min = max', () => {
        const next = flushDelayPolicy({ flushTimeoutMs: 'random', flushTimeoutMin: 7, flushTimeoutMax: 7 });
        assert.equal(next(), 7);
    });
});
