import { Batch, ProviderName } from '../push/push-request';

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
    readonly retryAfterMs?: number;
}

/**
 * The provider seam, one method wide (as in Sygnal): send a batch, get one classified result
 * per token. `send` must not reject for per-token failures or for a whole-call failure
 * (network, session): those become 'transient' results. FCM and APNs implement it; Web Push
 * would be a third implementation.
 */
export interface PushProvider {
    readonly name: ProviderName;
    send(batch: Batch): Promise<TokenResult[]>;
    /** Releases connections; bounded in time even if the peer is gone. */
    close(): Promise<void>;
}
