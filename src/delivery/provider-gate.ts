import { Logger } from '../logging/logger';
import { ProviderLabels, ServiceMetrics } from '../metrics/service-metrics';
import { Batch, isAnswer, PushProvider, TokenResult } from '../push/provider';
import { RateLimiter, WeightedLimiter } from '../util/limiters';

export interface ProviderGateOptions {
    /**
     * Full provider calls in flight at once: the gate holds at most `concurrency * batchSize`
     * TOKENS in flight, so `concurrency` calls of a full batch (the privacy queue's) run at
     * once, while one-token calls (the immediate sender's: one Matrix device, one MongoosePush
     * request) are not held back by a call count that a few slow devices would fill.
     */
    readonly concurrency: number;
    /** Most tokens per call (delivery.batchSize). */
    readonly batchSize: number;
    /** Outbound tokens per second; 0 = unlimited. */
    readonly ratePerSecond: number;
    /**
     * Deadline of one provider call as a whole, ms: tokens still unanswered then are reported
     * transient ('call_deadline') and the slot is freed, whatever the provider is stuck on.
     */
    readonly callTimeoutMs: number;
    /** A provider whose calls got no answer at all for this long is "stalled" (stuck egress). */
    readonly stallAfterMs: number;
    readonly now: () => number;
    readonly sleep: (ms: number) => Promise<void>;
}

type GateMetrics = Pick<ServiceMetrics, 'deliveriesInFlight' | 'providerDuration' | 'batchSize' | 'callTimeouts' | 'providerStalled'>;

/**
 * One provider instance behind its limits, its call deadline and its stall detector, and
 * measured: calls in flight, call latency and batch size are recorded around the real call
 * only (not the wait for a slot), so the latency metric shows the provider, not our queueing.
 *
 * The call deadline is the backstop of issue "a silent proxy stalls delivery": each provider
 * bounds its own requests, but whatever a library might still wait on, a call ends by
 * `callTimeoutMs`, its unanswered tokens are retried and its concurrency slot comes back.
 * Answers that arrive after the deadline are dropped (the tokens were already reported).
 */
export class ProviderGate {
    private readonly slots: WeightedLimiter;
    private readonly rate: RateLimiter;
    /** Since when calls have been made without any answer from the push service. */
    private unansweredSince: number | undefined;
    private stalledNow = false;

    constructor(readonly provider: PushProvider, readonly labels: ProviderLabels, private readonly options: ProviderGateOptions,
        private readonly metrics: GateMetrics, private readonly logger: Logger) {
        this.slots = new WeightedLimiter(options.concurrency * options.batchSize);
        this.rate = new RateLimiter(options.ratePerSecond, options.now, options.sleep);
        metrics.providerStalled.set(labels, 0);
    }

    /** Calls waiting for a concurrency slot. */
    get waiting(): number {
        return this.slots.queued;
    }

    /** True while every call for `stallAfterMs` got no answer at all (see /readyz). */
    get stalled(): boolean {
        return this.stalledNow;
    }

    send(batch: Batch, onResults: (results: readonly TokenResult[]) => void): Promise<void> {
        return this.slots.run(batch.tokens.length, async () => {
            await this.rate.take(batch.tokens.length);
            await this.callWithDeadline(batch, onResults);
        });
    }

    private async callWithDeadline(batch: Batch, onResults: (results: readonly TokenResult[]) => void): Promise<void> {
        const labels = this.labels;
        this.metrics.batchSize.observe(labels, batch.tokens.length);
        this.metrics.deliveriesInFlight.inc(labels);
        const started = process.hrtime.bigint();
        this.unansweredSince ??= this.options.now();
        const outstanding = new Set(batch.tokens);
        let answered = false;
        const report = (results: readonly TokenResult[]): void => {
            const fresh = results.filter((r) => outstanding.delete(r.token));
            if (fresh.length === 0) {
                return;
            }
            if (!answered && fresh.some(isAnswer)) {
                answered = true;
                this.unansweredSince = undefined;
            }
            onResults(fresh);
        };
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<'deadline'>((resolve) => {
            timer = setTimeout(() => resolve('deadline'), this.options.callTimeoutMs);
        });
        let call: Promise<unknown>;
        try {
            call = this.provider.send(batch, report);
        } catch (e) {
            call = Promise.reject(e instanceof Error ? e : new Error(String(e)));
        }
        try {
            const how = await Promise.race([call.then(() => 'done' as const, (e: unknown) => {
                this.logger.log('error/delivery', {
                    msg: 'provider send rejected (it must resolve); its tokens are retried', ...labels, error: String(e)
                });
                return 'rejected' as const;
            }), deadline]);
            if (how === 'deadline' && outstanding.size > 0) {
                this.metrics.callTimeouts.inc(labels);
                this.logger.log('warn/delivery', {
                    msg: `provider call hit its ${this.options.callTimeoutMs} ms deadline; unanswered tokens are retried`,
                    ...labels, unanswered: outstanding.size, tokens: batch.tokens.length
                });
            }
            if (outstanding.size > 0) {
                const reason = how === 'deadline' ? 'call_deadline' : how === 'rejected' ? 'send_rejected' : 'no_result';
                report([...outstanding].map((token) => ({ token, outcome: 'transient' as const, reason, unanswered: true })));
            }
        } finally {
            clearTimeout(timer);
            this.metrics.deliveriesInFlight.dec(labels);
            this.metrics.providerDuration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
            this.updateStalled();
        }
    }

    private updateStalled(): void {
        const stalled = this.unansweredSince !== undefined && this.options.now() - this.unansweredSince >= this.options.stallAfterMs;
        if (stalled !== this.stalledNow) {
            this.stalledNow = stalled;
            this.metrics.providerStalled.set(this.labels, stalled ? 1 : 0);
            this.logger.log(stalled ? 'error/delivery' : 'info/delivery', {
                msg: stalled ? `no answer from the push service for ${this.options.stallAfterMs} ms (stuck egress path?)` :
                    'the push service answers again', ...this.labels
            });
        }
    }

    close(): Promise<void> {
        return this.provider.close();
    }
}
