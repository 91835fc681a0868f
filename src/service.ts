import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { createServer, RequestListener, Server } from 'node:http';
import * as path from 'node:path';
import { loadServiceConfig, PROJECT_ROOT, ServiceConfig } from './config/service-config';
import { DeadTokenRouter } from './delivery/dead-token-router';
import { DeletionGuard } from './delivery/deletion-guard';
import { Delivery } from './delivery/delivery';
import { createEchoFrontDoor } from './front-doors/echo/echo-front-door';
import { EchoMessages } from './front-doors/echo/echo-messages';
import { loadApiSpec } from './http/api-spec';
import { createRequestListener } from './http/app';
import { installClientErrorHandler } from './http/client-error';
import { ServiceInfo } from './http/routes/info';
import { Lifecycle } from './lifecycle/readiness';
import { drainService } from './lifecycle/shutdown';
import { Logger } from './logging/logger';
import { createSubscriptionCleanup } from './mediawiki/subscription-cleanup';
import { MetricFactory } from './metrics/metric-factory';
import { createServiceMetrics } from './metrics/service-metrics';
import { ProviderRegistry } from './providers/registry';
import { BatchingQueue } from './scheduling/batching-queue';
import { ImmediateSender } from './scheduling/immediate-sender';
import { TokenLedger } from './scheduling/token-ledger';

/** What service-runner passes to the module named in the config's `services` list. */
export interface ServiceRunnerOptions {
    readonly config: Record<string, unknown>;
    readonly logger: Logger;
    readonly metrics: MetricFactory;
}

/** What the module returns: service-runner awaits close() when it stops a worker. */
export interface RunningService {
    /** The address the HTTP server listens on (useful with port 0 in tests). */
    readonly port: number;
    readonly config: ServiceConfig;
    close(): Promise<void>;
}

function readServiceInfo(): ServiceInfo {
    const pkg = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as
        { name: string; version: string; description: string; homepage?: string };
    return {
        name: pkg.name,
        version: pkg.version,
        description: pkg.description,
        home: pkg.homepage ?? 'https://www.mediawiki.org/wiki/Wikimedia_Product_Infrastructure_team/Push_Notifications_Infrastructure'
    };
}

/**
 * The composition root: builds every part once, wires them together, starts listening.
 * Parts get what they need passed in; there are no module-level singletons.
 */
export default async function startService(options: ServiceRunnerOptions): Promise<RunningService> {
    const logger = options.logger;
    let config: ServiceConfig;
    try {
        config = loadServiceConfig(options.config);
    } catch (e) {
        // service-runner logs a fatal and exits 1; say plainly which key is wrong.
        logger.log('fatal/config', (e as Error).message);
        throw e;
    }
    for (const warning of config.warnings) {
        logger.log('warn/config', warning);
    }
    const info = readServiceInfo();
    const metrics = createServiceMetrics(options.metrics);
    const spec = loadApiSpec(config.spec, {
        messageTypes: config.message_types,
        maxDeviceTokens: config.max_device_tokens,
        version: info.version
    });
    const lifecycle = new Lifecycle();

    // Providers, then delivery (limits, retry policy, the guard in front of the dead-token sinks).
    const registry = new ProviderRegistry({
        instances: config.providerInstances, egress: config, userAgent: config.user_agent, logger
    });
    const cleanup = createSubscriptionCleanup({ config, logger, metrics });
    const sinks = new DeadTokenRouter({ echo: cleanup }, logger);
    const guard = new DeletionGuard(config.providerInstances, sinks, logger, metrics);
    const delivery = new Delivery({
        instances: registry.all(), guard, metrics, logger,
        callTimeoutMs: config.delivery.callTimeoutMs, stallAfterMs: config.delivery.stallAfterMs
    });

    // The schedulers: the privacy batching queue (Echo) and the immediate sender, one ledger.
    const ledger = new TokenLedger(config.queueing.maxQueuedTokens, (id) => delivery.labels(id), metrics, registry.ids());
    const queue = new BatchingQueue({
        queueing: config.queueing, batchSize: config.delivery.batchSize, delivery, ledger, logger, metrics
    });
    const immediate = new ImmediateSender({
        delivery, ledger, batchSize: config.delivery.batchSize, retryAfterSeconds: config.queueing.retryAfterSeconds,
        logger, metrics
    });

    // The front doors.
    const echo = createEchoFrontDoor({
        spec, queue, messages: new EchoMessages(config.message_type_options),
        provider: (id) => (registry.has(id) ? { kind: registry.get(id).config.kind, tokenSyntax: registry.get(id).tokenSyntax } : undefined),
        metrics, logger, maxBodySize: config.max_body_size, verbose: config.queueing.verbose
    });

    const listener = createRequestListener({
        config, spec, frontDoors: [echo], metrics, logger, info,
        health: { lifecycle, isFull: () => ledger.isFull, stalledProviders: () => delivery.stalledProviders() }
    });
    let server: Server;
    try {
        server = await listen(listener, config.port, config.interface);
    } catch (e) {
        // e.g. EADDRINUSE: release provider connections so the process can exit.
        await Promise.allSettled([delivery.close(), cleanup.close()]);
        throw e;
    }
    installClientErrorHandler(server, config);
    const port = (server.address() as { port: number }).port;
    lifecycle.serving();
    logger.log('info/service', { msg: `listening on ${config.interface}:${port}`, worker_id: config.worker_id });

    const shutdown = async (): Promise<void> => {
        await drainService({
            lifecycle, server, schedulers: [queue, immediate], ledger, delivery, cleanup, logger, metrics
        }, config.shutdown_timeout * 1000);
    };

    let closing: Promise<void> | undefined;
    let drainStarted = false;
    const close = (): Promise<void> => {
        if (!closing) {
            drainStarted = true; // set first: the drain's own server.close() must not re-enter
            closing = shutdown();
        }
        return closing;
    };

    if (cluster.isWorker) {
        drainBeforeClusterDisconnect(server, close, () => drainStarted);
    }

    if (config.num_workers === 0) {
        // service-runner installs no SIGTERM handler without workers: the process would die
        // at once and lose the queue. Drain, then exit.
        const onSignal = (signal: NodeJS.Signals): void => {
            logger.log('info/service', `${signal} received`);
            close().then(() => process.exit(0), (e: unknown) => {
                logger.log('error/service', e as Error);
                process.exit(1);
            });
        };
        process.once('SIGTERM', onSignal);
        process.once('SIGINT', onSignal);
    }

    return { port, config, close };
}

/**
 * In a cluster worker (num_workers >= 1) the primary stops us with worker.disconnect(): Node
 * closes every server of the worker, waits for their close callbacks, then drops the IPC
 * channel. The primary counts the worker as stopped as soon as that channel is gone, and on
 * SIGTERM exits right after; service-runner only calls the module's close() once the channel
 * is gone. Without this hook the drain ran after the primary had exited (in a container, the
 * primary is PID 1: its exit kills the worker mid-drain and loses the queue). So the server's
 * close(), which Node calls first, runs the whole drain and only then reports "closed".
 * The drain's own server.close() (drainStarted) goes to the real one.
 */
function drainBeforeClusterDisconnect(server: Server, close: () => Promise<void>, drainStarted: () => boolean): void {
    const realClose = server.close.bind(server);
    server.close = (callback?: (err?: Error) => void): Server => {
        if (drainStarted()) {
            return realClose(callback);
        }
        close().then(() => callback?.(), (e: unknown) => callback?.(e as Error));
        return server;
    };
}

function listen(listener: RequestListener, port: number, host: string): Promise<Server> {
    return new Promise((resolve, reject) => {
        const server = createServer(listener);
        server.once('error', reject);
        server.listen(port, host, () => {
            server.off('error', reject);
            resolve(server);
        });
        // Requests from Echo are small and fast; do not let a slow client hold a socket.
        server.requestTimeout = 30000;
        server.headersTimeout = 20000;
        server.keepAliveTimeout = 5000;
    });
}
