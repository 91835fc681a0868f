import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Logger } from '../logging/logger';
import { ServiceMetrics } from '../metrics/service-metrics';
import { PushProvider } from '../providers/push-provider';
import { MessageQueue } from '../queue/message-queue';
import { SubscriptionCleanup } from '../mediawiki/subscription-cleanup';
import { Lifecycle } from './readiness';

export interface ShutdownParts {
    readonly lifecycle: Lifecycle;
    readonly server: Server;
    readonly queue: MessageQueue;
    readonly cleanup: SubscriptionCleanup;
    readonly providers: readonly PushProvider[];
    readonly logger: Logger;
    readonly metrics: ServiceMetrics;
}

/**
 * Share of the shutdown budget deliveries may use before the MediaWiki deletions get the
 * rest: dead tokens only appear as answers to deliveries, so deletions must come last, but
 * a long delivery retry must not leave them no time at all.
 */
const DELIVERY_SHARE = 0.7;

/**
 * Drains the service within `timeoutMs`, in the order that loses nothing:
 * readiness 503 → stop accepting (in-flight requests finish) → flush the queue at once and
 * deliver, with due retries → MediaWiki deletions → close provider connections.
 * Whatever is still undelivered at the deadline is counted and logged by provider.
 */
export async function drainService(parts: ShutdownParts, timeoutMs: number): Promise<void> {
    const { lifecycle, server, queue, cleanup, logger, metrics } = parts;
    const start = Date.now();
    const deadline = start + timeoutMs;
    lifecycle.draining();
    logger.log('info/shutdown', { msg: 'draining: readiness is 503, no new requests', queued: queue.size });

    await closeServer(server, deadline);

    const report = await queue.drain(start + timeoutMs * DELIVERY_SHARE);
    let undelivered = 0;
    for (const [provider, count] of Object.entries(report.undelivered)) {
        if (count > 0) {
            undelivered += count;
            metrics.shutdownUndelivered.inc({ provider }, count);
            logger.log('error/shutdown', { msg: 'tokens undelivered at the shutdown deadline', provider, count });
        }
    }

    // Leave a little time to close connections cleanly before the deadline.
    const { pending } = await cleanup.drain(deadline - Math.min(1000, timeoutMs * 0.05));
    if (pending > 0) {
        logger.log('error/shutdown', { msg: 'subscription deletions not sent at the shutdown deadline', count: pending });
    }
    // Closing is bounded by each client's own timeout (apns.shutdownTimeoutMs may exceed what
    // is left); the process must still exit within shutdown_timeout, so stop waiting at the deadline.
    await untilDeadline(Promise.allSettled([...parts.providers.map((p) => p.close()), cleanup.close()]), deadline);
    logger.log('info/shutdown', {
        msg: 'stopped', undelivered, deletionsPending: pending, tookMs: Date.now() - start
    });
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
