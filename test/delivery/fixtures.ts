import { DeliveryConfig } from '../../src/config/sections/delivery';
import { QueueingConfig } from '../../src/config/sections/queueing';
import { DeadTokenSink } from '../../src/delivery/dead-token-sink';
import { createServiceMetrics, ServiceMetrics } from '../../src/metrics/service-metrics';
import FakeTimers from '@sinonjs/fake-timers';
import { Batch, ProviderName, PushRequest } from '../../src/push/push-request';
import { BatchingQueue, BatchingQueueOptions } from '../../src/queue/batching-queue';
import { PushProvider, TokenResult } from '../../src/providers/push-provider';
import { freshMetricFactory } from '../helpers/metrics';
import { TestLogger } from '../helpers/test-logger';

/** Config with the schema defaults, overridable per test. */
export function queueingConfig(o: Partial<QueueingConfig> = {}): QueueingConfig {
    return { flushTimeoutMs: 1000, maxSize: 1000, maxQueuedTokens: 200000, retryAfterSeconds: 5, verbose: false, ...o };
}

export function deliveryConfig(o: {
    concurrency?: Partial<DeliveryConfig['concurrency']>;
    rateLimitPerSecond?: Partial<DeliveryConfig['rateLimitPerSecond']>;
    batchSize?: number;
    retry?: Partial<DeliveryConfig['retry']>;
    deletionGuard?: Partial<DeliveryConfig['deletionGuard']>;
} = {}): DeliveryConfig {
    return {
        concurrency: { fcm: 4, apns: 4, ...o.concurrency },
        rateLimitPerSecond: { fcm: 0, apns: 0, ...o.rateLimitPerSecond },
        batchSize: o.batchSize ?? 500,
        retry: { maxAttempts: 6, maxAgeMs: 3600000, baseDelayMs: 2000, maxDelayMs: 300000, configErrorMaxAttempts: 1, ...o.retry },
        deletionGuard: { windowMs: 600000, maxDeadRatio: 0.5, minDeadTokens: 200, logOnly: false, maxHeldTokens: 100000,
            onClear: 'discard', ...o.deletionGuard }
    };
}

export type Script = (token: string, batch: Batch, call: number) => Omit<TokenResult, 'token'> | undefined;

/**
 * An in-memory provider: answers each token as `script` says (delivered by default), records
 * every call, and can be held (calls wait until released) to test in-flight behaviour.
 */
export class ScriptedProvider implements PushProvider {
    readonly calls: Batch[] = [];
    inFlight = 0;
    maxInFlight = 0;
    private gate: Promise<void> | undefined;
    private openGate: (() => void) | undefined;

    constructor(readonly name: ProviderName, public script: Script = () => undefined) {}

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

    async send(batch: Batch): Promise<TokenResult[]> {
        const call = this.calls.length;
        this.calls.push(batch);
        this.inFlight++;
        this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
        try {
            if (this.gate) {
                await this.gate;
            }
            return batch.tokens.map((token) => ({ token, ...(this.script(token, batch, call) ?? { outcome: 'delivered', reason: 'ok' }) }));
        } finally {
            this.inFlight--;
        }
    }

    close(): Promise<void> {
        return Promise.resolve();
    }
}

export class RecordingSink implements DeadTokenSink {
    readonly received: Array<{ provider: ProviderName; tokens: string[] }> = [];

    deadTokens(provider: ProviderName, tokens: readonly string[]): void {
        this.received.push({ provider, tokens: [...tokens] });
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

export function req(provider: ProviderName, deviceTokens: string[], o: Partial<PushRequest> = {}): PushRequest {
    return { provider, deviceTokens, messageType: 'checkEchoV1', dryRun: false, ...o };
}

/** A queue's surroundings for one test: fake timers, scripted providers, a recording sink. */
export interface QueueTestbed {
    clock: ReturnType<typeof FakeTimers.install>;
    fcm: ScriptedProvider;
    apns: ScriptedProvider;
    sink: RecordingSink;
    logger: TestLogger;
    makeQueue: (o?: Partial<BatchingQueueOptions>) => BatchingQueue;
}

/** Installs fake timers (uninstall with `clock.uninstall()`) and builds fresh fakes. */
export function newQueueTestbed(): QueueTestbed {
    const clock = FakeTimers.install({ now: 1_000_000, toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'Date'] });
    const fcm = new ScriptedProvider('fcm');
    const apns = new ScriptedProvider('apns');
    const sink = new RecordingSink();
    const logger = new TestLogger();
    return {
        clock, fcm, apns, sink, logger,
        makeQueue: (o = {}) => new BatchingQueue({
            queueing: queueingConfig(), delivery: deliveryConfig(), providers: { fcm, apns },
            deadTokens: sink, logger, metrics: testMetrics(logger), ...o
        })
    };
}
