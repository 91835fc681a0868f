import { MessageSource, PushMessage } from './message';

/**
 * The provider seam and the shapes that cross it. Shared by every layer: front doors check
 * token syntax, schedulers hold batches, delivery acts on outcomes, providers send.
 */
export const PROVIDER_KINDS = ['apns', 'fcm', 'webpush'] as const;
/** A push service protocol. */
export type ProviderKind = typeof PROVIDER_KINDS[number];
/**
 * A configured provider instance ('apns', 'fcm', 'webpush' for the legacy blocks; any name
 * under `providers:`). Metric label `provider`; the kind is the `kind` label.
 */
export type ProviderId = string;

/**
 * One provider call's worth of tokens that share everything else: same provider instance,
 * message and dryRun. Tokens are the strings as accepted (Echo stores them so; Matrix needs
 * them back exactly in `rejected`); the provider derives the wire form (token-syntax.ts).
 */
export interface Batch {
    readonly provider: ProviderId;
    readonly message: PushMessage;
    readonly dryRun: boolean;
    readonly tokens: readonly string[];
}

/**
 * What a provider said about one token. The delivery layer acts on `outcome`:
 * - delivered: done;
 * - dead: the provider definitely said the token is gone; its subscription may be deleted;
 * - config_error: our credentials, topic or payload are wrong; never delete, never retry forever;
 * - transient: try again later (after `retryAfterMs` when the provider said so).
 * `reason` is the provider's own code (e.g. 'Unregistered', 'messaging/internal-error'); it
 * becomes a metric label, so it must come from a small fixed set, never from a token.
 */
export type TokenOutcome = 'delivered' | 'dead' | 'config_error' | 'transient';

export interface TokenResult {
    readonly token: string;
    readonly outcome: TokenOutcome;
    readonly reason: string;
    /** Milliseconds the provider asked us to wait (Retry-After), for transient results. */
    readonly retryAfterMs?: number;
    /** For config errors: what the provider said, for the one error line (never a token). */
    readonly detail?: string;
    /**
     * True when no answer came from the push service at all (timeout, connection refused or
     * reset, proxy failure): the delivery layer's stuck-egress signal counts these. A transient
     * result whose reason is one of NO_ANSWER_REASONS counts as unanswered too.
     */
    readonly unanswered?: boolean;
}

/** The reasons providers use for "no answer from the push service" (transient results). */
export const NO_ANSWER_REASONS: ReadonlySet<string> = new Set([
    'timeout', 'connection-error', 'network_error', 'call-failed', 'oauth-unavailable', 'closed',
    'call_deadline', 'send_rejected', 'no_result'
]);

/** Whether a result is an answer from the push service (anything but a NO_ANSWER transient). */
export function isAnswer(r: TokenResult): boolean {
    return !r.unanswered && !(r.outcome === 'transient' && NO_ANSWER_REASONS.has(r.reason));
}

/**
 * The provider seam, one method wide (as in Sygnal): send a batch; report each token's
 * classified result through `onResults` as soon as it is known (each token exactly once,
 * in groups of any size), and resolve when every token has been reported. `send` must not
 * reject: per-token failures and whole-call failures (network, session) are results
 * ('transient'). A token it never reports is treated as transient by the caller.
 * APNs, FCM and Web Push implement it.
 */
export interface PushProvider {
    readonly id: ProviderId;
    readonly kind: ProviderKind;
    send(batch: Batch, onResults: (results: readonly TokenResult[]) => void): Promise<void>;
    /** Releases connections; bounded in time even if the peer is gone. */
    close(): Promise<void>;
}

/** One accepted request for one provider instance, as a scheduler receives it. */
export interface PushRequest {
    readonly provider: ProviderId;
    /** Syntactically valid tokens, as accepted (see TokenSyntax). */
    readonly tokens: readonly string[];
    /**
     * The message. Requests whose message is the SAME OBJECT (and same provider, dryRun and
     * source) may share provider calls: Echo interns one message per type and topic.
     */
    readonly message: PushMessage;
    readonly dryRun: boolean;
    readonly source: MessageSource;
}
