import { Logger } from '../logging/logger';
import { RetryRun } from '../delivery/delivery-batch';

interface Parked {
    /** When it goes back to the scheduler. */
    dueAt: number;
    /** Not before this, even while draining (Retry-After). */
    readonly notBefore: number;
    readonly run: RetryRun;
}

/**
 * Retry runs waiting out their backoff: one timer for all of them (the earliest due), then
 * handed back to the scheduler that owns them. During a drain the waits are cut short, but
 * never below a provider's Retry-After. Timers are unref'd; no callback throws.
 */
export class RetryParking {
    private readonly parked: Parked[] = [];
    private timer: NodeJS.Timeout | undefined;
    private stopped = false;

    constructor(private readonly onDue: (run: RetryRun) => void, private readonly now: () => number,
        private readonly logger: Logger) {}

    get size(): number {
        return this.parked.length;
    }

    hold(run: RetryRun): void {
        const now = this.now();
        this.parked.push({ dueAt: now + run.delayMs, notBefore: now + (run.retryAfterMs ?? 0), run });
        if (run.delayMs <= 0) {
            this.promote();
        } else {
            this.arm();
        }
    }

    /** Draining: everything goes as soon as its Retry-After allows. */
    hurry(): void {
        const now = this.now();
        for (const p of this.parked) {
            p.dueAt = Math.min(p.dueAt, Math.max(now, p.notBefore));
        }
        this.promote();
    }

    stop(): void {
        this.stopped = true;
        clearTimeout(this.timer);
    }

    private arm(): void {
        clearTimeout(this.timer);
        this.timer = undefined;
        if (this.parked.length === 0 || this.stopped) {
            return;
        }
        let first = Infinity;
        for (const p of this.parked) {
            first = Math.min(first, p.dueAt);
        }
        this.timer = setTimeout(() => {
            this.timer = undefined;
            try {
                this.promote();
            } catch (e) {
                this.logger.log('error/scheduler', { msg: 'retry timer failed', error: String(e) });
            }
        }, Math.max(0, first - this.now()));
        this.timer.unref();
    }

    private promote(): void {
        const now = this.now();
        const due: RetryRun[] = [];
        for (let i = 0; i < this.parked.length;) {
            if (this.parked[i].dueAt <= now) {
                due.push(this.parked[i].run);
                this.parked.splice(i, 1);
            } else {
                i++;
            }
        }
        this.arm();
        for (const run of due) {
            this.onDue(run);
        }
    }
}
