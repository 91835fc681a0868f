import type { ServiceConfig } from '../config/service-config';
import type { Logger } from '../logging/logger';
import { tokenFingerprints } from '../logging/redact';
import type { ServiceMetrics } from '../metrics/service-metrics';
import type { DeadTokenSink } from '../push/dead-token-sink';
import type { MessageSource } from '../push/message';
import type { ProviderId } from '../push/provider';
import type { Clock } from '../util/clock';
import { DeletionOutbox } from './deletion-outbox';
import { SubscriptionDeleter } from './subscription-deleter';
import { openWikiSession } from './wiki-session';

/**
 * The dead-token sink the service wires into delivery (through the mass-deletion guard),
 * plus the lifecycle hooks. Every token it gets is deleted on the wiki alike: `source` is
 * accepted and ignored (optional, so the old two-argument sink callers still fit).
 */
export interface SubscriptionCleanup extends DeadTokenSink {
    deadTokens(provider: ProviderId, tokens: readonly string[], source?: MessageSource): void;
    /** Delivers what it can before `deadline` (epoch ms); reports how many tokens are left. */
    drain(deadline: number): Promise<{ pending: number }>;
    close(): Promise<void>;
    /** For health checks and tests: tokens waiting, delete calls in progress. */
    stats(): { pending: number; callsInFlight: number };
    /** Tokens still waiting, per provider, with a few fingerprints (for the shutdown report). */
    pendingByProvider(): Array<{ provider: ProviderId; tokens: number; sample: string[] }>;
}

export interface SubscriptionCleanupDeps {
    readonly config: ServiceConfig;
    readonly logger: Logger;
    readonly metrics: ServiceMetrics;
    /** Overrides `mwapi_req.uri`, e.g. with a local fake wiki's address in dev mode. */
    readonly apiUri?: string;
    /** For tests. */
    readonly clock?: Clock;
    readonly random?: () => number;
    readonly fetch?: typeof fetch;
}

/**
 * Builds the MediaWiki cleanup: action API client → logged-in session → deleter → outbox.
 * Without credentials, or with `mediawiki.mock`, nothing is ever deleted and every dead
 * token is logged instead. (`delivery.deletionGuard.logOnly` needs nothing here: the guard
 * then never hands a token on.)
 */
export function createSubscriptionCleanup(deps: SubscriptionCleanupDeps): SubscriptionCleanup {
    const { config, logger, metrics } = deps;
    const username = config.mw_subscription_manager_username;
    const password = config.mw_subscription_manager_password;
    if (config.mediawiki.mock) {
        // Development without the launcher (scripts/dev/start.ts swaps `mock` for a fake wiki):
        // there is no wiki to talk to, so say what would have been deleted.
        logger.log('warn/mediawiki', { msg: 'mediawiki.mock is on: dead tokens are logged, never deleted on a wiki' });
        return new LoggingOnlyCleanup(logger, 'mediawiki.mock', (n) => metrics.mwDeletions.inc({ result: 'requested' }, n));
    }
    if (!username || !password) {
        logger.log('error/mediawiki', {
            msg: 'No mw_subscription_manager_username/_password: dead subscriptions will NOT be deleted on the wiki'
        });
        return new LoggingOnlyCleanup(logger, 'no credentials', (n) => metrics.mwDeletions.inc({ result: 'dropped' }, n));
    }

    const wiki = openWikiSession({ config, logger, credentials: { username, password }, metrics, apiUri: deps.apiUri, fetch: deps.fetch });
    const outbox = new DeletionOutbox({
        deleter: new SubscriptionDeleter(wiki.session, logger),
        chunkSize: config.mediawiki.deleteChunkSize,
        outbox: config.mediawiki.outbox,
        logger,
        metrics,
        clock: deps.clock,
        random: deps.random
    });
    logger.log('info/mediawiki', {
        msg: 'MediaWiki subscription cleanup ready', uri: wiki.uri, user: username, loginMethod: config.mediawiki.loginMethod,
        chunkSize: config.mediawiki.deleteChunkSize, requestTimeoutMs: config.mediawiki.requestTimeoutMs,
        proxy: config.proxy !== undefined, hostHeader: wiki.hostHeader
    });
    return {
        deadTokens: (provider, tokens, source) => outbox.deadTokens(provider, tokens, source),
        drain: (deadline) => outbox.drain(deadline),
        stats: () => ({ pending: outbox.size, callsInFlight: outbox.callsInFlight }),
        pendingByProvider: () => outbox.pendingByProvider(),
        async close() {
            outbox.close();
            await wiki.close();
        }
    };
}

/** Stands in for the outbox when deleting is switched off: says what it would have deleted. */
class LoggingOnlyCleanup implements SubscriptionCleanup {
    constructor(private readonly logger: Logger, private readonly why: string,
        private readonly count: (n: number) => void) {}

    deadTokens(provider: ProviderId, tokens: readonly string[]): void {
        if (!tokens.length) {
            return;
        }
        this.count(tokens.length);
        this.logger.log('info/mediawiki', {
            msg: `Not deleting dead subscriptions on the wiki (${this.why})`,
            provider, tokens: tokens.length, sample: tokenFingerprints(tokens)
        });
    }

    drain(): Promise<{ pending: number }> {
        return Promise.resolve({ pending: 0 });
    }

    close(): Promise<void> {
        return Promise.resolve();
    }

    stats(): { pending: number; callsInFlight: number } {
        return { pending: 0, callsInFlight: 0 };
    }

    pendingByProvider(): Array<{ provider: ProviderId; tokens: number; sample: string[] }> {
        return [];
    }
}
