import { PushRequest } from '../push/push-request';

export type EnqueueResult =
    | { readonly accepted: true }
    | { readonly accepted: false; readonly reason: 'full' | 'draining'; readonly retryAfterSeconds: number };

/**
 * The seam between the HTTP API and delivery. `enqueue` is synchronous and cheap: the
 * request is answered 200 as soon as it returns `accepted`, and from then on the queue
 * owns the tokens (delivered, retried, or counted and logged as given up).
 */
export interface MessageQueue {
    enqueue(request: PushRequest): EnqueueResult;
    /** Tokens held, new and retries alike. */
    readonly size: number;
    /** True while the cap is reached (readiness reports not-ready). */
    readonly isFull: boolean;
    /**
     * Stops accepting, flushes at once (no random delay) and waits for deliveries and
     * their due retries, until `deadline` (epoch ms). Resolves with what was left undelivered.
     */
    drain(deadline: number): Promise<DrainReport>;
}

export interface DrainReport {
    /** Tokens still undelivered at the deadline, by provider. */
    readonly undelivered: Readonly<Record<string, number>>;
}
