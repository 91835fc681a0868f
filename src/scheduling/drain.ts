import { DrainReport } from './scheduler';
import { TokenLedger } from './token-ledger';

/** A scheduler, as the drain sees it: refuse new work and hurry, then stop its timers. */
export interface DrainingScheduler {
    /** Refuse new requests; send at once what is held; cut retry waits short (not below Retry-After). */
    startDrain(): void;
    /** After the deadline: no more timers, late retries are dropped (already reported). */
    stop(): void;
}

/**
 * Drains every scheduler sharing `ledger` until nothing is owned or `deadline` (epoch ms)
 * passes, then stops them and reports, per provider instance, the tokens still unfinished.
 * Per token, never per batch: a token answered before the deadline is not in the report.
 */
export async function drainSchedulers(schedulers: readonly DrainingScheduler[], ledger: TokenLedger, deadline: number,
    now: () => number = Date.now): Promise<DrainReport> {
    for (const s of schedulers) {
        s.startDrain();
    }
    await ledger.idle(deadline, now);
    for (const s of schedulers) {
        s.stop();
    }
    return { undelivered: ledger.snapshot() };
}
