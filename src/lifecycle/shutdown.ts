import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Delivery } from '../delivery/delivery';
import { Logger } from '../logging/logger';
import { tokenFingerprints } from '../logging/redact';
import { ServiceMetrics } from '../metrics/service-metrics';
import { SubscriptionCleanup } from '../mediawiki/subscription-cleanup';
import { drainSchedulers, DrainingScheduler } from '../scheduling/drain';
import { TokenLedger } from '../scheduling/token-ledger';
import { Lifecycle } from './readiness';

export interface ShutdownParts {
    readonly lifecycle: Lifecycle;
    readonly server: Server;
    readonly schedulers: readonly DrainingScheduler[];
    readonly ledger: TokenLedger;
    readonly delivery: Delivery;
    readonly cleanup: SubscriptionCleanup;
    /** Other things to close last (the dead-token memory's timers, ...). */
    readonly closeLast?: () => Promise<void>;
    readonly logger: Logger;
    readonly metrics: ServiceMetrics;
}

/**
 * Share of the shutdown budget deliveries may use before the MediaWiki deletions get the
 * rest: dead tokens only appear as answers to deliveries, so deletions must come last, but
 * a long delivery retry must not leave them no time at all.
 */
const DELIVERY_SHARE = 0.7;

/** What the drain reports at the end (also logged). */
export interface ShutdownReport {
    /** Tokens unfinished at the delivery deadline, by provider instance. */
    readonly undelivered: Readonly<Record<string, number>>;
    /** Dead-token deletions not done: held by the mass-deletion guard, or still in the outbox. */
    readonly deletionsHeld: number;
    readonly deletionsPending: number;
}

/**
 * Drains the service within `timeoutMs`, in the order that loses nothing:
 * readiness 503 → stop accepting (in-flight requests finish) → every scheduler sends at once
 * what it holds, with due retries → MediaWiki deletions → close provider connections.
 * The account is per token: whatever is unfinished at the deadline is counted
 * (shutdown_undelivered_total, tokens_finished_total{result="shutdown"}) and logged by
 * provider; deletions the mass-deletion guard still holds, and deletions the outbox could not
 * send, are lost with the process: counted (shutdown_deletions_lost_total) and logged with
 * their fingerprints.
 */
export async function drainService(parts: ShutdownParts, timeoutMs: number): Promise<ShutdownReport> {
    const { lifecycle, server, ledger, delivery, cleanup, logger, metrics } = parts;
    const start = Date.now();
    const deadline = start + timeoutMs;
    lifecycle.draining();
    logger.log('info/shutdown', { msg: 'draining: readiness is 503, no new requests', queued: ledger.size });

    await closeServer(server, deadline);

    const { undelivered } = await drainSchedulers(parts.schedulers, ledger, start + timeoutMs * DELIVERY_SHARE);
    let undeliveredTotal = 0;
    for (const [provider, count] of Object.entries(undelivered)) {
        if (count > 0) {
            undeliveredTotal += count;
            const labels = delivery.labels(provider);
            metrics.shutdownUndelivered.inc(labels, count);
            metrics.finished.inc({ ...labels, result: 'shutdown' }, count);
            logger.log('error/shutdown', { msg: 'tokens undelivered at the shutdown deadline', ...labels, count });
        }
    }

    // Leave a little time to close connections cleanly before the deadline.
    const { pending } = await cleanup.drain(deadline - Math.min(1000, timeoutMs * 0.05));
    if (pending > 0) {
        for (const p of cleanup.pendingByProvider()) {
            const labels = delivery.has(p.provider) ? delivery.labels(p.provider) : { provider: p.provider, kind: 'unknown' };
            metrics.shutdownDeletionsLost.inc({ ...labels, where: 'outbox' }, p.tokens);
            logger.log('error/shutdown', {
                msg: 'subscription deletions not sent at the shutdown deadline', ...labels, count: p.tokens, tokens: p.sample
            });
        }
    }
    let held = 0;
    for (const h of delivery.guard.heldDeletions()) {
        held += h.tokens.length;
        metrics.shutdownDeletionsLost.inc({ ...h.labels, where: 'guard' }, h.tokens.length);
        logger.log('error/shutdown', {
            msg: 'deletions held by the mass-deletion guard are lost at exit (really dead tokens will be reported dead again)',
            ...h.labels, count: h.tokens.length, tokens: tokenFingerprints(h.tokens, 20)
        });
    }
    // Closing is bounded by each client's own timeout (apns.shutdownTimeoutMs may exceed what
    // is left); the process must still exit within shutdown_timeout, so stop waiting at the deadline.
    await untilDeadline(Promise.allSettled([delivery.close(), cleanup.close(), parts.closeLast?.()]), deadline);
    logger.log('info/shutdown', {
        msg: 'stopped', undelivered: undeliveredTotal, deletionsHeld: held, deletionsPending: pending, tookMs: Date.now() - start
    });
    return { undelivered, deletionsHeld: held, deletionsPending: pending };
}

/** How often connections that went idle during the drain are closed. */
const IDLE_SWEEP_MS = 100;

/**
 * Stops listening and waits for in-flight requests; idle keep-alive sockets are closed at
 * once, and any connection still open at the deadline is cut.
 *
 * server.close() alone does not end a keep-alive connection that is in use: Node keeps
 * answering on it with `Connection: keep-alive`, so a client that keeps sending (Echo's job
 * runners do) held the server open until the deadline, and the queue drain, which comes
 * after, got no time at all. So every answer from now on says `Connection: close`, and
 * connections that finish an in-flight request are swept as soon as they are idle.
 */
function closeServer(server: Server, deadline: number): Promise<void> {
    return new Promise((resolve) => {
        const closeAfterAnswer = (_req: IncomingMessage, res: ServerResponse): void => {
            if (!res.headersSent) {
                res.setHeader('Connection', 'close');
            }
        };
        server.prependListener('request', closeAfterAnswer);
        const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
        const done = (): void => {
            clearTimeout(timer);
            clearInterval(sweep);
            server.removeListener('request', closeAfterAnswer);
            resolve();
        };
        const timer = setTimeout(() => {
            server.closeAllConnections();
            done();
        }, Math.max(0, deadline - Date.now()));
        server.close(done);
        server.closeIdleConnections();
    });
}

/** Resolves when `work` settles or at `deadline` (epoch ms), whichever comes first. */
async function untilDeadline(work: Promise<unknown>, deadline: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([work, new Promise<void>((resolve) => {
        timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
    })]);
    clearTimeout(timer);
}
