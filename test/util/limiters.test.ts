import assert from 'node:assert/strict';
import { ConcurrencyLimiter, RateLimiter } from '../../src/util/limiters';

describe('ConcurrencyLimiter', () => {
    it('runs at most `limit` at once, in FIFO order, and survives failures', async () => {
        const l = new ConcurrencyLimiter(2);
        let active = 0;
        let peak = 0;
        const order: number[] = [];
        const job = (i: number) => l.run(async () => {
            active++;
            peak = Math.max(peak, active);
            order.push(i);
            await new Promise((r) => setImmediate(r));
            active--;
            if (i === 1) {
                throw new Error('boom');
            }
            return i;
        });
        const results = await Promise.allSettled([0, 1, 2, 3, 4].map(job));
        assert.equal(peak, 2);
        assert.deepEqual(order, [0, 1, 2, 3, 4]);
        assert.equal(results[1].status, 'rejected');
        assert.deepEqual(results.filter((r) => r.status === 'fulfilled').map((r) => (r.status === 'fulfilled' ? r.value : -1)), [0, 2, 3, 4]);
        assert.equal(l.queued, 0);
    });
});

describe('RateLimiter', () => {
    it('spaces calls by their size at the given rate', async () => {
        let now = 0;
        const slept: number[] = [];
        const r = new RateLimiter(100, () => now, (ms) => {
            slept.push(ms);
            return Promise.resolve();
        });
        await r.take(50); // at once
        await r.take(50); // 500 ms later
        await r.take(200); // 1000 ms later (reserved after the previous one)
        assert.deepEqual(slept, [500, 1000]);
        now = 10000; // idle long enough: no wait
        await r.take(10);
        assert.deepEqual(slept, [500, 1000]);
    });

    it('is off at 0', async () => {
        const r = new RateLimiter(0, () => 0, () => Promise.reject(new Error('should not sleep')));
        await r.take(1e6);
    });
});
