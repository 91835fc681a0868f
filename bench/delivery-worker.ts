/**
 * The delivery benchmark's measured process: forked by bench/delivery.ts (compiled to plain
 * JS, --expose-gc), it builds the delivery stack as src/service.ts does (loadServiceConfig →
 * ProviderRegistry → DeletionGuard → Delivery; a TokenLedger and a BatchingQueue per run,
 * service-runner's metrics) pointed at the fakes, which run in the parent process, so that
 * their CPU is not charged to this process. Beside it, in the same process and the same run,
 * the floor clients (bench/lib/apns-floor.ts, bench/lib/floors.ts) send the same requests.
 *
 * Per run, measured in this process around the delivery only (the tokens are made and a full
 * GC is done before): process.cpuUsage (user + system) and wall time from the first enqueue
 * to the last provider answer (service) or from the first to the last floor request; tokens/s,
 * µs of CPU per delivered token, event-loop delay. One plan in, one message per run out.
 */
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { QueueingConfig } from '../src/config/sections/queueing';
import { loadServiceConfig, ServiceConfig } from '../src/config/service-config';
import { DeletionGuard } from '../src/delivery/deletion-guard';
import { Delivery, DeliveryInstance } from '../src/delivery/delivery';
import { EchoMessages } from '../src/front-doors/echo/echo-messages';
import { Logger } from '../src/logging/logger';
import { createServiceMetrics, ServiceMetrics } from '../src/metrics/service-metrics';
import { ProviderRegistry } from '../src/providers/registry';
import { PushMessage } from '../src/push/message';
import { Batch, ProviderKind, PROVIDER_KINDS, PushProvider, TokenResult } from '../src/push/provider';
import { BatchingQueue } from '../src/scheduling/batching-queue';
import { AcceptedRequest } from '../src/scheduling/scheduler';
import { TokenLedger } from '../src/scheduling/token-ledger';
import { freshMetricFactory } from '../test/helpers/metrics';
import { apnsFloorProvider, ApnsFloorTarget } from './lib/apns-floor';
import { driveBatches, FcmFloorTarget, fcmFloorProvider, inBatches, WebPushFloorTarget, webPushFloorProvider } from './lib/floors';
import { deviceToken, messageBody, stringHeapBytes } from './lib/tokens';

export type Side = 'service' | 'floor';

export interface DeliveryPlan {
    /** The service conf block pointing at the fakes (apns, fcm and webpush from startProviderFakes().conf). */
    readonly conf: Record<string, unknown>;
    /** Kinds measured, each `rounds` times service then floor (A B A B). */
    readonly kinds: readonly ProviderKind[];
    readonly tokens: Readonly<Record<ProviderKind, number>>;
    readonly warmupTokens: Readonly<Record<ProviderKind, number>>;
    readonly rounds: number;
    /** False: the service's runs only (a CPU profile of its path alone). */
    readonly floor: boolean;
    /** Extra service-only APNs runs at these queue depths (scaling). */
    readonly depths: readonly number[];
    readonly memoryTokens: number;
    readonly timeoutMs: number;
    /** Browser subscriptions made by the fake Web Push service (at least max(tokens, warm-up)). */
    readonly webpushTokens: readonly string[];
    readonly floors: { readonly apns: ApnsFloorTarget; readonly fcm: FcmFloorTarget; readonly webpush: WebPushFloorTarget };
    /**
     * With --profile: where to write the event-loop stalls (> 20 ms) seen during the measured
     * runs, as { atUs, gapUs } on the CPU profile's clock, for `profile-summary --stalls`.
     */
    readonly stallsFile?: string;
}

export interface DeliveryMeasurement {
    readonly kind: ProviderKind;
    readonly side: Side;
    /** 'round N' or 'depth' (scaling) or 'warm-up'. */
    readonly label: string;
    readonly tokens: number;
    readonly seconds: number;
    readonly tokensPerSec: number;
    /** CPU (user + system) of this process per delivered token, µs. */
    readonly cpuUsPerToken: number;
    readonly userUsPerToken: number;
    readonly systemUsPerToken: number;
    readonly outcomes: Record<string, number>;
    readonly eventLoopP99Ms: number;
    readonly eventLoopMaxMs: number;
    /** RSS of the worker at the end of the run, MB. */
    readonly rssMB: number;
    readonly timedOut: boolean;
    /** The worker's node version (PN_BENCH_NODE may differ from the parent's). */
    readonly node: string;
}

export interface MemoryMeasurement {
    readonly tokens: number;
    readonly tokenLength: { fcm: number; apns: number };
    /** V8 bytes of one token string (header + characters). */
    readonly tokenStringBytes: { fcm: number; apns: number };
    /** Heap per token of the parsed requests themselves (string + array slot + request object). */
    readonly parsedBytesPerToken: number;
    /** Heap the queue adds per token on top of the parsed request it references. */
    readonly queueBytesPerToken: number;
    /** Heap per token held while queued, all in (parsed request + queue). */
    readonly heapBytesPerToken: number;
    /** ... minus the token string itself. */
    readonly heapBytesPerTokenBeyondString: number;
    readonly rssBytesPerToken: number;
}

export type WorkerMessage =
    | { type: 'start'; name: string }
    | { type: 'delivery'; result: DeliveryMeasurement }
    | { type: 'memory'; result: MemoryMeasurement }
    | { type: 'log'; line: string }
    | { type: 'error'; message: string }
    | { type: 'done' };

const send = (m: WorkerMessage): void => {
    process.send?.(m);
};

/** service-runner's logger, reduced to counting; warnings and errors are passed up (bounded). */
class BenchLogger implements Logger {
    static shown = 0;

    log(levelPath: string, msg: string | Record<string, unknown> | Error): void {
        const level = levelPath.split('/')[0];
        if ((level === 'warn' || level === 'error' || level === 'fatal') && BenchLogger.shown < 20) {
            BenchLogger.shown++;
            send({ type: 'log', line: `${levelPath} ${msg instanceof Error ? msg.message : JSON.stringify(msg)}` });
        }
    }

    child(): Logger {
        return this;
    }
}

/** Wraps a provider: counts what it answered; resolves a waiter once `target` tokens are finished. */
class CountingProvider implements PushProvider {
    readonly id: string;
    readonly kind: ProviderKind;
    outcomes: Record<string, number> = {};
    finished = 0;
    private waiter?: { target: number; resolve: () => void };

    constructor(private readonly inner: PushProvider) {
        this.id = inner.id;
        this.kind = inner.kind;
    }

    send(batch: Batch, onResults: (results: readonly TokenResult[]) => void): Promise<void> {
        return this.inner.send(batch, (results) => {
            for (const r of results) {
                this.outcomes[r.outcome] = (this.outcomes[r.outcome] ?? 0) + 1;
                if (r.outcome !== 'transient') {
                    this.finished++;
                }
            }
            onResults(results);
            if (this.waiter && this.finished >= this.waiter.target) {
                this.waiter.resolve();
                this.waiter = undefined;
            }
        });
    }

    reset(): void {
        this.outcomes = {};
        this.finished = 0;
    }

    until(target: number, timeoutMs: number): Promise<boolean> {
        if (this.finished >= target) {
            return Promise.resolve(true);
        }
        return new Promise((resolve) => {
            const t = setTimeout(() => resolve(false), timeoutMs);
            this.waiter = { target, resolve: () => {
                clearTimeout(t);
                resolve(true);
            } };
        });
    }

    close(): Promise<void> {
        return this.inner.close();
    }
}

/** Answers 'delivered' without any network: the memory measurement's queue is emptied through it. */
class DiscardingProvider implements PushProvider {
    constructor(readonly id: string, readonly kind: ProviderKind) {}

    send(batch: Batch, onResults: (results: readonly TokenResult[]) => void): Promise<void> {
        onResults(batch.tokens.map((token) => ({ token, outcome: 'delivered' as const, reason: 'discarded' })));
        return Promise.resolve();
    }

    close(): Promise<void> {
        return Promise.resolve();
    }
}

const gc = (): void => {
    const g = (globalThis as { gc?: () => void }).gc;
    if (!g) {
        throw new Error('run with --expose-gc');
    }
    g();
    g();
};

const messages = new EchoMessages({});
const messageFor = (kind: ProviderKind): PushMessage => messages.get('checkEchoV1', kind, kind === 'apns' ? 'org.wikimedia.wikipedia' : undefined);

let salt = 0;

/** `n` distinct tokens of a kind, as flat strings (parsed from JSON, as the HTTP layer hands them over). */
function tokensOf(kind: ProviderKind, n: number, plan: DeliveryPlan): string[] {
    if (kind === 'webpush') {
        if (plan.webpushTokens.length < n) {
            throw new Error(`${n} Web Push tokens asked for, ${plan.webpushTokens.length} subscriptions made`);
        }
        return plan.webpushTokens.slice(0, n);
    }
    const s = `d${salt++}-`;
    const body = JSON.parse(messageBody(kind, Array.from({ length: n }, (_, i) => deviceToken(kind, i, s)))) as { deviceTokens: string[] };
    return body.deviceTokens;
}

/** Echo's requests of at most 500 tokens each (what the Echo front door hands the queue). */
function requestsOf(kind: ProviderKind, tokens: readonly string[]): AcceptedRequest[] {
    return inBatches(tokens, 500).map((part) => ({ provider: kind, tokens: part, message: messageFor(kind), dryRun: false, source: 'echo' }));
}

/** Event-loop stalls seen during measured runs (see DeliveryPlan.stallsFile). */
const stalls: { scenario: string; atUs: number; gapUs: number }[] = [];

/**
 * A 5 ms interval that notes every gap over 20 ms, stamped with hrtime in µs: the CPU
 * profile's sample timestamps use the same monotonic clock, so the stall's window can be cut
 * out of the profile and attributed.
 */
function watchStalls(scenario: string): () => void {
    let last = process.hrtime.bigint();
    const timer = setInterval(() => {
        const now = process.hrtime.bigint();
        const gapUs = Number(now - last) / 1000;
        if (gapUs > 20_000) {
            stalls.push({ scenario, atUs: Number(now / 1000n), gapUs: Math.round(gapUs) });
        }
        last = now;
    }, 5);
    return () => clearInterval(timer);
}

interface Stack {
    readonly config: ServiceConfig;
    readonly delivery: Delivery;
    readonly counters: ReadonlyMap<string, CountingProvider>;
    readonly ids: readonly string[];
    readonly metrics: ServiceMetrics;
    readonly logger: Logger;
    readonly registry: ProviderRegistry;
}

function buildStack(plan: DeliveryPlan): Stack {
    const logger = new BenchLogger();
    const metrics = createServiceMetrics(freshMetricFactory(logger as never));
    const config = loadServiceConfig(plan.conf);
    const registry = new ProviderRegistry({ instances: config.providerInstances, egress: config, userAgent: config.user_agent, logger });
    const counters = new Map<string, CountingProvider>();
    const instances: DeliveryInstance[] = registry.all().map((r) => {
        const counting = new CountingProvider(r.provider);
        counters.set(r.config.id, counting);
        return { config: r.config, provider: counting };
    });
    const guard = new DeletionGuard(instances.map((i) => i.config), { deadTokens: () => undefined }, logger, metrics);
    const delivery = new Delivery({
        instances, guard, metrics, logger, callTimeoutMs: config.delivery.callTimeoutMs, stallAfterMs: config.delivery.stallAfterMs,
        batchSize: config.delivery.batchSize
    });
    return { config, delivery, counters, ids: registry.ids(), metrics, logger, registry };
}

/** One flush of exactly `tokens`: the timer never fires, maxSize starts the flush. */
function queueing(tokens: number): QueueingConfig {
    return { flushTimeoutMs: 3_600_000, maxSize: tokens, maxQueuedTokens: tokens, retryAfterSeconds: 5, verbose: false };
}

interface Meter {
    stop(delivered: number, outcomes: Record<string, number>, timedOut: boolean): DeliveryMeasurement;
}

/** Starts the clocks of one run (call after the tokens are made and a GC is done). */
function meter(kind: ProviderKind, side: Side, label: string, tokens: number, plan: DeliveryPlan): Meter {
    // No RSS sampling timer here: reading /proc costs ~1 ms a time on a busy machine, charged
    // to the run's CPU (seen in a profile); the RSS is read once, at the end.
    const eld = monitorEventLoopDelay({ resolution: 5 });
    const stopWatching = plan.stallsFile ? watchStalls(`${kind} ${side} ${tokens}`) : undefined;
    eld.enable();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    return {
        stop(delivered, outcomes, timedOut) {
            const seconds = (performance.now() - t0) / 1000;
            const cpu = process.cpuUsage(cpu0);
            eld.disable();
            stopWatching?.();
            const per = (us: number): number => Math.round(us / Math.max(1, delivered) * 10) / 10;
            return {
                kind, side, label, tokens, seconds: Math.round(seconds * 1000) / 1000,
                tokensPerSec: Math.round(delivered / seconds),
                cpuUsPerToken: per(cpu.user + cpu.system), userUsPerToken: per(cpu.user), systemUsPerToken: per(cpu.system),
                outcomes,
                eventLoopP99Ms: Math.round(eld.percentile(99) / 1e4) / 100,
                eventLoopMaxMs: Math.round(eld.max / 1e4) / 100,
                rssMB: Math.round(process.memoryUsage.rss() / 2 ** 20 * 10) / 10,
                timedOut, node: process.version
            };
        }
    };
}

/** The service's path: Echo's requests into a BatchingQueue, one flush, the real providers. */
async function serviceRun(plan: DeliveryPlan, stack: Stack, kind: ProviderKind, n: number, label: string): Promise<DeliveryMeasurement> {
    const ledger = new TokenLedger(n, (id) => stack.delivery.labels(id), stack.metrics, stack.ids);
    const queue = new BatchingQueue({
        queueing: queueing(n), batchSize: stack.config.delivery.batchSize, delivery: stack.delivery, ledger,
        logger: stack.logger, metrics: stack.metrics
    });
    const requests = requestsOf(kind, tokensOf(kind, n, plan));
    const counter = stack.counters.get(kind)!;
    counter.reset();
    gc();
    const m = meter(kind, 'service', label, n, plan);
    for (const r of requests) {
        const res = queue.enqueue(r);
        if (!res.accepted) {
            throw new Error(`enqueue refused: ${res.reason}`);
        }
    }
    requests.length = 0;
    const ok = await counter.until(n, plan.timeoutMs);
    const result = m.stop(counter.outcomes.delivered ?? 0, { ...counter.outcomes }, !ok);
    queue.stop();
    return result;
}

/** The floor: the same requests from a bare client, 4 batches of 500 in flight. */
async function floorRun(plan: DeliveryPlan, floor: PushProvider, kind: ProviderKind, n: number, label: string): Promise<DeliveryMeasurement> {
    const batches = inBatches(tokensOf(kind, n, plan), 500);
    gc();
    const m = meter(kind, 'floor', label, n, plan);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), plan.timeoutMs);
    });
    const outcomes = await Promise.race([driveBatches(floor, messageFor(kind), batches), timedOut]);
    clearTimeout(timer);
    if (outcomes === 'timeout') {
        return m.stop(0, {}, true);
    }
    return m.stop(outcomes.delivered ?? 0, outcomes, false);
}

async function memory(plan: DeliveryPlan, stack: Stack): Promise<MemoryMeasurement> {
    const n = plan.memoryTokens;
    const instances = stack.registry.all().map((r) => ({ config: r.config, provider: new DiscardingProvider(r.config.id, r.config.kind) }));
    const guard = new DeletionGuard(instances.map((i) => i.config), { deadTokens: () => undefined }, stack.logger, stack.metrics);
    const delivery = new Delivery({
        instances, guard, metrics: stack.metrics, logger: stack.logger, callTimeoutMs: 60_000, stallAfterMs: 120_000,
        batchSize: stack.config.delivery.batchSize
    });
    const ledger = new TokenLedger(n + 1, (id) => delivery.labels(id), stack.metrics, stack.ids);
    const queue = new BatchingQueue({
        queueing: queueing(n + 1), batchSize: stack.config.delivery.batchSize, delivery, ledger, logger: stack.logger, metrics: stack.metrics
    });
    const half = Math.floor(n / 2);
    gc();
    const heap0 = process.memoryUsage().heapUsed;
    const rss0 = process.memoryUsage.rss();
    // Half FCM, half APNs, as the parsed requests the Echo front door hands over.
    const requests = [...requestsOf('fcm', tokensOf('fcm', half, plan)), ...requestsOf('apns', tokensOf('apns', n - half, plan))];
    gc();
    const heap1 = process.memoryUsage().heapUsed;
    for (const r of requests) {
        queue.enqueue(r);
    }
    gc();
    const heap2 = process.memoryUsage().heapUsed;
    const rss2 = process.memoryUsage.rss();
    const len = { fcm: deviceToken('fcm', 0).length, apns: deviceToken('apns', 0).length };
    const strBytes = { fcm: stringHeapBytes(deviceToken('fcm', 0)), apns: stringHeapBytes(deviceToken('apns', 0)) };
    const avgString = (strBytes.fcm * half + strBytes.apns * (n - half)) / n;
    const perToken = (heap2 - heap0) / n;
    requests.length = 0;
    queue.startDrain();
    await ledger.idle(Date.now() + 60_000, Date.now);
    if (ledger.size > 0) {
        throw new Error(`memory queue did not drain: ${ledger.size} tokens left`);
    }
    queue.stop();
    return {
        tokens: n, tokenLength: len, tokenStringBytes: strBytes,
        parsedBytesPerToken: Math.round((heap1 - heap0) / n * 10) / 10,
        queueBytesPerToken: Math.round((heap2 - heap1) / n * 10) / 10,
        heapBytesPerToken: Math.round(perToken * 10) / 10,
        heapBytesPerTokenBeyondString: Math.round((perToken - avgString) * 10) / 10,
        rssBytesPerToken: Math.round((rss2 - rss0) / n * 10) / 10
    };
}

function floorFor(plan: DeliveryPlan, kind: ProviderKind): PushProvider {
    switch (kind) {
        case 'apns':
            return apnsFloorProvider(plan.floors.apns);
        case 'fcm':
            return fcmFloorProvider(plan.floors.fcm, messageFor('fcm'));
        case 'webpush':
            return webPushFloorProvider(plan.floors.webpush, messageFor('webpush'));
    }
}

async function main(plan: DeliveryPlan): Promise<void> {
    const stack = buildStack(plan);
    const floors = new Map<ProviderKind, PushProvider>();
    try {
        if (plan.memoryTokens > 0) {
            send({ type: 'start', name: 'memory' });
            send({ type: 'memory', result: await memory(plan, stack) });
        }
        for (const kind of plan.kinds) {
            if (!PROVIDER_KINDS.includes(kind)) {
                throw new Error(`unknown kind ${kind}`);
            }
            const floor = floorFor(plan, kind);
            floors.set(kind, floor);
            // Warm-up: TLS sessions, the APNs JWT, the OAuth exchange, the JIT (not reported).
            if (plan.warmupTokens[kind] > 0) {
                send({ type: 'start', name: `warm-up ${kind}` });
                await serviceRun(plan, stack, kind, plan.warmupTokens[kind], 'warm-up');
                if (plan.floor) {
                    await floorRun(plan, floor, kind, plan.warmupTokens[kind], 'warm-up');
                }
            }
            for (let r = 1; r <= plan.rounds; r++) {
                send({ type: 'start', name: `${kind} service round ${r}` });
                send({ type: 'delivery', result: await serviceRun(plan, stack, kind, plan.tokens[kind], `round ${r}`) });
                if (plan.floor) {
                    send({ type: 'start', name: `${kind} floor round ${r}` });
                    send({ type: 'delivery', result: await floorRun(plan, floor, kind, plan.tokens[kind], `round ${r}`) });
                }
            }
        }
        for (const depth of plan.depths) {
            send({ type: 'start', name: `apns service depth ${depth}` });
            send({ type: 'delivery', result: await serviceRun(plan, stack, 'apns', depth, 'depth') });
        }
    } finally {
        await Promise.allSettled([stack.delivery.close(), ...[...floors.values()].map((f) => f.close())]);
        if (plan.stallsFile) {
            writeFileSync(plan.stallsFile, JSON.stringify(stalls));
        }
    }
}

process.once('message', (plan: DeliveryPlan) => {
    main(plan).then(() => {
        send({ type: 'done' });
        process.disconnect?.();
        process.exit(0);
    }, (e: unknown) => {
        send({ type: 'error', message: (e as Error).stack ?? String(e) });
        process.disconnect?.();
    });
});
