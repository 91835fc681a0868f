import { ProviderLabels, ServiceMetrics } from '../metrics/service-metrics';
import { ProviderId } from '../push/provider';

/**
 * Which tokens the schedulers own, per provider instance: from acceptance until each one is
 * finished (delivered, dead, given up, dropped as a duplicate). One ledger is shared by every
 * scheduler, so `maxQueuedTokens` bounds all of them together and the drain waits for all.
 * Accounting is per token, never per batch: whatever answered is released at once.
 */
export class TokenLedger {
    private readonly owned = new Map<ProviderId, number>();
    private total = 0;
    private idleWaiters: Array<() => void> = [];

    constructor(private readonly cap: number, private readonly labels: (provider: ProviderId) => ProviderLabels,
        private readonly metrics: Pick<ServiceMetrics, 'queueSize'>, providers: readonly ProviderId[]) {
        for (const p of providers) {
            this.owned.set(p, 0);
            metrics.queueSize.set(labels(p), 0);
        }
    }

    get size(): number {
        return this.total;
    }

    get isFull(): boolean {
        return this.total >= this.cap;
    }

    /** Whether `n` more tokens fit under the cap. */
    fits(n: number): boolean {
        return this.total + n <= this.cap;
    }

    sizeOf(provider: ProviderId): number {
        return this.owned.get(provider) ?? 0;
    }

    own(provider: ProviderId, n: number): void {
        if (n <= 0) {
            return;
        }
        const v = (this.owned.get(provider) ?? 0) + n;
        this.owned.set(provider, v);
        this.total += n;
        this.metrics.queueSize.set(this.labels(provider), v);
    }

    disown(provider: ProviderId, n: number): void {
        if (n <= 0) {
            return;
        }
        const v = (this.owned.get(provider) ?? 0) - n;
        this.owned.set(provider, v);
        this.total -= n;
        this.metrics.queueSize.set(this.labels(provider), v);
        if (this.total === 0 && this.idleWaiters.length > 0) {
            const waiters = this.idleWaiters;
            this.idleWaiters = [];
            for (const w of waiters) {
                w();
            }
        }
    }

    /** Resolves when nothing is owned, or at `deadline` (epoch ms): ref'd, it keeps the process up. */
    async idle(deadline: number, now: () => number): Promise<void> {
        if (this.total === 0) {
            return;
        }
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
            this.idleWaiters.push(resolve);
            timer = setTimeout(resolve, Math.max(0, deadline - now()));
        });
        clearTimeout(timer);
    }

    /** Tokens owned per provider instance (the drain report). */
    snapshot(): Record<ProviderId, number> {
        return Object.fromEntries(this.owned);
    }
}
