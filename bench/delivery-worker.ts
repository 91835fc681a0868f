/**
 * The delivery benchmark's measured process: forked by bench/delivery.ts (under ts-node,
 * with --expose-gc), it builds the queue and the providers exactly as the service does
 * (loadServiceConfig → createProviders → BatchingQueue, service-runner's metrics) pointed at
 * the fakes, which run in the parent process, so that the fakes' CPU is not charged to this
 * process's event loop. One plan in, one message per scenario out.
 */
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { loadServiceConfig, ServiceConfig } from '../src/config/service-config';
import { Logger } from '../src/logging/logger';
import { createServiceMetrics, ServiceMetrics } from '../src/metrics/service-metrics';
import { createProviders } from '../src/providers/create-providers';
import { PushProvider, TokenResult } from '../src/providers/push-provider';
import { Batch, PROVIDER_NAMES, ProviderName, PushRequest } from '../src/push/push-request';
import { BatchingQueue } from '../src/queue/batching-queue';
import { freshMetricFactory } from '../test/helpers/metrics';
import { deviceToken, messageBody, stringHeapBytes } from './lib/tokens';

export interface DeliveryPlan {
    /** The service conf block pointing at the fakes (from startProviderFakes().conf). */
    readonly conf: Record<string, unknown>;
    readonly warmupTokens: number;
    readonly scenarios: readonly DeliveryScenario[];
    readonly memoryTokens: number;
    readonly timeoutMs: number;
    /**
     * With --profile: where to write the event-loop stalls (> 20 ms) seen during the measured
     * runs, as { atUs, gapUs } on the CPU profile's clock, for `profile-summary --stalls`.
     */
    readonly stallsFile?: string;
}

export interface DeliveryScenario {
    readonly provider: ProviderName;
    readonly tokens: number;
}

export interface DeliveryMeasurement {
    readonly provider: ProviderName;
    readonly tokens: number;
    readonly seconds: number;
    readonly tokensPerSec: number;
    /** Seconds spent in enqueue() for all the requests (the accept side of the queue). */
    readonly enqueueSeconds: number;
    readonly outcomes: Record<string, number>;
    readonly eventLoopP99Ms: number;
    readonly eventLoopMaxMs: number;
    readonly cpuMsPer1kTokens: number;
    readonly peakRssMB: number;
    readonly timedOut: boolean;
    /** The worker's node version (PN_BENCH_NODE may differ from the parent's). */
    readonly node: string;
}

export interface MemoryMeasurement {
    readonly tokens: number;
    readonly tokenLength: Record<ProviderName, number>;
    /** V8 bytes of one token string (header + characters). */
    readonly tokenStringBytes: Record<ProviderName, number>;
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

/** Counts what the provider acknowledged; resolves a waiter once `target` tokens are finished. */
class CountingProvider implements PushProvider {
    readonly name: ProviderName;
    outcomes: Record<string, number> = {};
    finished = 0;
    private waiter?: { target: number; resolve: () => void };

    constructor(private readonly inner: PushProvider) {
        this.name = inner.name;
    }

    async send(batch: Batch): Promise<TokenResult[]> {
        const results = await this.inner.send(batch);
        for (const r of results) {
            this.outcomes[r.outcome] = (this.outcomes[r.outcome] ?? 0) + 1;
            if (r.outcome !== 'transient') {
                this.finished++;
            }
        }
        if (this.waiter && this.finished >= this.waiter.target) {
            this.waiter.resolve();
            this.waiter = undefined;
        }
        return results;
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

const gc = (): void => {
    const g = (globalThis as { gc?: () => void }).gc;
    if (!g) {
        throw new Error('run with --expose-gc');
    }
    g();
    g();
};

/** Requests as the HTTP layer hands them over: parsed from JSON, so the tokens are flat strings. */
function buildRequests(provider: ProviderName, total: number, salt: string, perRequest = 500): PushRequest[] {
    const out: PushRequest[] = [];
    for (let start = 0; start < total; start += perRequest) {
        const n = Math.min(perRequest, total - start);
        const tokens = Array.from({ length: n }, (_, i) => deviceToken(provider, start + i, salt));
        const body = JSON.parse(messageBody(provider, tokens)) as { deviceTokens: string[]; messageType: string; topic?: string };
        out.push({ provider, deviceTokens: body.deviceTokens, messageType: body.messageType, topic: body.topic, dryRun: false });
    }
    return out;
}

function configFor(base: Record<string, unknown>, queueing: Record<string, unknown>): ServiceConfig {
    return loadServiceConfig({ ...base, queueing });
}

function makeQueue(config: ServiceConfig, providers: Record<ProviderName, PushProvider>, metrics: ServiceMetrics,
    logger: Logger): BatchingQueue {
    return new BatchingQueue({
        queueing: config.queueing, delivery: config.delivery, providers,
        deadTokens: { deadTokens: () => undefined }, logger, metrics
    });
}

let salt = 0;

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

async function deliver(plan: DeliveryPlan, s: DeliveryScenario, providers: Record<ProviderName, CountingProvider>,
    metrics: ServiceMetrics, logger: Logger): Promise<DeliveryMeasurement> {
    // One flush of exactly `tokens`: the timer never fires, maxSize starts the flush.
    const config = configFor(plan.conf, { flushTimeoutMs: 3_600_000, maxSize: s.tokens, maxQueuedTokens: s.tokens });
    const queue = makeQueue(config, providers, metrics, logger);
    const requests = buildRequests(s.provider, s.tokens, `d${salt++}-`);
    const counter = providers[s.provider];
    counter.reset();
    gc();
    const eld = monitorEventLoopDelay({ resolution: 5 });
    let peakRss = process.memoryUsage.rss();
    const rssTimer = setInterval(() => {
        peakRss = Math.max(peakRss, process.memoryUsage.rss());
    }, 100);
    const cpu0 = process.cpuUsage();
    const stopWatching = plan.stallsFile ? watchStalls(`${s.provider} ${s.tokens}`) : undefined;
    eld.enable();
    const t0 = performance.now();
    for (const r of requests) {
        const res = queue.enqueue(r);
        if (!res.accepted) {
            throw new Error(`enqueue refused: ${res.reason}`);
        }
    }
    const enqueueSeconds = (performance.now() - t0) / 1000;
    requests.length = 0;
    const ok = await counter.until(s.tokens, plan.timeoutMs);
    const seconds = (performance.now() - t0) / 1000;
    eld.disable();
    stopWatching?.();
    clearInterval(rssTimer);
    const cpu = process.cpuUsage(cpu0);
    return {
        provider: s.provider, tokens: s.tokens, seconds: Math.round(seconds * 1000) / 1000,
        tokensPerSec: Math.round(counter.finished / seconds), enqueueSeconds: Math.round(enqueueSeconds * 10000) / 10000,
        outcomes: { ...counter.outcomes },
        eventLoopP99Ms: Math.round(eld.percentile(99) / 1e4) / 100,
        eventLoopMaxMs: Math.round(eld.max / 1e4) / 100,
        cpuMsPer1kTokens: Math.round((cpu.user + cpu.system) / s.tokens * 100) / 100,
        peakRssMB: Math.round(peakRss / 2 ** 20 * 10) / 10,
        timedOut: !ok,
        node: process.version
    };
}

/**
 * Answers 'delivered' without any network: the memory measurement's queue is emptied through
 * it. (It used to drain into the real, counted providers without waiting: its 100k tokens
 * were then delivered DURING the measured runs, were counted as theirs, so a run could end
 * before its own tokens were done, and doubled the load it measured.)
 */
class DiscardingProvider implements PushProvider {
    constructor(readonly name: ProviderName) {}

    send(batch: Batch): Promise<TokenResult[]> {
        return Promise.resolve(batch.tokens.map((token) => ({ token, outcome: 'delivered' as const, reason: 'discarded' })));
    }

    close(): Promise<void> {
        return Promise.resolve();
    }
}

async function memory(plan: DeliveryPlan, metrics: ServiceMetrics, logger: Logger): Promise<MemoryMeasurement> {
    const n = plan.memoryTokens;
    const config = configFor(plan.conf, { flushTimeoutMs: 3_600_000, maxSize: n + 1, maxQueuedTokens: n + 1 });
    const queue = makeQueue(config, { fcm: new DiscardingProvider('fcm'), apns: new DiscardingProvider('apns') }, metrics, logger);
    const half = Math.floor(n / 2);
    gc();
    const heap0 = process.memoryUsage().heapUsed;
    const rss0 = process.memoryUsage.rss();
    // Half FCM, half APNs, as the parsed requests Express would hand over.
    const requests = [...buildRequests('fcm', half, 'm-'), ...buildRequests('apns', n - half, 'm-')];
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
    const report = await queue.drain(Date.now() + 60_000);
    if (PROVIDER_NAMES.some((p) => report.undelivered[p] > 0)) {
        throw new Error(`memory queue did not drain: ${JSON.stringify(report.undelivered)}`);
    }
    return {
        tokens: n, tokenLength: len, tokenStringBytes: strBytes,
        parsedBytesPerToken: Math.round((heap1 - heap0) / n * 10) / 10,
        queueBytesPerToken: Math.round((heap2 - heap1) / n * 10) / 10,
        heapBytesPerToken: Math.round(perToken * 10) / 10,
        heapBytesPerTokenBeyondString: Math.round((perToken - avgString) * 10) / 10,
        rssBytesPerToken: Math.round((rss2 - rss0) / n * 10) / 10
    };
}

async function main(plan: DeliveryPlan): Promise<void> {
    const logger = new BenchLogger();
    const metrics = createServiceMetrics(freshMetricFactory(logger as never));
    const base = loadServiceConfig(plan.conf);
    const raw = createProviders({ config: base, logger });
    const providers = {} as Record<ProviderName, CountingProvider>;
    for (const p of PROVIDER_NAMES) {
        providers[p] = new CountingProvider(raw[p]);
    }
    try {
        // Warm-up: TLS sessions, the APNs JWT, the OAuth exchange, and the JIT.
        for (const p of PROVIDER_NAMES) {
            if (plan.warmupTokens > 0) {
                send({ type: 'start', name: `warm-up ${p}` });
                await deliver(plan, { provider: p, tokens: plan.warmupTokens }, providers, metrics, logger);
            }
        }
        if (plan.memoryTokens > 0) {
            send({ type: 'start', name: 'memory' });
            send({ type: 'memory', result: await memory(plan, metrics, logger) });
        }
        for (const s of plan.scenarios) {
            send({ type: 'start', name: `${s.provider} ${s.tokens}` });
            send({ type: 'delivery', result: await deliver(plan, s, providers, metrics, logger) });
        }
    } finally {
        await Promise.allSettled(PROVIDER_NAMES.map((p) => providers[p].close()));
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
