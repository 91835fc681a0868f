import { MessageSource } from './message';
import { ProviderId } from './provider';

/**
 * Where definitely-dead tokens go: the MediaWiki cleanup outbox for Echo's tokens, the
 * dead-token memory for the other front doors'. The delivery layer calls it (through the
 * mass-deletion guard) only for tokens a provider said are gone, never for dryRun batches.
 * It must not throw and must not block: it queues the work and returns.
 */
export interface DeadTokenSink {
    deadTokens(provider: ProviderId, tokens: readonly string[], source: MessageSource): void;
}
