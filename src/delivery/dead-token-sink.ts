import { ProviderName } from '../push/push-request';

/**
 * Where definitely-dead tokens go. The delivery layer calls it (through the mass-deletion
 * guard) only for tokens a provider said are gone, and never for dryRun batches. The
 * MediaWiki cleanup outbox implements it. It must not throw and must not block: it queues
 * the work and returns.
 */
export interface DeadTokenSink {
    deadTokens(provider: ProviderName, tokens: readonly string[]): void;
}
