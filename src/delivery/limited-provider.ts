import { ServiceMetrics } from '../metrics/service-metrics';
import { Batch } from '../push/push-request';
import { PushProvider, TokenResult } from '../providers/push-provider';
import { ConcurrencyLimiter, RateLimiter } from '../util/limiters';

export interface ProviderLimitOptions {
    /** Provider calls in flight at once (delivery.concurrency.<provider>). */
    readonly concurrency: number;
    /** Outbound tokens per second (delivery.rateLimitPerSecond.<provider>); 0 = unlimited. */
    readonly ratePerSecond: number;
    readonly now: () => number;
    readonly sleep: (ms: number) => Promise<void>;
}

/**
 * A PushProvider wrapped in its concurrency and rate limits, and measured: calls in flight,
 * call latency and batch size are recorded here, around the real call only (not the wait
 * for a slot), so the latency metric shows the provider and not our own queueing.
 */
export class LimitedProvider implements PushProvider {
    readonly name: PushProvider['name'];
    private readonly slots: ConcurrencyLimiter;
    private readonly rate: RateLimiter;

    constructor(private readonly inner: PushProvider, options: ProviderLimitOptions,
        private readonly metrics: Pick<ServiceMetrics, 'deliveriesInFlight' | 'providerDuration' | 'batchSize'>) {
        this.name = inner.name;
        this.slots = new ConcurrencyLimiter(options.concurrency);
        this.rate = new RateLimiter(options.ratePerSecond, options.now, options.sleep);
    }

    /** Calls waiting for a concurrency slot. */
    get waiting(): number {
        return this.slots.queued;
    }

    send(batch: Batch): Promise<TokenResult[]> {
        return this.slots.run(async () => {
            await this.rate.take(batch.tokens.length);
            const labels = { provider: this.name };
            this.metrics.batchSize.observe(labels, batch.tokens.length);
            this.metrics.deliveriesInFlight.inc(labels);
            const started = process.hrtime.bigint();
            try {
                return await this.inner.send(batch);
            } finally {
                this.metrics.deliveriesInFlight.dec(labels);
                this.metrics.providerDuration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
            }
        });
    }

    close(): Promise<void> {
        return this.inner.close();
    }
}
