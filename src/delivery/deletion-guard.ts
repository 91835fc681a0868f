import { DeletionGuardConfig } from '../config/sections/delivery';
import { Logger } from '../logging/logger';
import { tokenFingerprints } from '../logging/redact';
import { ServiceMetrics } from '../metrics/service-metrics';
import { PROVIDER_NAMES, ProviderName } from '../push/push-request';
import { DeadTokenSink } from './dead-token-sink';

/** The window is kept as this many buckets: cheap to slide, precise to 1/BUCKETS of it. */
const BUCKETS = 20;

/** How many fingerprints go into one log line when logging what would be deleted. */
const FINGERPRINTS_PER_LINE = 100;

interface Bucket {
    start: number;
    answered: number;
    dead: number;
}

interface ProviderState {
    readonly buckets: Bucket[];
    tripped: boolean;
    /** While tripped: since when the window has been healthy (undefined while it is not). */
    healthySince?: number;
    held: string[];
}

/**
 * The mass-deletion guard, between the dispatcher and the MediaWiki cleanup sink.
 *
 * A wrong APNs environment, or credentials for another Firebase project, make EVERY token
 * look dead, and a deletion cannot be undone. So, per provider, over a sliding window of
 * `windowMs`: when more than `maxDeadRatio` of the tokens that got a definite answer
 * (delivered, dead or config_error; transient failures are not answers) came back dead,
 * AND more than `minDeadTokens` came back dead, the guard TRIPS:
 * - it stops handing deletions on and holds them instead (at most `maxHeldTokens` per
 *   provider; the overflow is counted in deletionGuardOverflow and discarded);
 * - it logs an error and sets deletion_guard_tripped{provider}=1 and deletions_held_tokens.
 *
 * It CLEARS only after the window has been healthy (condition false, with traffic) for a
 * full `windowMs` — so a storm must first age out of the window, then a whole healthy window
 * must follow. Flapping does not release anything early. On clearing, held deletions are
 * discarded by default (`onClear: 'discard'`), because the period that produced them is
 * exactly the one we do not trust, and a token that is really dead will be reported dead
 * again the next time it is sent to and deleted then; `onClear: 'release'` hands them on.
 * A restart also discards them (they are in memory only), which is what an operator fixing
 * a wrong environment wants.
 *
 * The batch that trips the guard is itself held: answers are recorded before its dead
 * tokens are looked at. Up to `minDeadTokens` deletions can pass before a storm is
 * recognised; that is the price of not tripping on a handful of real uninstalls.
 *
 * `logOnly: true`: nothing is ever handed on; what would be deleted is logged (fingerprints).
 */
export class DeletionGuard implements DeadTokenSink {
    private readonly state: Record<ProviderName, ProviderState>;
    private readonly bucketMs: number;

    constructor(private readonly config: DeletionGuardConfig, private readonly sink: DeadTokenSink,
        private readonly logger: Logger,
        private readonly metrics: Pick<ServiceMetrics, 'deletionGuardTripped' | 'deletionsHeld' | 'deletionGuardOverflow'>,
        private readonly now: () => number = Date.now) {
        this.bucketMs = Math.max(1, Math.ceil(config.windowMs / BUCKETS));
        const state = {} as Record<ProviderName, ProviderState>;
        for (const p of PROVIDER_NAMES) {
            state[p] = { buckets: [], tripped: false, held: [] };
            metrics.deletionGuardTripped.set({ provider: p }, 0);
            metrics.deletionsHeld.set({ provider: p }, 0);
        }
        this.state = state;
    }

    isTripped(provider: ProviderName): boolean {
        return this.state[provider].tripped;
    }

    heldCount(provider: ProviderName): number {
        return this.state[provider].held.length;
    }

    /**
     * Records one provider call's definite answers (call it for every batch, dryRun too,
     * BEFORE handing on its dead tokens), then re-evaluates the guard.
     */
    recordAnswers(provider: ProviderName, answered: number, dead: number): void {
        if (answered <= 0) {
            return;
        }
        const s = this.state[provider];
        const now = this.now();
        const start = now - (now % this.bucketMs);
        const last = s.buckets[s.buckets.length - 1];
        if (last && last.start === start) {
            last.answered += answered;
            last.dead += dead;
        } else {
            s.buckets.push({ start, answered, dead });
        }
        this.evaluate(provider, now);
    }

    /** DeadTokenSink: hands the tokens on, or holds them, or only logs them. */
    deadTokens(provider: ProviderName, tokens: readonly string[]): void {
        if (tokens.length === 0) {
            return;
        }
        if (this.config.logOnly) {
            this.logWouldDelete(provider, tokens);
            return;
        }
        const s = this.state[provider];
        if (!s.tripped) {
            this.sink.deadTokens(provider, tokens);
            return;
        }
        const room = Math.max(0, this.config.maxHeldTokens - s.held.length);
        for (let i = 0; i < tokens.length && i < room; i++) {
            s.held.push(tokens[i]);
        }
        if (tokens.length > room) {
            this.metrics.deletionGuardOverflow.inc({ provider }, tokens.length - room);
        }
        this.metrics.deletionsHeld.set({ provider }, s.held.length);
    }

    private evaluate(provider: ProviderName, now: number): void {
        const s = this.state[provider];
        while (s.buckets.length > 0 && s.buckets[0].start + this.bucketMs <= now - this.config.windowMs) {
            s.buckets.shift();
        }
        let answered = 0;
        let dead = 0;
        for (const b of s.buckets) {
            answered += b.answered;
            dead += b.dead;
        }
        const storm = dead > this.config.minDeadTokens && dead > this.config.maxDeadRatio * answered;
        if (!s.tripped) {
            if (storm) {
                s.tripped = true;
                s.healthySince = undefined;
                this.metrics.deletionGuardTripped.set({ provider }, 1);
                this.logger.log('error/deletion-guard', {
                    msg: 'mass-deletion guard tripped: holding subscription deletions (wrong APNs environment or Firebase credentials?)',
                    provider, dead, answered, windowMs: this.config.windowMs,
                    maxDeadRatio: this.config.maxDeadRatio, minDeadTokens: this.config.minDeadTokens
                });
            }
            return;
        }
        if (storm) {
            s.healthySince = undefined;
            return;
        }
        s.healthySince ??= now;
        if (now - s.healthySince < this.config.windowMs) {
            return;
        }
        // Healthy for a full window: clear.
        const held = s.held;
        s.held = [];
        s.tripped = false;
        s.healthySince = undefined;
        this.metrics.deletionGuardTripped.set({ provider }, 0);
        this.metrics.deletionsHeld.set({ provider }, 0);
        const release = this.config.onClear === 'release';
        this.logger.log('warn/deletion-guard', {
            msg: release ? 'mass-deletion guard cleared: releasing held deletions' :
                'mass-deletion guard cleared: discarding held deletions (really dead tokens will be reported again)',
            provider, held: held.length
        });
        if (release && held.length > 0) {
            this.sink.deadTokens(provider, held);
        }
    }

    private logWouldDelete(provider: ProviderName, tokens: readonly string[]): void {
        for (let i = 0; i < tokens.length; i += FINGERPRINTS_PER_LINE) {
            const part = tokens.slice(i, i + FINGERPRINTS_PER_LINE);
            this.logger.log('info/deletion-guard', {
                msg: 'logOnly: would delete subscriptions', provider,
                tripped: this.state[provider].tripped, count: part.length, tokens: tokenFingerprints(part, part.length)
            });
        }
    }
}
