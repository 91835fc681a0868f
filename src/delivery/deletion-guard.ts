import { DeletionGuardConfig } from '../config/sections/delivery';
import { Logger } from '../logging/logger';
import { tokenFingerprints } from '../logging/redact';
import { ProviderLabels, ServiceMetrics } from '../metrics/service-metrics';
import { DeadTokenSink } from '../push/dead-token-sink';
import { MessageSource } from '../push/message';
import { ProviderId, ProviderKind } from '../push/provider';

/** The window is kept as this many buckets: cheap to slide, precise to 1/BUCKETS of it. */
const BUCKETS = 20;

/** How many fingerprints go into one log line when logging what would be deleted. */
const FINGERPRINTS_PER_LINE = 100;

interface Bucket {
    start: number;
    answered: number;
    dead: number;
}

interface HeldDeletion {
    readonly token: string;
    readonly source: MessageSource;
}

interface GuardState {
    readonly config: DeletionGuardConfig;
    readonly labels: ProviderLabels;
    readonly bucketMs: number;
    readonly buckets: Bucket[];
    tripped: boolean;
    /** While tripped: since when the window has been healthy (undefined while it is not). */
    healthySince?: number;
    held: HeldDeletion[];
}

/** What the guard did with dead tokens. */
export type GuardVerdict = 'passed' | 'held' | 'logged';

/**
 * The mass-deletion guard, between delivery and every dead-token sink (the MediaWiki outbox,
 * the dead-token memory that makes Matrix reject and MongoosePush answer 410).
 *
 * A wrong APNs environment, or credentials for another Firebase project, make EVERY token
 * look dead, and a deletion cannot be undone. So, per provider instance, over a sliding
 * window of `windowMs`: when more than `maxDeadRatio` of the tokens that got a definite
 * answer (delivered, dead or config_error; transient failures are not answers) came back
 * dead, AND more than `minDeadTokens` came back dead, the guard TRIPS:
 * - it stops handing deletions on and holds them instead (at most `maxHeldTokens` per
 *   instance; the overflow is counted in deletionGuardOverflow and discarded);
 * - it logs an error and sets deletion_guard_tripped{provider}=1 and deletions_held_tokens.
 *
 * It CLEARS only after the window has been healthy (condition false, with traffic) for a
 * full `windowMs` — so a storm must first age out of the window, then a whole healthy window
 * must follow. On clearing, held deletions are discarded by default (`onClear: 'discard'`),
 * because the period that produced them is exactly the one we do not trust, and a token that
 * is really dead will be reported dead again the next time it is sent to; `onClear:
 * 'release'` hands them on. A restart discards them too: `heldDeletions()` lets the shutdown
 * report say what was lost.
 *
 * The batch that trips the guard is itself held: answers are recorded before its dead
 * tokens are looked at. Up to `minDeadTokens` deletions can pass before a storm is
 * recognised; that is the price of not tripping on a handful of real uninstalls.
 *
 * `logOnly: true`: nothing is ever handed on; what would be deleted is logged (fingerprints).
 */
export class DeletionGuard {
    private readonly state = new Map<ProviderId, GuardState>();

    constructor(instances: readonly { id: ProviderId; kind: ProviderKind; deletionGuard: DeletionGuardConfig }[],
        private readonly sink: DeadTokenSink, private readonly logger: Logger,
        private readonly metrics: Pick<ServiceMetrics, 'deletionGuardTripped' | 'deletionsHeld' | 'deletionGuardOverflow'>,
        private readonly now: () => number = Date.now) {
        for (const p of instances) {
            const labels = { provider: p.id, kind: p.kind };
            this.state.set(p.id, {
                config: p.deletionGuard, labels, buckets: [], tripped: false, held: [],
                bucketMs: Math.max(1, Math.ceil(p.deletionGuard.windowMs / BUCKETS))
            });
            metrics.deletionGuardTripped.set(labels, 0);
            metrics.deletionsHeld.set(labels, 0);
        }
    }

    isTripped(provider: ProviderId): boolean {
        return this.stateOf(provider).tripped;
    }

    heldCount(provider: ProviderId): number {
        return this.stateOf(provider).held.length;
    }

    /** Deletions held right now, per instance (for the shutdown report: they are lost at exit). */
    heldDeletions(): { labels: ProviderLabels; tokens: string[] }[] {
        return [...this.state.values()].filter((s) => s.held.length > 0)
            .map((s) => ({ labels: s.labels, tokens: s.held.map((h) => h.token) }));
    }

    /**
     * Records one provider call's definite answers (call it for every batch, dryRun too,
     * BEFORE handing on its dead tokens), then re-evaluates the guard.
     */
    recordAnswers(provider: ProviderId, answered: number, dead: number): void {
        if (answered <= 0) {
            return;
        }
        const s = this.stateOf(provider);
        const now = this.now();
        const start = now - (now % s.bucketMs);
        const last = s.buckets[s.buckets.length - 1];
        if (last && last.start === start) {
            last.answered += answered;
            last.dead += dead;
        } else {
            s.buckets.push({ start, answered, dead });
        }
        this.evaluate(s, now);
    }

    /** Hands dead tokens on to the sink, or holds them, or only logs them; says which. */
    deadTokens(provider: ProviderId, tokens: readonly string[], source: MessageSource): GuardVerdict {
        const s = this.stateOf(provider);
        if (tokens.length === 0) {
            return s.config.logOnly ? 'logged' : s.tripped ? 'held' : 'passed';
        }
        if (s.config.logOnly) {
            this.logWouldDelete(s, tokens);
            return 'logged';
        }
        if (!s.tripped) {
            this.sink.deadTokens(provider, tokens, source);
            return 'passed';
        }
        const room = Math.max(0, s.config.maxHeldTokens - s.held.length);
        for (let i = 0; i < tokens.length && i < room; i++) {
            s.held.push({ token: tokens[i], source });
        }
        if (tokens.length > room) {
            this.metrics.deletionGuardOverflow.inc(s.labels, tokens.length - room);
        }
        this.metrics.deletionsHeld.set(s.labels, s.held.length);
        return 'held';
    }

    private stateOf(provider: ProviderId): GuardState {
        const s = this.state.get(provider);
        if (!s) {
            throw new Error(`deletion guard: unknown provider ${provider}`);
        }
        return s;
    }

    private evaluate(s: GuardState, now: number): void {
        const { config } = s;
        while (s.buckets.length > 0 && s.buckets[0].start + s.bucketMs <= now - config.windowMs) {
            s.buckets.shift();
        }
        let answered = 0;
        let dead = 0;
        for (const b of s.buckets) {
            answered += b.answered;
            dead += b.dead;
        }
        const storm = dead > config.minDeadTokens && dead > config.maxDeadRatio * answered;
        if (!s.tripped) {
            if (storm) {
                s.tripped = true;
                s.healthySince = undefined;
                this.metrics.deletionGuardTripped.set(s.labels, 1);
                this.logger.log('error/deletion-guard', {
                    msg: 'mass-deletion guard tripped: holding deletions and rejections (wrong APNs environment or credentials?)',
                    ...s.labels, dead, answered, windowMs: config.windowMs,
                    maxDeadRatio: config.maxDeadRatio, minDeadTokens: config.minDeadTokens
                });
            }
            return;
        }
        if (storm) {
            s.healthySince = undefined;
            return;
        }
        s.healthySince ??= now;
        if (now - s.healthySince < config.windowMs) {
            return;
        }
        // Healthy for a full window: clear.
        const held = s.held;
        s.held = [];
        s.tripped = false;
        s.healthySince = undefined;
        this.metrics.deletionGuardTripped.set(s.labels, 0);
        this.metrics.deletionsHeld.set(s.labels, 0);
        const release = config.onClear === 'release';
        this.logger.log('warn/deletion-guard', {
            msg: release ? 'mass-deletion guard cleared: releasing held deletions' :
                'mass-deletion guard cleared: discarding held deletions (really dead tokens will be reported again)',
            ...s.labels, held: held.length
        });
        if (release && held.length > 0) {
            const bySource = new Map<MessageSource, string[]>();
            for (const h of held) {
                const list = bySource.get(h.source) ?? [];
                list.push(h.token);
                bySource.set(h.source, list);
            }
            for (const [source, tokens] of bySource) {
                this.sink.deadTokens(s.labels.provider, tokens, source);
            }
        }
    }

    private logWouldDelete(s: GuardState, tokens: readonly string[]): void {
        for (let i = 0; i < tokens.length; i += FINGERPRINTS_PER_LINE) {
            const part = tokens.slice(i, i + FINGERPRINTS_PER_LINE);
            this.logger.log('info/deletion-guard', {
                msg: 'logOnly: would delete subscriptions', ...s.labels,
                tripped: s.tripped, count: part.length, tokens: tokenFingerprints(part, part.length)
            });
        }
    }
}
