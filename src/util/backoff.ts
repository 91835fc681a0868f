/**
 * The one backoff function: exponential, capped, jittered; a Retry-After is a floor.
 *
 * - `full` jitter (a uniform draw in [0, ceiling)) spreads a crowd of independent retries
 *   best: every token batch that failed in a provider outage retries at its own moment
 *   (AWS Architecture Blog, "Exponential Backoff And Jitter"). Used by delivery.
 * - `equal` jitter (half fixed, half random) keeps a floor under each pause: used where one
 *   actor pauses as a whole after a failure (the MediaWiki outbox), so it never comes back
 *   almost at once.
 *
 * The provider's Retry-After (RFC 9110 §10.2.3) wins when longer, even beyond maxDelayMs:
 * callers bound the total with their own age limit.
 */
export interface BackoffPolicy {
    /** Delay ceiling for the first retry, ms; doubles per attempt. */
    readonly baseDelayMs: number;
    /** Highest ceiling, ms. */
    readonly maxDelayMs: number;
}

export type Jitter = 'full' | 'equal';

/**
 * @param attempt the retry about to be scheduled: 1 = the first retry (after one failure)
 * @param retryAfterMs what the peer asked for, if anything (a floor)
 * @param random a source in [0, 1)
 * @return the delay in whole ms
 */
export function backoffDelayMs(policy: BackoffPolicy, attempt: number, jitter: Jitter,
    retryAfterMs?: number, random: () => number = Math.random): number {
    const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(Math.max(0, attempt - 1), 30));
    const delay = jitter === 'full' ? Math.floor(random() * ceiling) : Math.round(ceiling / 2 + random() * (ceiling / 2));
    return retryAfterMs !== undefined && retryAfterMs > delay ? retryAfterMs : delay;
}
