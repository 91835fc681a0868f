import assert from 'node:assert/strict';
import { backoffDelayMs } from '../../src/util/backoff';

describe('util: backoffDelayMs', () => {
    const p = { baseDelayMs: 1000, maxDelayMs: 60_000 };
    const cases: Array<[string, number, 'equal' | 'full', number | undefined, number, number]> = [
        // name, attempt, jitter, retryAfterMs, random, expected
        ['equal jitter, lowest draw: half the ceiling', 1, 'equal', undefined, 0, 500],
        ['equal jitter, highest draw: the ceiling', 1, 'equal', undefined, 1, 1000],
        ['doubles per attempt', 4, 'equal', undefined, 1, 8000],
        ['capped at maxDelayMs', 40, 'equal', undefined, 1, 60_000],
        ['Retry-After is a floor', 1, 'equal', 30_000, 1, 30_000],
        ['Retry-After wins even beyond maxDelayMs', 1, 'equal', 120_000, 1, 120_000],
        ['a shorter Retry-After does not shorten it', 4, 'equal', 10, 1, 8000],
        ['full jitter, lowest draw: 0', 3, 'full', undefined, 0, 0],
        ['full jitter, mid draw', 3, 'full', undefined, 0.5, 2000]
    ];
    for (const [name, attempt, jitter, retryAfter, r, expected] of cases) {
        it(name, () => {
            assert.equal(backoffDelayMs(p, attempt, jitter, retryAfter, () => r), expected);
        });
    }
});
