import { backoffDelayMs } from '../util/backoff';
import { RetryConfig } from '../config/sections/delivery';

/**
 * The delay before a transient failure is tried again: exponential backoff with full
 * jitter (see util/backoff.ts), never shorter than what the provider asked for with
 * Retry-After, which wins even beyond maxDelayMs (maxAgeMs still bounds the total).
 *
 * The libraries retry some failures internally and immediately (firebase-admin: one
 * ECONNRESET). Those are invisible here, so one of OUR attempts may be two HTTP requests;
 * maxAttempts counts ours only.
 *
 * @param attemptsMade provider calls already made for the token (>= 1)
 */
export function retryDelayMs(attemptsMade: number, retryAfterMs: number | undefined, retry: RetryConfig,
    random: () => number = Math.random): number {
    return backoffDelayMs(retry, attemptsMade, 'full', retryAfterMs, random);
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
