import FakeTimers from '@sinonjs/fake-timers';
import { DeliveryConfig } from '../../src/config/sections/delivery';
import { ProviderInstanceConfig } from '../../src/config/sections/provider-registry';
import { QueueingConfig } from '../../src/config/sections/queueing';
import { DeletionGuard } from '../../src/delivery/deletion-guard';
import { Delivery } from '../../src/delivery/delivery';
import { EchoMessages } from '../../src/front-doors/echo/echo-messages';
import { createServiceMetrics, ServiceMetrics } from '../../src/metrics/service-metrics';
import { DeadTokenSink } from '../../src/push/dead-token-sink';
import { MessageSource } from '../../src/push/message';
import { Batch, ProviderId, ProviderKind, PushProvider, TokenResult } from '../../src/push/provider';
import { BatchingQueue, BatchingQueueOptions } from '../../src/scheduling/batching-queue';
import { ImmediateSender } from '../../src/scheduling/immediate-sender';
import { AcceptedRequest } from '../../src/scheduling/scheduler';
import { TokenLedger } from '../../src/scheduling/token-ledger';
import { freshMetricFactory } from './metrics';
import { TestLogger } from './test-logger';

/** Config with the schema defaults, overridable per test. */
export function queueingConfig(o: Partial<QueueingConfig> = {}): QueueingConfig {
    return { flushTimeoutMs: 1000, maxSize: 1000, maxQueuedTokens: 200000, retryAfterSeconds: 5, verbose: false, ...o };
}

export interface DeliveryOverrides {
    concurrency?: Partial<DeliveryConfig['concurrency']>;
    rateLimitPerSecond?: Partial<DeliveryConfig['rateLimitPerSecond']>;
    batchSize?: number;
    retry?: Partial<DeliveryConfig['retry']>;
    deletionGuard?: Partial<DeliveryConfig['deletionGuard']>;
    callTimeoutMs?: number;
    stallAfterMs?: number;
}

export function deliveryConfig(o: DeliveryOverrides = {}): DeliveryConfig {
    return {
        concurrency: { fcm: 4, apns: 4, webpush: 4, ...o.concurrency },
        rateLimitPerSecond: { fcm: 0, apns: 0, webpush: 0, ...o.rateLimitPerSecond },
        batchSize: o.batchSize ?? 500,
        retry: { maxAttempts: 6, maxAgeMs: 3600000, baseDelayMs: 2000, maxDelayMs: 300000, configErrorMaxAttempts: 1, ...o.retry },
        deletionGuard: { windowMs: 600000, maxDeadRatio: 0.5, minDeadTokens: 200, logOnly: false, maxHeldTokens: 100000,
            onClear: 'discard', ...o.deletionGuard },
        callTimeoutMs: o.callTimeoutMs ?? 60000,
        stallAfterMs: o.stallAfterMs ?? 120000
    };
}

/** A provider instance config as the registry would resolve it from `delivery` defaults. */
export function instanceConfig(id: ProviderId, kind: ProviderKind, delivery: DeliveryConfig): ProviderInstanceConfig {
    return {
        id, kind, key: id, settings: {} as never,
        concurrency: delivery.concurrency[kind], rateLimitPerSecond: delivery.rateLimitPerSecond[kind],
        retry: delivery.retry, deletionGuard: delivery.deletionGuard
    };
}

export type Script = (token: string, batch: Batch, call: number) => Omit<TokenResult, 'token'> | undefined;

/**
 * An in-memory provider: answers each token as `script` says (delivered by default), records
 * every call, and can be held (calls wait until released) to test in-flight behaviour.
 * `hang` names tokens that are never answered (their calls end without them).
 */
export class ScriptedProvider implements PushProvider {
    readonly calls: Batch[] = [];
    inFlight = 0;
    maxInFlight = 0;
    private gate: Promise<void> | undefined;
    private openGate: (() => void) | undefined;

    constructor(readonly id: ProviderId, readonly kind: ProviderKind = id as ProviderKind, public script: Script = () => undefined) {}

    /** Calls from now on wait until release(). */
    hold(): void {
        this.gate = new Promise((resolve) => {
            this.openGate = resolve;
        });
    }

    release(): void {
        this.openGate?.();
        this.gate = undefined;
    }

    /** Every token sent so far, in order. */
    get sent(): string[] {
        return this.calls.flatMap((b) => [...b.tokens]);
    }

    async send(batch: Batch, onResults: (results: readonly TokenResult[]) => void): Promise<void> {
        const call = this.calls.length;
        this.calls.push(batch);
        this.inFlight++;
        this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
        try {
            if (this.gate) {
                await this.gate;
            }
            onResults(batch.tokens.map((token) => ({ token, ...(this.script(token, batch, call) ?? { outcome: 'delivered', reason: 'ok' }) })));
        } finally {
            this.inFlight--;
        }
    }

    close(): Promise<void> {
        return Promise.resolve();
    }
}

export class RecordingSink implements DeadTokenSink {
    readonly received: Array<{ provider: ProviderId; tokens: string[]; source: MessageSource }> = [];

    deadTokens(provider: ProviderId, tokens: readonly string[], source: MessageSource): void {
        this.received.push({ provider, tokens: [...tokens], source });
    }

    get tokens(): string[] {
        return this.received.flatMap((r) => r.tokens);
    }
}

export function testMetrics(logger = new TestLogger()): ServiceMetrics {
    return createServiceMetrics(freshMetricFactory(logger));
}

export function tokens(prefix: string, n: number, from = 0): string[] {
    return Array.from({ length: n }, (_, i) => `${prefix}-token-${String(from + i).padStart(6, '0')}-abcdefghijklmnop`);
}

const messages = new EchoMessages({});

/** An Echo request for the queue (the Echo front door's message for the type). */
export function req(provider: 'fcm' | 'apns', deviceTokens: string[],
    o: { messageType?: string; topic?: string; dryRun?: boolean; source?: MessageSource } = {}): AcceptedRequest {
    return {
        provider, tokens: deviceTokens, message: messages.get(o.messageType ?? 'checkEchoV1', provider, o.topic),
        dryRun: o.dryRun ?? false, source: o.source ?? 'echo'
    };
}

/** The delivery stack of one test, built the way service.ts builds it. */
export interface Stack {
    readonly delivery: Delivery;
    readonly guard: DeletionGuard;
    readonly ledger: TokenLedger;
    readonly metrics: ServiceMetrics;
}

export function buildStack(providers: readonly PushProvider[], sink: DeadTokenSink, logger: TestLogger,
    delivery: DeliveryConfig, queueing: QueueingConfig, metrics = testMetrics(logger)): Stack {
    const instances = providers.map((p) => ({ config: instanceConfig(p.id, p.kind, delivery), provider: p }));
    const guard = new DeletionGuard(instances.map((i) => i.config), sink, logger, metrics);
    const d = new Delivery({
        instances, guard, metrics, logger, callTimeoutMs: delivery.callTimeoutMs, stallAfterMs: delivery.stallAfterMs,
        batchSize: delivery.batchSize
    });
    const ledger = new TokenLedger(queueing.maxQueuedTokens, (id) => d.labels(id), metrics, providers.map((p) => p.id));
    return { delivery: d, guard, ledger, metrics };
}

export interface QueueOverrides extends Partial<Omit<BatchingQueueOptions, 'delivery' | 'ledger' | 'queueing'>> {
    readonly queueing?: QueueingConfig;
    readonly delivery?: DeliveryConfig;
}

/** A queue's surroundings for one test: fake timers, scripted providers, a recording sink. */
export interface QueueTestbed {
    clock: ReturnType<typeof FakeTimers.install>;
    fcm: ScriptedProvider;
    apns: ScriptedProvider;
    sink: RecordingSink;
    logger: TestLogger;
    /** The stack of the last queue made. */
    stack: () => Stack;
    makeQueue: (o?: QueueOverrides) => BatchingQueue;
    makeImmediate: (o?: QueueOverrides) => ImmediateSender;
}

/** Installs fake timers (uninstall with `clock.uninstall()`) and builds fresh fakes. */
export function newQueueTestbed(): QueueTestbed {
    const clock = FakeTimers.install({ now: 1_000_000, toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'Date'] });
    const fcm = new ScriptedProvider('fcm');
    const apns = new ScriptedProvider('apns');
    const sink = new RecordingSink();
    const logger = new TestLogger();
    let last: Stack | undefined;
    const stackFor = (o: QueueOverrides): { stack: Stack; queueing: QueueingConfig; delivery: DeliveryConfig } => {
        const queueing = o.queueing ?? queueingConfig();
        const delivery = o.delivery ?? deliveryConfig();
        last = buildStack([fcm, apns], sink, logger, delivery, queueing, o.metrics ?? testMetrics(logger));
        return { stack: last, queueing, delivery };
    };
    return {
        clock, fcm, apns, sink, logger,
        stack: () => {
            if (!last) {
                throw new Error('make a queue first');
            }
            return last;
        },
        makeQueue: (o = {}) => {
            const { stack, queueing, delivery } = stackFor(o);
            return new BatchingQueue({
                ...o, queueing, batchSize: delivery.batchSize, delivery: stack.delivery, ledger: stack.ledger,
                logger, metrics: stack.metrics
            });
        },
        makeImmediate: (o = {}) => {
            const { stack, queueing, delivery } = stackFor(o);
            return new ImmediateSender({
                delivery: stack.delivery, ledger: stack.ledger, batchSize: delivery.batchSize,
                retryAfterSeconds: queueing.retryAfterSeconds, logger, metrics: stack.metrics, now: o.now, random: o.random
            });
        }
    };
}
