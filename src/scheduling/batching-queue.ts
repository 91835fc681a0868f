import { QueueingConfig } from '../config/sections/queueing';
import { Delivery } from '../delivery/delivery';
import { DeliveryBatch, RetryRun } from '../delivery/delivery-batch';
import { Logger } from '../logging/logger';
import { ServiceMetrics } from '../metrics/service-metrics';
import { ProviderId } from '../push/provider';
import { buildBatches } from './batch-builder';
import { schedulerRetryDelay } from './drain-policy';
import { flushDelayPolicy } from './flush-delay';
import { dispatchOwned, OwnedDispatchDeps } from './owned-dispatch';
import { AcceptedRequest, EnqueueResult, QueuedTokens } from './scheduler';
import { TokenLedger } from './token-ledger';
import { RetryParking } from './retry-parking';

/**
 * Everything the queue needs, passed in (no singletons):
 *
 *     const queue = new BatchingQueue({ queueing: config.queueing, batchSize: 500,
 *         delivery, ledger, logger, metrics });
 */
export interface BatchingQueueOptions {
    readonly queueing: QueueingConfig;
    /** Most tokens per provider call (delivery.batchSize). */
    readonly batchSize: number;
    readonly delivery: Delivery;
    /** Shared with the other schedulers: the cap and the drain cover them all. */
    readonly ledger: TokenLedger;
    readonly logger: Logger;
    readonly metrics: ServiceMetrics;
    /** Epoch ms; tests inject a fake clock. Timers are the global ones (fake-timers patches them). */
    readonly now?: () => number;
    /** [0, 1); drives the random flush delay and the retry jitter. */
    readonly random?: () => number;
    /** Tokens grouped between two yields to the event loop during a flush (default 1000). */
    readonly chunkTokens?: number;
}

/**
 * The privacy batching queue (one per worker): Echo's scheduler.
 *
 * Accepted tokens wait until `queueing.maxSize` of them are waiting (or the cap, if lower) or
 * the flush timer fires (a fresh random delay per flush with `random`); then they are shuffled,
 * grouped, de-duplicated and split into provider calls (batch-builder.ts) and handed to
 * delivery. Transient failures wait out their backoff (RetryParking) and then go BACK INTO
 * THE QUEUE, so retries are privacy-batched too. Tokens are released from the ledger one by
 * one as they are answered, never per batch.
 *
 * Memory is bounded: the shared TokenLedger counts every token owned — waiting for a flush,
 * being grouped, waiting for a provider slot, in flight, or waiting to be retried — and
 * `enqueue` refuses a request that would take it past `queueing.maxQueuedTokens`. Retries are
 * already counted, so they are never refused and nothing accepted is dropped. Only one flush
 * runs at a time; a flush asked for meanwhile runs right after.
 */
export class BatchingQueue {
    private readonly queueing: QueueingConfig;
    private readonly metrics: ServiceMetrics;
    private readonly logger: Logger;
    private readonly delivery: Delivery;
    private readonly ledger: TokenLedger;
    private readonly now: () => number;
    private readonly chunkTokens: number;
    private readonly batchSize: number;
    private readonly nextFlushDelay: () => number;
    /** A flush starts at this many waiting tokens: maxSize, or the cap if that is lower. */
    private readonly flushAt: number;
    private readonly parking: RetryParking;
    private readonly random: () => number;
    private readonly retryDelay: ReturnType<typeof schedulerRetryDelay>;
    private readonly owned: OwnedDispatchDeps;

    private pending: QueuedTokens[] = [];
    private pendingTokens = 0;
    private flushTimer: NodeJS.Timeout | undefined;
    private flushing = false;
    private flushAgain = false;
    private draining = false;
    private stopped = false;

    constructor(options: BatchingQueueOptions) {
        this.queueing = options.queueing;
        this.metrics = options.metrics;
        this.logger = options.logger;
        this.delivery = options.delivery;
        this.ledger = options.ledger;
        this.now = options.now ?? Date.now;
        this.chunkTokens = options.chunkTokens ?? 1000;
        this.batchSize = options.batchSize;
        const random = options.random ?? Math.random;
        this.random = random;
        this.nextFlushDelay = flushDelayPolicy(options.queueing, random);
        this.flushAt = Math.min(options.queueing.maxSize, options.queueing.maxQueuedTokens);
        this.parking = new RetryParking((run) => this.requeue(run), this.now, this.logger);
        this.retryDelay = schedulerRetryDelay(() => this.draining, random);
        this.owned = {
            delivery: this.delivery, ledger: this.ledger, parking: this.parking, logger: this.logger, metrics: this.metrics,
            stopped: () => this.stopped, component: 'queue'
        };
    }

    /** Tokens owned by every scheduler (the shared ledger). */
    get size(): number {
        return this.ledger.size;
    }

    get isFull(): boolean {
        return this.ledger.isFull;
    }

    sizeOf(provider: ProviderId): number {
        return this.ledger.sizeOf(provider);
    }

    /**
     * Takes a request, or refuses it (draining, or the cap would be passed). Synchronous and
     * cheap: the HTTP answer goes out as soon as it returns.
     */
    enqueue(request: AcceptedRequest): EnqueueResult {
        if (this.draining) {
            return { accepted: false, reason: 'draining', retryAfterSeconds: this.queueing.retryAfterSeconds };
        }
        const n = request.tokens.length;
        if (!this.ledger.fits(n)) {
            return { accepted: false, reason: 'full', retryAfterSeconds: this.queueing.retryAfterSeconds };
        }
        const labels = this.delivery.labels(request.provider);
        const invalid = request.invalid ?? [];
        this.metrics.tokensAccepted.inc({ ...labels, source: request.source }, n + invalid.length);
        this.delivery.settleInvalid(request.provider, request.source, request.dryRun, invalid);
        if (n === 0) {
            return { accepted: true };
        }
        const now = this.now();
        // References the request's token array: one small object per request, none per token.
        this.pending.push({
            provider: request.provider, message: request.message, dryRun: request.dryRun, source: request.source,
            tokens: request.tokens, ...(request.keys ? { keys: request.keys } : {}),
            enqueuedAt: now, acceptedAt: now, attempts: 0
        });
        this.pendingTokens += n;
        this.ledger.own(request.provider, n);
        this.afterPendingGrew();
        return { accepted: true };
    }

    /** Draining: refuse new requests, flush now, cut retry waits short (not below Retry-After). */
    startDrain(): void {
        if (this.draining) {
            return;
        }
        this.draining = true;
        this.parking.hurry();
        this.startFlush();
    }

    /** After the drain's deadline: no more timers. */
    stop(): void {
        this.stopped = true;
        clearTimeout(this.flushTimer);
        this.parking.stop();
    }

    private requeue(run: RetryRun): void {
        if (this.stopped) {
            return; // reported undelivered by the drain
        }
        this.pending.push({ ...run, enqueuedAt: this.now() });
        this.pendingTokens += run.tokens.length;
        this.afterPendingGrew();
    }

    /** Flush now if enough is waiting (or we are draining), else make sure the timer runs. */
    private afterPendingGrew(): void {
        if (this.pendingTokens >= this.flushAt || this.ledger.isFull || this.draining) {
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
            this.logger.log('error/queue', { msg: 'flush failed', error: String(e) });
        }).finally(() => {
            this.flushing = false;
            const again = this.flushAgain;
            this.flushAgain = false;
            if (again && (this.pendingTokens >= this.flushAt || this.draining)) {
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
            onWait: (provider, seconds) => this.metrics.queueWait.observe(this.delivery.labels(provider), seconds),
            random: this.random
        }, (db) => this.deliver(db));
        for (const [provider, n] of Object.entries(result.duplicates)) {
            this.metrics.finished.inc({ ...this.delivery.labels(provider), result: 'duplicate' }, n);
            this.ledger.disown(provider, n);
        }
    }

    private deliver(db: DeliveryBatch): void {
        dispatchOwned(this.owned, db, { retryDelay: this.retryDelay, deferDeadTokens: true });
    }
}
