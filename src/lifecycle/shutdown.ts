import type { Server } from 'node:http';
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
    await Promise.allSettled([...parts.providers.map((p) => p.close()), cleanup.close()]);
    logger.log('info/shutdown', {
        msg: 'stopped', undelivered, deletionsPending: pending, tookMs: Date.now() - start
    });
}

/**
 * Stops listening and waits for in-flight requests; idle keep-alive sockets are closed at
 * once, and any connection still open at the deadline is cut.
 */
function closeServer(server: Server, deadline: number): Promise<void> {
    return new Promise((resolve) => {
        const timer = setTimeout(() => {
            server.closeAllConnections();
            resolve();
        }, Math.max(0, deadline - Date.now()));
        server.close(() => {
            clearTimeout(timer);
            resolve();
        });
        server.closeIdleConnections();
    });
}
