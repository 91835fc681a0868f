import { ConfigError } from '../config-error';

/**
 * The privacy batching queue. `flushTimeoutMs`, `flushTimeoutMin`, `flushTimeoutMax` and
 * `maxSize` keep the meaning they had in the original service.
 */
export interface QueueingConfig {
    /** Milliseconds between flushes, or 'random' for a fresh delay in [min, max] at every flush. */
    readonly flushTimeoutMs: number | 'random';
    readonly flushTimeoutMin?: number;
    readonly flushTimeoutMax?: number;
    /**
     * A flush starts as soon as this many tokens are waiting (or the cap, maxQueuedTokens, is
     * reached, if that is lower: a huge maxSize means "flush on the timer only", as in the original).
     */
    readonly maxSize: number;
    /** Hard cap on tokens held (new ones and retries). Past it, requests get 503 + Retry-After. */
    readonly maxQueuedTokens: number;
    /** Retry-After (seconds) sent with the 503 when the queue is full. */
    readonly retryAfterSeconds: number;
    /** Log every queued request at debug level (original key). */
    readonly verbose: boolean;
}

export const queueingSchema = {
    type: 'object',
    additionalProperties: false,
    default: {},
    properties: {
        flushTimeoutMs: { anyOf: [{ type: 'integer', minimum: 0 }, { const: 'random' }], default: 10000 },
        flushTimeoutMin: { type: 'integer', minimum: 0 },
        flushTimeoutMax: { type: 'integer', minimum: 0 },
        maxSize: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER, default: 1000 },
        maxQueuedTokens: { type: 'integer', minimum: 1, default: 200000 },
        retryAfterSeconds: { type: 'integer', minimum: 1, maximum: 3600, default: 5 },
        verbose: { type: 'boolean', default: false }
    }
} as const;

/**
 * Checks the rules a JSON schema cannot say.
 *
 * @return warnings to log once at start-up (the config still starts)
 * @throws ConfigError naming the key
 */
export function checkQueueing(q: QueueingConfig): string[] {
    const warnings: string[] = [];
    if (q.flushTimeoutMs === 'random') {
        if (q.flushTimeoutMin === undefined || q.flushTimeoutMax === undefined) {
            throw new ConfigError('queueing.flushTimeoutMs',
                "'random' needs both queueing.flushTimeoutMin and queueing.flushTimeoutMax");
        }
        if (q.flushTimeoutMax < q.flushTimeoutMin) {
            throw new ConfigError('queueing.flushTimeoutMax',
                `must be >= queueing.flushTimeoutMin (${q.flushTimeoutMin}), got ${q.flushTimeoutMax}`);
        }
    } else if (q.flushTimeoutMin !== undefined || q.flushTimeoutMax !== undefined) {
        throw new ConfigError('queueing.flushTimeoutMin',
            "flushTimeoutMin/flushTimeoutMax are only used with flushTimeoutMs: 'random'");
    }
    if (q.maxQueuedTokens < q.maxSize) {
        // The original service's default maxSize was Number.MAX_SAFE_INTEGER: "flush on the
        // timer only". That config must still start; the cap decides what is held.
        warnings.push(`queueing.maxSize (${q.maxSize}) is above queueing.maxQueuedTokens (${q.maxQueuedTokens}): ` +
            'a flush starts on the timer, or when the cap is reached');
    }
    return warnings;
}
