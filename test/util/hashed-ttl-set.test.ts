import assert from 'node:assert/strict';
import { HashedTtlSet } from '../../src/util/hashed-ttl-set';

describe('util: HashedTtlSet', () => {
    let now = 0;
    const make = (ttlMs = 1000, maxSize = 3) => new HashedTtlSet({ ttlMs, maxSize, now: () => now });
    beforeEach(() => {
        now = 1_000_000;
    });

    it('has what was added, until the TTL passes', () => {
        const s = make();
        s.add('a');
        assert.equal(s.has('a'), true);
        assert.equal(s.has('b'), false);
        now += 999;
        assert.equal(s.has('a'), true);
        now += 1;
        assert.equal(s.has('a'), false, 'expired at exactly ttlMs');
    });

    it('adding again renews the TTL', () => {
        const s = make();
        s.add('a');
        now += 600;
        s.add('a');
        now += 600;
        assert.equal(s.has('a'), true);
        assert.equal(s.size, 1);
    });

    it('is bounded: past maxSize the oldest is forgotten first', () => {
        const s = make(60_000, 3);
        for (const k of ['a', 'b', 'c']) {
            s.add(k);
        }
        s.add('a'); // renewed: now the newest
        s.add('d');
        assert.equal(s.size, 3);
        assert.deepEqual(['a', 'b', 'c', 'd'].map((k) => s.has(k)), [true, false, true, true]);
    });

    it('drops expired keys as it goes, so size stays small under churn', () => {
        const s = make(100, 1000);
        for (let i = 0; i < 10_000; i++) {
            s.add(`k${i}`);
            now += 1;
        }
        assert.ok(s.size <= 101, `size ${s.size}`);
        assert.equal(s.has('k9999'), true);
        assert.equal(s.has('k0'), false);
    });

    it('delete and clear forget keys', () => {
        const s = make();
        s.add('a');
        s.add('b');
        assert.equal(s.delete('a'), true);
        assert.equal(s.delete('a'), false);
        assert.equal(s.has('a'), false);
        s.clear();
        assert.equal(s.size, 0);
    });

    it('never holds the key itself, only its SHA-256', () => {
        const s = make();
        const token = 'fcm-token-that-must-not-linger:APA91bxxxxxxxxxxxxxxxx';
        s.add(token);
        const held = [...(s as unknown as { entries: Map<string, number> }).entries.keys()];
        assert.equal(held.length, 1);
        assert.ok(!held[0].includes('APA91b'));
        assert.match(held[0], /^[A-Za-z0-9+/]{43}=$/);
    });

    it('refuses a zero TTL or size', () => {
        assert.throws(() => make(0, 1), RangeError);
        assert.throws(() => make(1, 0), RangeError);
    });

    it('costs O(1) amortised: adding at the bound (one eviction each) costs about what adding below it does', () => {
        const s = new HashedTtlSet({ ttlMs: 3_600_000, maxSize: 50_000, now: () => now });
        const time = (from: number, n: number) => {
            const t0 = performance.now();
            for (let i = from; i < from + n; i++) {
                s.add(`token-${i}`);
            }
            return performance.now() - t0;
        };
        time(0, 10_000); // warm up
        const below = time(10_000, 40_000); // fills to the bound: no eviction
        assert.equal(s.size, 50_000);
        const atBound = time(50_000, 120_000) / 3; // each add evicts the oldest; per 40 000
        assert.equal(s.size, 50_000);
        assert.equal(s.has('token-169999'), true);
        assert.equal(s.has('token-120000'), true);
        assert.equal(s.has('token-119999'), false);
        // A fresh iterator per eviction walks the holes V8 leaves at the front: 10x slower or worse.
        assert.ok(atBound < below * 3 + 50, `at the bound ${atBound.toFixed(0)} ms, below it ${below.toFixed(0)} ms`);
    });
});
