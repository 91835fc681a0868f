import { RetryConfig } from '../config/sections/delivery';
import { retryDelayMs } from '../delivery/retry-policy';

/** Longest backoff a retry waits while draining (unless the provider asked for longer). */
export const DRAIN_RETRY_MAX_MS = 250;

/**
 * The retry delay a scheduler asks for: the normal backoff, or while draining a short one
 * (the process is about to exit; what cannot be retried by the deadline is reported lost),
 * but never shorter than the provider's Retry-After.
 */
export function schedulerRetryDelay(draining: () => boolean, random: () => number) {
    return (attemptsMade: number, retryAfterMs: number | undefined, retry: RetryConfig): number =>
        draining() ? retryAfterMs ?? Math.min(DRAIN_RETRY_MAX_MS, retryDelayMs(attemptsMade, undefined, retry, random)) :
            retryDelayMs(attemptsMade, retryAfterMs, retry, random);
}
