import { Batch, ProviderName } from '../push/push-request';

/** What makes tokens sendable in one provider call (besides the provider's size limit). */
export interface MessageKey {
    readonly provider: ProviderName;
    readonly messageType: string;
    readonly topic?: string;
    readonly dryRun: boolean;
}

/**
 * One run of tokens waiting in the queue: an accepted request (which it references, so a
 * request costs one small object, not one per token) or a group of retries.
 */
export interface QueuedTokens extends MessageKey {
    readonly tokens: readonly string[];
    /** When this run entered the queue (acceptance, or retry scheduling): the queue-wait start. */
    readonly enqueuedAt: number;
    /** When each token was first accepted (for delivery.retry.maxAgeMs): one number for a
     * fresh request, one per token for retries, which mix tokens of different ages. */
    readonly acceptedAt: number | Float64Array;
    /** Provider calls already made per token: 0 for a fresh request, one per token for retries. */
    readonly attempts: number | Uint8Array;
}

/** A Batch for the provider plus, per token, what the retry policy needs to know. */
export interface DeliveryBatch {
    readonly batch: Batch;
    readonly acceptedAt: Float64Array;
    readonly attempts: Uint8Array;
}

export function acceptedAtOf(run: QueuedTokens, i: number): number {
    return typeof run.acceptedAt === 'number' ? run.acceptedAt : run.acceptedAt[i];
}

export function attemptsOf(run: QueuedTokens, i: number): number {
    return typeof run.attempts === 'number' ? run.attempts : run.attempts[i];
}
