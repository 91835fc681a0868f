import { DeliveryConfig } from '../config/sections/delivery';
import { QueueingConfig } from '../config/sections/queueing';
import { DeadTokenSink } from '../delivery/dead-token-sink';
import { DeletionGuard } from '../delivery/deletion-guard';
import { Dispatcher, RetryRun } from '../delivery/dispatcher';
import { LimitedProvider } from '../delivery/limited-provider';
import { retryDelayMs } from '../delivery/retry-policy';
import { Logger } from '../logging/logger';
import { ServiceMetrics } from '../metrics/service-metrics';
import { PROVIDER_NAMES, ProviderName, PushRequest } from '../push/push-request';
import { PushProvider } from '../providers/push-provider';
import { buildBatches } from './batch-builder';
import { flushDelayPolicy } from './flush-delay';
import { DrainReport, EnqueueResult, MessageQueue } from './message-queue';
import { DeliveryBatch, QueuedTokens } from './queued-tokens';

/**
 * Everything the queue needs, passed in (no singletons):
 *
 *     const queue = new BatchingQueue({
 *         queueing: config.queueing, delivery: config.delivery,
 *         providers: { fcm, apns },          // the raw providers; limits are layered on here
 *         deadTokens: mediawikiOutbox,       // DeadTokenSink; the deletion guard sits in front
 *         logger, metrics                    // Logger, ServiceMetrics
 *     });
 */
export interface BatchingQueueOptions {
    readonly queueing: QueueingConfig;
    readonly delivery: DeliveryConfig;
    readonly providers: Readonly<Record<ProviderName, PushProvider>>;
    readonly deadTokens: DeadTokenSink;
    readonly logger: Logger;
    readonly metrics: ServiceMetrics;
    /** Epoch ms; tests inject a fake clock. Timers are the global ones (fake-timers patches them). */
    readonly now?: () => number;
    /** [0, 1); drives the random flush delay and the retry jitter. */
    readonly random?: () => number;
    /** Tokens grouped between two yields to the event loop during a flush (default 1000). */
    readonly chunkTokens?: number;
}

/** Longest backoff a retry waits while draining (unless the provider asked for longer). */
const DRAIN_RETRY_MAX_MS = 250;

interface WaitingRetry {
    /** When it goes back into the queue. */
    dueAt: number;
    /** Not before this, even while draining (Retry-After). */
    readonly notBefore: number;
    readonly run: QueuedTokens;
}

/**
 * The privacy batching queue (one per worker) and its delivery loop.
 *
 * Accepted tokens wait until `queueing.maxSize` of them are waiting or the flush timer
 * fires (a fresh random delay per flush with 'random'); then they are grouped, de-duplicated
 * and split into provider calls (batch-builder.ts), sent through per-provider concurrency
 * and rate limits (limited-provider.ts), and their answers acted on (dispatcher.ts). Dead
 * tokens go through the mass-deletion guard to the DeadTokenSink. Transient failures wait
 * out their backoff here and then go BACK INTO THE QUEUE, so retries are privacy-batched too.
 *
 * Memory is bounded: `size` counts every token the queue owns — waiting for a flush, being
 * grouped, waiting for a provider slot, in flight, or waiting to be retried — and `enqueue`
 * refuses a request that would take it past `queueing.maxQueuedTokens`. Retries are already
 * counted, so they never get refused and nothing accepted is dropped. Only one flush runs
 * at a time; a flush asked for meanwhile runs right after.
 *
 * Timers are unref'd: the HTTP server keeps the process alive; during drain a ref'd
 * deadline timer does. No timer callback throws.
 */
export class BatchingQueue implements MessageQueue {
    private readonly queueing: QueueingConfig;
    private readonly metrics: ServiceMetrics;
    private readonly logger: Logger;
    private readonly now: () => number;
    private readonly chunkTokens: number;
    private readonly nextFlushDelay: () => number;
    private readonly dispatcher: Dispatcher;
    private readonly batchSize: number;
    private readonly drainRetryDelay: (attemptsMade: number, retryAfterMs: number | undefined) => number;
    /** The deletion guard in front of the sink; exposed for tests and operations. */
    readonly guard: DeletionGuard;

    private pending: QueuedTokens[] = [];
    private pendingTokens = 0;
    private readonly owned: Record<ProviderName, number>;
    private ownedTotal = 0;
    private flushTimer: NodeJS.Timeout | undefined;
    private flushing = false;
    private flushAgain = false;
    private readonly waitingRetries: WaitingRetry[] = [];
    private retryTimer: NodeJS.Timeout | undefined;
    private draining: Promise<DrainReport> | undefined;
    private stopped = false;
    private idleWaiters: Array<() => void> = [];

    constructor(options: BatchingQueueOptions) {
        this.queueing = options.queueing;
        this.metrics = options.metrics;
        this.logger = options.logger;
        this.now = options.now ?? Date.now;
        this.chunkTokens = options.chunkTokens ?? 1000;
        this.batchSize = options.delivery.batchSize;
        const random = options.random ?? Math.random;
        this.nextFlushDelay = flushDelayPolicy(options.queueing, random);
        this.guard = new DeletionGuard(options.delivery.deletionGuard, options.deadTokens, options.logger,
            options.metrics, this.now);
        const limited = {} as Record<ProviderName, PushProvider>;
        const owned = {} as Record<ProviderName, number>;
        for (const p of PROVIDER_NAMES) {
            limited[p] = new LimitedProvider(options.providers[p], {
                concurrency: options.delivery.concurrency[p],
                ratePerSecond: options.delivery.rateLimitPerSecond[p],
                now: this.now,
                sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms))
            }, options.metrics);
            owned[p] = 0;
            options.metrics.queueSize.set({ provider: p }, 0);
        }
        this.owned = owned;
        this.dispatcher = new Dispatcher({
            providers: limited, guard: this.guard, retry: options.delivery.retry,
            metrics: options.metrics, logger: options.logger, now: this.now, random
        });
        const retryConfig = options.delivery.retry;
        this.drainRetryDelay = (made, retryAfterMs) => retryAfterMs ??
            Math.min(DRAIN_RETRY_MAX_MS, retryDelayMs(made, undefined, retryConfig, random));
    }

    get size(): number {
        return this.ownedTotal;
    }

    get isFull(): boolean {
        return this.ownedTotal >= this.queueing.maxQueuedTokens;
    }

    /** Tokens owned per provider (for tests and the drain report). */
    sizeOf(provider: ProviderName): number {
        return this.owned[provider];
    }

    enqueue(request: PushRequest): EnqueueResult {
        if (this.draining) {
            return { accepted: false, reason: 'draining', retryAfterSeconds: this.queueing.retryAfterSeconds };
        }
        const n = request.deviceTokens.length;
        if (this.ownedTotal + n > this.queueing.maxQueuedTokens) {
            return { accepted: false, reason: 'full', retryAfterSeconds: this.queueing.retryAfterSeconds };
        }
        if (n === 0) {
            return { accepted: true };
        }
        const now = this.now();
        // References the request's token array: one small object per request, none per token.
        this.pending.push({
            provider: request.provider, messageType: request.messageType, topic: request.topic,
            dryRun: request.dryRun, tokens: request.deviceTokens, enqueuedAt: now, acceptedAt: now, attempts: 0
        });
        this.pendingTokens += n;
        this.own(request.provider, n);
        this.afterPendingGrew();
        return { accepted: true };
    }

    drain(deadline: number): Promise<DrainReport> {
        this.draining ??= this.runDrain(deadline);
        return this.draining;
    }

    private async runDrain(deadline: number): Promise<DrainReport> {
        this.dispatcher.retryDelay = this.drainRetryDelay;
        // Retries waiting out a backoff go now (but not before their Retry-After).
        const now = this.now();
        for (const w of this.waitingRetries) {
            w.dueAt = Math.min(w.dueAt, Math.max(now, w.notBefore));
        }
        this.promoteDueRetries();
        this.startFlush();
        let deadlineTimer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
            if (this.ownedTotal === 0) {
                resolve();
                return;
            }
            this.idleWaiters.push(resolve);
            // Ref'd on purpose: it keeps the process alive until the drain is over.
            deadlineTimer = setTimeout(resolve, Math.max(0, deadline - this.now()));
        });
        clearTimeout(deadlineTimer);
        this.stopped = true;
        clearTimeout(this.flushTimer);
        clearTimeout(this.retryTimer);
        const undelivered: Record<string, number> = {};
        for (const p of PROVIDER_NAMES) {
            undelivered[p] = this.owned[p];
        }
        return { undelivered };
    }

    private own(provider: ProviderName, n: number): void {
        this.owned[provider] += n;
        this.ownedTotal += n;
        this.metrics.queueSize.set({ provider }, this.owned[provider]);
    }

    private disown(provider: ProviderName, n: number): void {
        if (n <= 0) {
            return;
        }
        this.owned[provider] -= n;
        this.ownedTotal -= n;
        this.metrics.queueSize.set({ provider }, this.owned[provider]);
        if (this.ownedTotal === 0 && this.idleWaiters.length > 0) {
            const waiters = this.idleWaiters;
            this.idleWaiters = [];
            for (const w of waiters) {
                w();
            }
        }
    }

    /** Flush now if enough is waiting (or we are draining), else make sure the timer runs. */
    private afterPendingGrew(): void {
        if (this.pendingTokens >= this.queueing.maxSize || this.draining) {
            this.startFlush();
        } else if (!this.flushTimer && !this.flushing && this.pending.length > 0) {
            this.flushTimer = setTimeout(() => {
                this.flushTimer = undefined;
                this.startFlush();
            }, this.nextFlushDelay());
            this.flushTimer.unref();
        }
    }

    private startFlush(): void {
        if (this.stopped) {
            return;
        }
        clearTimeout(this.flushTimer);
        this.flushTimer = undefined;
        if (this.flushing) {
            this.flushAgain = true;
            return;
        }
        if (this.pending.length === 0) {
            return;
        }
        this.flushing = true;
        this.flush().catch((e: unknown) => {
            this.logger.log('error/queue', { msg: 'flush failed', error: (e as Error)?.message ?? String(e) });
        }).finally(() => {
            this.flushing = false;
            const again = this.flushAgain;
            this.flushAgain = false;
            if (again && (this.pendingTokens >= this.queueing.maxSize || this.draining)) {
                this.startFlush();
            } else {
                // A fresh delay for what arrived meanwhile.
                this.afterPendingGrew();
            }
        });
    }

    private async flush(): Promise<void> {
        const runs = this.pending;
        this.pending = [];
        this.pendingTokens = 0;
        const result = await buildBatches(runs, {
            batchSize: this.batchSize,
            chunkTokens: this.chunkTokens,
            yieldToLoop: () => new Promise((resolve) => setImmediate(resolve)),
            now: this.now,
            onWait: (provider, seconds) => this.metrics.queueWait.observe({ provider }, seconds)
        }, (db) => this.deliver(db));
        for (const p of PROVIDER_NAMES) {
            this.disown(p, result.duplicates[p] ?? 0);
        }
    }

    private deliver(db: DeliveryBatch): void {
        const provider = db.batch.provider;
        this.dispatcher.dispatch(db).then((res) => {
            if (res.retry) {
                this.holdRetry(res.retry);
            }
            this.disown(provider, res.finished);
        }, (e: unknown) => {
            // Dispatcher.dispatch does not reject; if it ever does, account for the tokens.
            this.logger.log('error/queue', { msg: 'delivery failed unexpectedly; tokens lost', provider,
                count: db.batch.tokens.length, error: (e as Error)?.message ?? String(e) });
            this.metrics.messages.inc({ provider, outcome: 'gave_up', reason: 'internal_error' }, db.batch.tokens.length);
            this.disown(provider, db.batch.tokens.length);
        });
    }

    private holdRetry(r: RetryRun): void {
        if (this.stopped) {
            // Drained already: these were reported undelivered.
            this.disown(r.run.provider, r.run.tokens.length);
            return;
        }
        const now = this.now();
        this.waitingRetries.push({ dueAt: now + r.delayMs, notBefore: now + (r.retryAfterMs ?? 0), run: r.run });
        if (r.delayMs <= 0) {
            this.promoteDueRetries();
        } else {
            this.armRetryTimer();
        }
    }

    private armRetryTimer(): void {
        clearTimeout(this.retryTimer);
        this.retryTimer = undefined;
        if (this.waitingRetries.length === 0 || this.stopped) {
            return;
        }
        let first = Infinity;
        for (const w of this.waitingRetries) {
            first = Math.min(first, w.dueAt);
        }
        this.retryTimer = setTimeout(() => {
            this.retryTimer = undefined;
            try {
                this.promoteDueRetries();
            } catch (e) {
                this.logger.log('error/queue', { msg: 'retry timer failed', error: (e as Error)?.message ?? String(e) });
            }
        }, Math.max(0, first - this.now()));
        this.retryTimer.unref();
    }

    /** Moves retries whose backoff is over back into the queue. */
    private promoteDueRetries(): void {
        const now = this.now();
        let moved = false;
        for (let i = 0; i < this.waitingRetries.length;) {
            const w = this.waitingRetries[i];
            if (w.dueAt <= now) {
                this.waitingRetries.splice(i, 1);
                this.pending.push(w.run);
                this.pendingTokens += w.run.tokens.length;
                moved = true;
            } else {
                i++;
            }
        }
        this.armRetryTimer();
        if (moved) {
            this.afterPendingGrew();
        }
    }
}
