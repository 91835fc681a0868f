import assert from 'node:assert/strict';
import { parseRetryAfter } from '../../src/util/retry-after';

describe('parseRetryAfter', () => {
    const now = Date.parse('2026-11-03T10:00:00Z');

    it('reads delta-seconds', () => {
        assert.equal(parseRetryAfter('120', now), 120000);
        assert.equal(parseRetryAfter(' 0 ', now), 0);
        assert.equal(parseRetryAfter(['7', '9'], now), 7000);
        assert.equal(parseRetryAfter(3, now), 3000);
    });

    it('reads an HTTP-date relative to now', () => {
        assert.equal(parseRetryAfter('Tue, 03 Nov 2026 10:00:30 GMT', now), 30000);
    });

    it('treats a date in the past as now', () => {
        assert.equal(parseRetryAfter('Tue, 03 Nov 2026 09:00:00 GMT', now), 0);
    });

    it('gives undefined for what it cannot read', () => {
        for (const bad of [undefined, null, '', '  ', '-5', '1.5', 'soon', 'Someday, 99 Foo', -1, NaN]) {
            assert.equal(parseRetryAfter(bad as never, now), undefined, String(bad));
        }
    });
});
