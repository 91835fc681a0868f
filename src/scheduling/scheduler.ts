import { MessageSource, PushMessage } from '../push/message';
import { ProviderId, PushRequest } from '../push/provider';

/**
 * One run of tokens a scheduler holds: an accepted request (referenced, so a request costs
 * one small object, not one per token) or a group of retries.
 */
export interface QueuedTokens {
    readonly provider: ProviderId;
    readonly message: PushMessage;
    readonly dryRun: boolean;
    readonly source: MessageSource;
    readonly tokens: readonly string[];
    /**
     * De-duplication keys, parallel to `tokens`, only when some differ from the token itself
     * (an APNs token written upper-case or with spaces): see TokenSyntax.
     */
    readonly keys?: readonly string[];
    /** When this run entered the scheduler (acceptance, or retry scheduling): the queue-wait start. */
    readonly enqueuedAt: number;
    /** When each token was first accepted (for retry.maxAgeMs): one number for a fresh request, one per token for retries. */
    readonly acceptedAt: number | Float64Array;
    /** Provider calls already made per token: 0 for a fresh request, one per token for retries. */
    readonly attempts: number | Uint8Array;
}

export function acceptedAtOf(run: QueuedTokens, i: number): number {
    return typeof run.acceptedAt === 'number' ? run.acceptedAt : run.acceptedAt[i];
}

export function attemptsOf(run: QueuedTokens, i: number): number {
    return typeof run.attempts === 'number' ? run.attempts : run.attempts[i];
}

/** A request as a front door hands it over: valid tokens to send, and those that failed the syntax check. */
export interface AcceptedRequest extends PushRequest {
    /** De-duplication keys parallel to `tokens`, when some differ from the token (TokenSyntax `key`). */
    readonly keys?: readonly string[];
    /** Tokens that cannot be device tokens: settled dead at once, never sent. */
    readonly invalid?: readonly { token: string; reason: string }[];
}

export type RefusedReason = 'full' | 'draining';

export type EnqueueResult =
    | { readonly accepted: true }
    | { readonly accepted: false; readonly reason: RefusedReason; readonly retryAfterSeconds: number };

/** What was left when a drain's deadline passed. */
export interface DrainReport {
    /** Tokens still unfinished at the deadline, by provider instance. */
    readonly undelivered: Readonly<Record<string, number>>;
}

/** What every scheduler offers the lifecycle: refuse new work, finish what it holds. */
export interface Drainable {
    /**
     * Stops accepting, sends at once what it holds (no random delay) and waits for deliveries
     * and their due retries, until `deadline` (epoch ms). Resolves with what was left.
     */
    drain(deadline: number): Promise<DrainReport>;
}
