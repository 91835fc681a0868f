export interface BackoffPolicy {
    readonly baseDelayMs: number;
    readonly maxDelayMs: number;
}

/**
 * Delay before retry number `attempt` (1 = first retry): exponential, capped, with "equal
 * jitter" (half fixed, half random) so that retries spread out but still grow. A
 * Retry-After from the wiki is a floor: we never come back sooner than asked.
 */
export function retryDelayMs(policy: BackoffPolicy, attempt: number, retryAfterMs?: number,
    random: () => number = Math.random): number {
    const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(attempt - 1, 30));
    const jittered = exp / 2 + random() * (exp / 2);
    return Math.round(Math.max(jittered, retryAfterMs ?? 0));
}
