/**
 * How batches are delivered: per-provider concurrency, retries of transient failures,
 * outbound rate limits and the mass-deletion guard.
 */
export interface RetryConfig {
    /** Attempts per token, the first send included. */
    readonly maxAttempts: number;
    /** A token older than this (since it was accepted) is given up instead of retried. */
    readonly maxAgeMs: number;
    /** Exponential backoff with full jitter: base * 2^(attempt-1), capped at maxDelayMs. */
    readonly baseDelayMs: number;
    readonly maxDelayMs: number;
    /**
     * Attempts for a token whose answer was config_error (bad credentials, topic, payload),
     * the first send included. Default 1: never retried, counted as gave_up at once, because
     * a wrong config does not heal by itself and retrying would double the traffic it wastes.
     * Never deleted either way.
     */
    readonly configErrorMaxAttempts: number;
}

export interface DeletionGuardConfig {
    /** Sliding window over which dead answers are counted, per provider. */
    readonly windowMs: number;
    /** Trip when more than this share of the tokens sent in the window came back dead... */
    readonly maxDeadRatio: number;
    /** ...and more than this many tokens came back dead. */
    readonly minDeadTokens: number;
    /** Only log what would be deleted; never hand deletions on to MediaWiki. */
    readonly logOnly: boolean;
    /** Most dead tokens held while tripped, per provider; past it they are counted and discarded. */
    readonly maxHeldTokens: number;
    /**
     * What happens to held deletions once the guard clears (healthy for a full window):
     * 'discard' (default) drops them, since a deletion cannot be undone and a token that is
     * really dead will be reported dead again on its next send; 'release' hands them on.
     */
    readonly onClear: 'discard' | 'release';
}

/** A value per provider kind: the default of every instance of that kind. */
export interface ProviderLimits {
    readonly fcm: number;
    readonly apns: number;
    readonly webpush: number;
}

export interface DeliveryConfig {
    /** Provider calls in flight at once, per instance (default per kind; see provider-registry.ts). */
    readonly concurrency: ProviderLimits;
    /** Outbound tokens per second, per instance (default per kind); 0 means unlimited. */
    readonly rateLimitPerSecond: ProviderLimits;
    /** Most tokens in one provider call (FCM's multicast limit is 500). */
    readonly batchSize: number;
    readonly retry: RetryConfig;
    readonly deletionGuard: DeletionGuardConfig;
    /**
     * Deadline of one provider call as a whole, ms: whatever a provider library is stuck on,
     * its unanswered tokens are then retried and its concurrency slot freed. Each provider
     * also bounds its own requests (requestTimeoutMs), well below this.
     */
    readonly callTimeoutMs: number;
    /** A provider whose calls got no answer at all for this long is reported stalled (metric, /readyz body), ms. */
    readonly stallAfterMs: number;
}

const providerLimits = (min: number, dflt: number) => ({
    type: 'object',
    additionalProperties: false,
    default: {},
    properties: {
        fcm: { type: 'integer', minimum: min, default: dflt },
        apns: { type: 'integer', minimum: min, default: dflt },
        webpush: { type: 'integer', minimum: min, default: dflt }
    }
});

export const deliverySchema = {
    type: 'object',
    additionalProperties: false,
    default: {},
    properties: {
        concurrency: providerLimits(1, 4),
        rateLimitPerSecond: providerLimits(0, 0),
        batchSize: { type: 'integer', minimum: 1, maximum: 500, default: 500 },
        callTimeoutMs: { type: 'integer', minimum: 100, default: 60000 },
        stallAfterMs: { type: 'integer', minimum: 1000, default: 120000 },
        retry: {
            type: 'object',
            additionalProperties: false,
            default: {},
            properties: {
                maxAttempts: { type: 'integer', minimum: 1, maximum: 100, default: 6 },
                maxAgeMs: { type: 'integer', minimum: 1000, default: 3600000 },
                baseDelayMs: { type: 'integer', minimum: 1, default: 2000 },
                maxDelayMs: { type: 'integer', minimum: 1, default: 300000 },
                configErrorMaxAttempts: { type: 'integer', minimum: 1, maximum: 100, default: 1 }
            }
        },
        deletionGuard: {
            type: 'object',
            additionalProperties: false,
            default: {},
            properties: {
                windowMs: { type: 'integer', minimum: 1000, default: 600000 },
                maxDeadRatio: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.5 },
                minDeadTokens: { type: 'integer', minimum: 0, default: 200 },
                logOnly: { type: 'boolean', default: false },
                maxHeldTokens: { type: 'integer', minimum: 0, default: 100000 },
                onClear: { enum: ['discard', 'release'], default: 'discard' }
            }
        }
    }
} as const;
