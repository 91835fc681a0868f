import { MessageSource, PushMessage } from '../push/message';
import { Batch, ProviderId } from '../push/provider';

/**
 * A Batch for the provider plus what delivery needs per token: when it was first accepted
 * and how many provider calls it has had (for the retry policy), and where it came from
 * (where its dead tokens go).
 */
export interface DeliveryBatch {
    readonly batch: Batch;
    readonly source: MessageSource;
    readonly acceptedAt: Float64Array;
    readonly attempts: Uint8Array;
    /**
     * Other spellings of a token that were dropped as its duplicates (an APNs token upper-
     * and lower-case): when the kept token turns out dead, these are deleted too.
     */
    readonly aliases?: ReadonlyMap<string, readonly string[]>;
}

/**
 * Tokens to send again, as one run for the scheduler to hold: the same provider, message,
 * dryRun and source; per token, its acceptance time and attempts so far.
 */
export interface RetryRun {
    readonly provider: ProviderId;
    readonly message: PushMessage;
    readonly dryRun: boolean;
    readonly source: MessageSource;
    readonly tokens: readonly string[];
    readonly acceptedAt: Float64Array;
    readonly attempts: Uint8Array;
    /** Not before this many ms from now: the longest Retry-After any of its tokens got. */
    readonly retryAfterMs?: number;
    /** The delay the retry policy chose (ms from now). */
    readonly delayMs: number;
}
