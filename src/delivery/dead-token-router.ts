import { Logger } from '../logging/logger';
import { tokenFingerprints } from '../logging/redact';
import { DeadTokenSink } from '../push/dead-token-sink';
import { MessageSource } from '../push/message';
import { ProviderId } from '../push/provider';

/**
 * Sends dead tokens back where they came from: Echo's to the MediaWiki cleanup outbox, the
 * Matrix and MongoosePush front doors' to the dead-token memory they consult at accept time.
 * It sits behind the mass-deletion guard. A source without a sink (the `send` command) is
 * only logged.
 */
export class DeadTokenRouter implements DeadTokenSink {
    constructor(private readonly sinks: Partial<Record<MessageSource, DeadTokenSink>>, private readonly logger: Logger) {}

    deadTokens(provider: ProviderId, tokens: readonly string[], source: MessageSource): void {
        const sink = this.sinks[source];
        if (sink) {
            sink.deadTokens(provider, tokens, source);
            return;
        }
        this.logger.log('info/delivery', {
            msg: 'dead tokens with nowhere to report them', provider, source, count: tokens.length, tokens: tokenFingerprints(tokens)
        });
    }
}
