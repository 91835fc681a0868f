/**
 * Two small limiters layered over a provider (see limited-provider.ts), so each provider
 * implementation stays a plain "send this batch" and the limits live in one place.
 */

/** At most `limit` calls run at once; the rest wait in FIFO order. */
export class ConcurrencyLimiter {
    private active = 0;
    private readonly waiting: Array<() => void> = [];

    constructor(private readonly limit: number) {
        if (!(limit >= 1)) {
            throw new RangeError(`concurrency limit must be >= 1, got ${limit}`);
        }
    }

    /** Calls waiting for a slot. */
    get queued(): number {
        return this.waiting.length;
    }

    async run<T>(fn: () => Promise<T>): Promise<T> {
        if (this.active < this.limit) {
            this.active++;
        } else {
            // The releasing call hands its slot straight to us, so `active` is unchanged.
            await new Promise<void>((resolve) => this.waiting.push(resolve));
        }
        try {
            return await fn();
        } finally {
            const next = this.waiting.shift();
            if (next) {
                next();
            } else {
                this.active--;
            }
        }
    }
}

/**
 * At most `capacity` units (tokens) held at once by running calls; a call waits, FIFO, until
 * its weight fits. A call heavier than the whole capacity still runs, alone (weight clamped),
 * so nothing is starved or refused.
 */
export class WeightedLimiter {
    private used = 0;
    private readonly waiting: Array<{ weight: number; go: () => void }> = [];

    constructor(private readonly capacity: number) {
        if (!(capacity >= 1)) {
            throw new RangeError(`capacity must be >= 1, got ${capacity}`);
        }
    }

    /** Calls waiting for room. */
    get queued(): number {
        return this.waiting.length;
    }

    async run<T>(weight: number, fn: () => Promise<T>): Promise<T> {
        const w = Math.min(this.capacity, Math.max(1, Math.ceil(weight)));
        if (this.waiting.length === 0 && this.used + w <= this.capacity) {
            this.used += w;
        } else {
            await new Promise<void>((resolve) => this.waiting.push({ weight: w, go: resolve }));
        }
        try {
            return await fn();
        } finally {
            this.used -= w;
            while (this.waiting.length > 0 && this.used + this.waiting[0].weight <= this.capacity) {
                const next = this.waiting.shift()!;
                this.used += next.weight;
                next.go();
            }
        }
    }
}

/**
 * Outbound tokens per second, by virtual scheduling: each call reserves the time its
 * tokens take at the given rate and waits until its reservation starts. A call bigger
 * than one second's worth still goes (alone), so a batch is never split or starved.
 * A rate of 0 (or less) means unlimited.
 */
export class RateLimiter {
    private nextFreeAt = 0;

    constructor(private readonly perSecond: number, private readonly now: () => number,
        private readonly sleep: (ms: number) => Promise<void>) {}

    async take(tokens: number): Promise<void> {
        if (this.perSecond <= 0 || tokens <= 0) {
            return;
        }
        const now = this.now();
        const start = Math.max(now, this.nextFreeAt);
        this.nextFreeAt = start + (tokens * 1000) / this.perSecond;
        if (start > now) {
            await this.sleep(start - now);
        }
    }
}
