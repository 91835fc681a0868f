import { RetryConfig } from '../config/sections/delivery';

/**
 * The delay before a transient failure is tried again: exponential backoff with full
 * jitter (a uniform draw in [0, min(maxDelayMs, baseDelayMs * 2^(attemptsMade-1)))), so a
 * provider outage does not make every worker retry in step; never shorter than what the
 * provider asked for with Retry-After, which wins even beyond maxDelayMs (maxAgeMs still
 * bounds the total).
 *
 * The libraries retry some failures internally and immediately (firebase-admin: 503 and
 * connection resets up to 4 times; node-apn: 429/5xx up to connectionRetryLimit). Those are
 * invisible here, so one of OUR attempts may be several HTTP requests; maxAttempts counts
 * ours only, and the providers engineer keeps the library retry counts small on purpose.
 *
 * @param attemptsMade provider calls already made for the token (>= 1)
 */
export function retryDelayMs(attemptsMade: number, retryAfterMs: number | undefined, retry: RetryConfig,
    random: () => number = Math.random): number {
    const ceiling = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** Math.max(0, attemptsMade - 1));
    const backoff = Math.floor(random() * ceiling);
    return retryAfterMs !== undefined && retryAfterMs > backoff ? retryAfterMs : backoff;
}

export type GiveUpWhy = 'max_attempts' | 'max_age';

/**
 * Whether a token may be tried again: undefined when it may, or why not.
 *
 * @param attemptsMade provider calls made so far, the one just answered included
 * @param maxAttempts delivery.retry.maxAttempts (or configErrorMaxAttempts)
 * @param acceptedAt when the token was first accepted
 * @param retryAt when the retry would be sent at the earliest
 */
export function whyGiveUp(attemptsMade: number, maxAttempts: number, acceptedAt: number, retryAt: number,
    maxAgeMs: number): GiveUpWhy | undefined {
    if (attemptsMade >= maxAttempts) {
        return 'max_attempts';
    }
    if (retryAt - acceptedAt > maxAgeMs) {
        return 'max_age';
    }
    return undefined;
}
