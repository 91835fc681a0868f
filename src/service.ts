import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { createServer, RequestListener, Server } from 'node:http';
import * as path from 'node:path';
import { loadServiceConfig, PROJECT_ROOT, ServiceConfig } from './config/service-config';
import { loadApiSpec } from './http/api-spec';
import { createRequestListener } from './http/app';
import { installClientErrorHandler } from './http/client-error';
import { ServiceInfo } from './http/routes/info';
import { Lifecycle } from './lifecycle/readiness';
import { Logger } from './logging/logger';
import { MetricFactory } from './metrics/metric-factory';
import { createServiceMetrics } from './metrics/service-metrics';
import { drainService } from './lifecycle/shutdown';
import { createSubscriptionCleanup } from './mediawiki/subscription-cleanup';
import { PROVIDER_NAMES } from './push/push-request';
import { createProviders } from './providers/create-providers';
import { BatchingQueue } from './queue/batching-queue';

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
    const info = readServiceInfo();
    const metrics = createServiceMetrics(options.metrics);
    const spec = loadApiSpec(config.spec, {
        messageTypes: config.message_types,
        maxDeviceTokens: config.max_device_tokens,
        version: info.version
    });
    const lifecycle = new Lifecycle();
    const providers = createProviders({ config, logger, metrics });
    const providerList = PROVIDER_NAMES.map((name) => providers[name]);
    const cleanup = createSubscriptionCleanup({ config, logger, metrics });
    const queue = new BatchingQueue({
        queueing: config.queueing,
        delivery: config.delivery,
        providers,
        deadTokens: cleanup,
        logger,
        metrics
    });

    const listener = createRequestListener({ config, spec, queue, lifecycle, metrics, logger, info });
    let server: Server;
    try {
        server = await listen(listener, config.port, config.interface);
    } catch (e) {
        // e.g. EADDRINUSE: release provider connections so the process can exit.
        await Promise.allSettled([...providerList.map((p) => p.close()), cleanup.close()]);
        throw e;
    }
    installClientErrorHandler(server, config);
    const port = (server.address() as { port: number }).port;
    lifecycle.serving();
    logger.log('info/service', { msg: `listening on ${config.interface}:${port}`, worker_id: config.worker_id });

    const shutdown = (): Promise<void> => drainService({
        lifecycle, server, queue, cleanup, logger, metrics, providers: providerList
    }, config.shutdown_timeout * 1000);

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
