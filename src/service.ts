import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { createServer, RequestListener, Server } from 'node:http';
import * as path from 'node:path';
import { ProviderInstanceConfig, resolveEntry } from './config/sections/provider-registry';
import { loadServiceConfig, PROJECT_ROOT, ServiceConfig, toConfigError } from './config/service-config';
import { DeadTokenMemory } from './dead-tokens/dead-token-memory';
import { MatrixApps, parseMatrixApps } from './front-doors/matrix/apps-config';
import { RecentNotifications } from './front-doors/matrix/dedupe';
import { createMatrixFrontDoor } from './front-doors/matrix/matrix-front-door';
import { MongoosePushConfig, resolveMongoosePushConfig } from './front-doors/mongoosepush/config';
import { createMongoosePushFrontDoor } from './front-doors/mongoosepush/mongoosepush-front-door';
import { FrontDoor } from './http/front-door';
import { ProviderKind } from './push/provider';
import { ConfigError } from './config/config-error';
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
import { WebPushProvider } from './providers/webpush/webpush-provider';
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
    let wiring: FrontDoorWiring;
    try {
        config = loadServiceConfig(options.config);
        wiring = resolveFrontDoorWiring(config);
    } catch (e) {
        // service-runner logs a fatal and exits 1; say plainly which key is wrong.
        logger.log('fatal/config', (e as Error).message);
        throw e;
    }
    for (const warning of [...config.warnings, ...wiring.warnings]) {
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
        instances: wiring.instances, egress: config, userAgent: config.user_agent, logger
    });
    const cleanup = createSubscriptionCleanup({ config, logger, metrics });
    const deadTokens = new DeadTokenMemory(config.deadTokenMemory, metrics);
    const sinks = new DeadTokenRouter({ echo: cleanup, matrix: deadTokens, mongoosepush: deadTokens }, logger);
    const guard = new DeletionGuard(wiring.instances, sinks, logger, metrics);
    const delivery = new Delivery({
        instances: registry.all(), guard, metrics, logger,
        callTimeoutMs: config.delivery.callTimeoutMs, stallAfterMs: config.delivery.stallAfterMs,
        batchSize: config.delivery.batchSize
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
        metrics, logger, maxBodySize: config.max_body_size, verbose: config.queueing.verbose,
        vapidPublicKey: () => {
            const p = registry.has('webpush') ? registry.get('webpush').provider : undefined;
            return p instanceof WebPushProvider ? p.vapidPublicKey : undefined;
        }
    });

    const frontDoors: FrontDoor[] = [echo];
    const tokenSyntax = (id: string) => registry.get(id).tokenSyntax;
    if (wiring.matrixApps && config.matrix) {
        frontDoors.push(createMatrixFrontDoor({
            spec, apps: wiring.matrixApps, immediate, queue, delivery, tokenSyntax, deadTokens,
            recent: new RecentNotifications({ windowMs: config.matrix.dedupeWindowMs, maxEntries: config.matrix.dedupeMaxEntries }),
            answerWithinMs: config.matrix.answerWithinMs, maxBodySize: config.max_body_size, metrics, logger
        }));
    }
    if (wiring.mongoosepush) {
        const routed = [wiring.mongoosepush.apns.prod, wiring.mongoosepush.apns.dev, wiring.mongoosepush.fcm]
            .flatMap((r) => (r ? [r.provider] : [])).filter((id, i, all) => all.indexOf(id) === i);
        frontDoors.push(createMongoosePushFrontDoor({
            config: wiring.mongoosepush, immediate, tokenSyntax, deadTokens, version: info.version,
            maxBodySize: config.max_body_size, metrics, logger,
            health: () => routed.map((id) => {
                const p = registry.get(id);
                const usable = p.usable && !delivery.stalledProviders().includes(id);
                return { provider: id, kind: p.config.kind, usable, ...(usable ? {} : { detail: p.usable ? 'no answer from the push service lately' : 'not configured' }) };
            })
        }));
    }

    const listener = createRequestListener({
        config, spec, frontDoors, metrics, logger, info,
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

/** What the config says beyond the registry's own instances: the front doors' apps and routes. */
export interface FrontDoorWiring {
    /** Every provider instance: the registry's, plus those Matrix `type:` apps define. */
    readonly instances: readonly ProviderInstanceConfig[];
    readonly matrixApps?: MatrixApps;
    readonly mongoosepush?: MongoosePushConfig;
    readonly warnings: readonly string[];
}

/**
 * Resolves the Matrix apps (Sygnal's `apps:` block: each `type:` app becomes a provider
 * instance `matrix/<app>`; `provider:` apps name a registry instance) and the MongoosePush
 * routes against the registry.
 *
 * @throws ConfigError naming the key (an unknown provider id, a bad app setting)
 */
export function resolveFrontDoorWiring(config: ServiceConfig): FrontDoorWiring {
    const instances = [...config.providerInstances];
    const kinds = (): Map<string, ProviderKind> => new Map(instances.map((p) => [p.id, p.kind]));
    const warnings: string[] = [];
    let matrixApps: MatrixApps | undefined;
    if (config.matrix) {
        matrixApps = parseMatrixApps(config.matrix.apps, { baseDir: PROJECT_ROOT, providers: kinds() });
        warnings.push(...matrixApps.warnings.map((w) => `matrix: ${w}`));
        for (const app of matrixApps.apps) {
            const c = app.create;
            if (!c) {
                continue;
            }
            const key = `matrix.apps.${app.name}`;
            let raw: Record<string, unknown>;
            if (c.kind === 'apns') {
                if (!c.token) {
                    throw new ConfigError(`${key}.certfile`, 'certificate (certfile) auth is not supported here yet: use keyfile, key_id and team_id');
                }
                raw = { kind: 'apns', production: c.production, token: c.token, topic: c.topic };
            } else if (c.kind === 'fcm') {
                raw = { kind: 'fcm', service_account: c.service_account, project_id: c.project_id,
                    ...(c.max_sockets !== undefined ? { max_sockets: c.max_sockets } : {}) };
            } else {
                raw = { kind: 'webpush', vapid: c.vapid, ttl: c.ttlSeconds };
            }
            instances.push(resolveEntry(app.providerId, key, raw, config.delivery, toConfigError));
        }
    }
    const mongoosepush = resolveMongoosePushConfig(config.mongoosepush, kinds());
    return { instances, matrixApps, mongoosepush, warnings };
}
