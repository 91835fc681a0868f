import { RetryConfig } from '../config/sections/delivery';
import { ProviderInstanceConfig } from '../config/sections/provider-registry';
import { Logger } from '../logging/logger';
import { tokenFingerprints } from '../logging/redact';
import { ProviderLabels, ServiceMetrics } from '../metrics/service-metrics';
import { MessageSource } from '../push/message';
import { ProviderId, PushProvider, TokenOutcome, TokenResult } from '../push/provider';
import { DeletionGuard, GuardVerdict } from './deletion-guard';
import { DeliveryBatch, RetryRun } from './delivery-batch';
import { ProviderGate } from './provider-gate';
import { GiveUpWhy, retryDelayMs, whyGiveUp } from './retry-policy';

/** What became of one token after one attempt, as the scheduler and the front doors see it. */
export interface TokenAnswer {
    readonly token: string;
    readonly outcome: TokenOutcome;
    readonly reason: string;
    /**
     * For 'dead': what the mass-deletion guard did. Only 'passed' means the token may be
     * reported dead to a client (Matrix `rejected`, MongoosePush 410); 'dry_run' never.
     */
    readonly verdict?: GuardVerdict | 'dry_run';
    /** True when the token will be tried again (transient, or a config error under its attempt limit). */
    readonly willRetry: boolean;
}

/** The result of some of a batch's tokens, handed to the scheduler as soon as they are known. */
export interface Settlement {
    /** Each answered token's answer, when DispatchOptions.wantAnswers is set (else empty). */
    readonly answers: readonly TokenAnswer[];
    /** Tokens answered in this settlement (finished or to retry). */
    readonly settled: number;
    /** Tokens finished (delivered, dead, given up): the scheduler no longer owns them. */
    readonly finished: number;
    /** Tokens to try again, as one run, with the delay the retry policy chose. */
    readonly retry?: RetryRun;
}

export interface DispatchOptions {
    /** Called once per group of answered tokens, as they arrive; every token exactly once. */
    readonly onSettled: (settlement: Settlement) => void;
    /**
     * The scheduler's retry delay (ms), given attempts made so far and the provider's
     * Retry-After; default: the instance's backoff (full jitter). The privacy queue shortens
     * it while draining.
     */
    readonly retryDelay?: (attemptsMade: number, retryAfterMs: number | undefined, retry: RetryConfig) => number;
    /**
     * Hand the call's dead tokens to the mass-deletion guard at the END of the call, all at
     * once, rather than as each answer lands (their accounting is not delayed). The privacy
     * queue sets it: answers stream in small groups, and a storm in a 500-token call (a wrong
     * APNs environment) must be recognised from the whole call's answers before any deletion
     * goes out, as when a call was judged as a whole. The immediate sender does not: its
     * callers need the guard's verdict with the answer (and its calls carry one token).
     */
    readonly deferDeadTokens?: boolean;
    /**
     * Build `Settlement.answers` (one TokenAnswer per token). The immediate sender needs them;
     * the privacy queue only counts, so it leaves this off and gets an empty list (less
     * garbage per token).
     */
    readonly wantAnswers?: boolean;
}

export interface DeliveryInstance {
    readonly config: ProviderInstanceConfig;
    readonly provider: PushProvider;
}

export interface DeliveryDeps {
    readonly instances: readonly DeliveryInstance[];
    readonly guard: DeletionGuard;
    readonly metrics: ServiceMetrics;
    readonly logger: Logger;
    /** Deadline of one provider call as a whole (see ProviderGate), ms. */
    readonly callTimeoutMs: number;
    /** No answer at all for this long marks a provider stalled, ms. */
    readonly stallAfterMs: number;
    /** Most tokens per provider call (delivery.batchSize): the gates' token capacity is concurrency × this. */
    readonly batchSize: number;
    readonly now?: () => number;
    readonly random?: () => number;
}

interface CallTally {
    readonly counts: Map<string, number>;
    /** Dead tokens kept for the guard until the call ends (DispatchOptions.deferDeadTokens). */
    readonly deferred: string[];
}

/**
 * Delivery as a service, shared by every scheduler (the privacy batching queue, the
 * immediate sender): one gate per provider instance (concurrency, rate limit, call deadline,
 * stall detection), the retry policy, and the mass-deletion guard in front of the dead-token
 * sinks. It holds nothing between calls: retries go back to the scheduler that sent them.
 *
 * Per token and attempt:
 * - delivered: finished;
 * - dead: finished, handed to the mass-deletion guard (never for dryRun batches), with the
 *   spellings dropped as its duplicates;
 * - config_error: retried only while attempts < retry.configErrorMaxAttempts (default 1: not
 *   at all), then given up; the provider logged it once (one line per call), so this layer
 *   only counts it;
 * - transient: retried with backoff and full jitter (at least Retry-After) while attempts <
 *   retry.maxAttempts and the retry would still be within retry.maxAgeMs of acceptance;
 *   otherwise given up, counted and logged with why.
 * Metrics add up: provider_answers_total counts each answer once; tokens_finished_total
 * counts each accepted token once (delivered, dead, gave_up; the schedulers add duplicate
 * and shutdown); retries_total counts each retry scheduled.
 */
export class Delivery {
    private readonly gates = new Map<ProviderId, ProviderGate>();
    private readonly configs = new Map<ProviderId, ProviderInstanceConfig>();
    private readonly now: () => number;
    private readonly random: () => number;

    constructor(private readonly deps: DeliveryDeps) {
        this.now = deps.now ?? Date.now;
        this.random = deps.random ?? Math.random;
        for (const { config, provider } of deps.instances) {
            this.configs.set(config.id, config);
            this.gates.set(config.id, new ProviderGate(provider, { provider: config.id, kind: config.kind }, {
                concurrency: config.concurrency,
                batchSize: deps.batchSize,
                ratePerSecond: config.rateLimitPerSecond,
                callTimeoutMs: deps.callTimeoutMs,
                stallAfterMs: deps.stallAfterMs,
                now: this.now,
                sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms))
            }, deps.metrics, deps.logger));
        }
    }

    get guard(): DeletionGuard {
        return this.deps.guard;
    }

    has(provider: ProviderId): boolean {
        return this.gates.has(provider);
    }

    ids(): ProviderId[] {
        return [...this.gates.keys()];
    }

    labels(provider: ProviderId): ProviderLabels {
        return this.gate(provider).labels;
    }

    instance(provider: ProviderId): ProviderInstanceConfig {
        const c = this.configs.get(provider);
        if (!c) {
            throw new Error(`delivery: unknown provider ${provider}`);
        }
        return c;
    }

    /** Instances whose calls have got no answer at all for a while (stuck egress). */
    stalledProviders(): ProviderId[] {
        return [...this.gates.values()].filter((g) => g.stalled).map((g) => g.labels.provider);
    }

    /**
     * Sends one batch through its provider's gate and settles its tokens as they are answered
     * (every token exactly once through `onSettled`). Never rejects.
     */
    async dispatch(db: DeliveryBatch, options: DispatchOptions): Promise<void> {
        const { batch } = db;
        const gate = this.gate(batch.provider);
        const index = new Map<string, number>();
        for (let i = 0; i < batch.tokens.length; i++) {
            index.set(batch.tokens[i], i);
        }
        const tally: CallTally = { counts: new Map(), deferred: [] };
        const started = this.now();
        await gate.send(batch, (results) => {
            try {
                options.onSettled(this.settle(db, index, results, tally, options));
            } catch (e) {
                this.deps.logger.log('error/delivery', { msg: 'settling answers failed', ...gate.labels, error: String(e) });
            }
        });
        if (tally.deferred.length > 0) {
            this.deps.guard.deadTokens(batch.provider, tally.deferred, db.source);
        }
        // One line per provider call (never per token): enough to follow a request from the
        // scheduler to the provider in a developer's log (config.dev.yaml turns debug/delivery on).
        const outcomes: Record<string, number> = {};
        for (const [k, n] of tally.counts) {
            outcomes[k] = n;
        }
        this.deps.logger.log('debug/delivery', {
            msg: `${batch.provider} call: ${batch.tokens.length} token(s) sent`, ...gate.labels,
            messageType: batch.message.type, dryRun: batch.dryRun, outcomes, tookMs: this.now() - started
        });
    }

    /**
     * Settles tokens that failed the provider's token syntax check at the front door: dead
     * without being sent (reason 'invalid_token' or the kind's own), handed to the guard like
     * any dead token (held while it is tripped) but not counted towards tripping it, and
     * counted as an answer and a finished token. The caller counts them accepted.
     */
    settleInvalid(provider: ProviderId, source: MessageSource, dryRun: boolean,
        invalid: readonly { token: string; reason: string }[]): TokenAnswer[] {
        if (invalid.length === 0) {
            return [];
        }
        const labels = this.labels(provider);
        const byReason = new Map<string, string[]>();
        for (const { token, reason } of invalid) {
            const list = byReason.get(reason) ?? [];
            list.push(token);
            byReason.set(reason, list);
        }
        for (const [reason, tokens] of byReason) {
            this.deps.metrics.answers.inc({ ...labels, outcome: 'dead', reason }, tokens.length);
            this.deps.logger.log('warn/delivery', {
                msg: 'tokens that cannot be device tokens: not sent, treated as dead', ...labels, reason, source,
                count: tokens.length, tokens: tokenFingerprints(tokens, 5)
            });
        }
        this.deps.metrics.finished.inc({ ...labels, result: 'dead' }, invalid.length);
        const tokens = invalid.map((t) => t.token);
        // Through the guard (held while it is tripped), but NOT counted in its window: only a
        // provider's answers may trip it, or a client could switch off dead-token reporting for
        // everyone by sending malformed tokens.
        const verdict = dryRun ? 'dry_run' as const : this.deps.guard.deadTokens(provider, tokens, source);
        return invalid.map(({ token, reason }) => ({ token, outcome: 'dead' as const, reason, verdict, willRetry: false }));
    }

    /** Closes every provider's connections (bounded by each provider). */
    async close(): Promise<void> {
        await Promise.allSettled([...this.gates.values()].map((g) => g.close()));
    }

    private gate(provider: ProviderId): ProviderGate {
        const g = this.gates.get(provider);
        if (!g) {
            throw new Error(`delivery: unknown provider ${provider}`);
        }
        return g;
    }

    private settle(db: DeliveryBatch, index: ReadonlyMap<string, number>, results: readonly TokenResult[],
        tally: CallTally, options: DispatchOptions): Settlement {
        const { batch } = db;
        const config = this.instance(batch.provider);
        const labels = this.labels(batch.provider);
        const retry = config.retry;
        const metrics = this.deps.metrics;
        const answerCounts = new Map<string, number>(); // `${outcome}\0${reason}` -> n
        const dead: string[] = [];
        const again: { i: number; r: TokenResult }[] = [];
        const want = options.wantAnswers === true;
        const answers: TokenAnswer[] = want ? new Array<TokenAnswer>(results.length) : [];
        let settled = 0;
        let answered = 0;
        let delivered = 0;
        let gaveUp = 0;
        let maxMade = 0;
        let retryAfterMs: number | undefined;

        for (let k = 0; k < results.length; k++) {
            const r = results[k];
            const i = index.get(r.token);
            if (i === undefined) {
                continue; // a token the batch never had: ignore (the gate filters repeats)
            }
            settled++;
            const ck = `${r.outcome}\u0000${r.reason}`;
            answerCounts.set(ck, (answerCounts.get(ck) ?? 0) + 1);
            const made = db.attempts[i] + 1;
            let willRetry = false;
            switch (r.outcome) {
                case 'delivered':
                    answered++;
                    delivered++;
                    break;
                case 'dead':
                    answered++;
                    dead.push(r.token);
                    break;
                case 'config_error':
                    answered++;
                    if (made >= retry.configErrorMaxAttempts) {
                        gaveUp++;
                    } else {
                        willRetry = true;
                    }
                    break;
                default: // transient (and any outcome a provider invents: safest to retry)
                    willRetry = true;
                    if (r.retryAfterMs !== undefined && (retryAfterMs === undefined || r.retryAfterMs > retryAfterMs)) {
                        retryAfterMs = r.retryAfterMs;
                    }
            }
            if (willRetry) {
                again.push({ i, r });
                maxMade = Math.max(maxMade, made);
            }
            if (want) {
                answers[k] = { token: r.token, outcome: r.outcome, reason: r.reason, willRetry };
            }
        }

        this.deps.guard.recordAnswers(batch.provider, answered, dead.length);
        let verdict: TokenAnswer['verdict'];
        if (dead.length > 0) {
            if (batch.dryRun) {
                verdict = 'dry_run';
            } else {
                const withAliases = db.aliases ? dead.flatMap((t) => [t, ...(db.aliases?.get(t) ?? [])]) : dead;
                if (options.deferDeadTokens) {
                    tally.deferred.push(...withAliases);
                } else {
                    verdict = this.deps.guard.deadTokens(batch.provider, withAliases, db.source);
                }
            }
        }

        let run: RetryRun | undefined;
        if (again.length > 0) {
            const delay = options.retryDelay ?? ((made, ra, rc) => retryDelayMs(made, ra, rc, this.random));
            const delayMs = Math.max(0, delay(maxMade, retryAfterMs, retry));
            const now = this.now();
            const tokens: string[] = [];
            const acceptedAt: number[] = [];
            const attempts: number[] = [];
            const givenUp = new Map<string, { why: GiveUpWhy; reason: string; tokens: string[] }>();
            for (const { i, r } of again) {
                const made = db.attempts[i] + 1;
                const why = whyGiveUp(made, r.outcome === 'config_error' ? retry.configErrorMaxAttempts : retry.maxAttempts,
                    db.acceptedAt[i], now + delayMs, retry.maxAgeMs);
                if (why) {
                    gaveUp++;
                    const key = `${why}\u0000${r.reason}`;
                    const g = givenUp.get(key) ?? { why, reason: r.reason, tokens: [] };
                    g.tokens.push(r.token);
                    givenUp.set(key, g);
                } else {
                    metrics.retries.inc({ ...labels, reason: r.reason });
                    tokens.push(r.token);
                    acceptedAt.push(db.acceptedAt[i]);
                    attempts.push(Math.min(255, made));
                }
            }
            for (const g of givenUp.values()) {
                this.deps.logger.log('warn/delivery', {
                    msg: 'giving up on tokens', ...labels, why: g.why, reason: g.reason, count: g.tokens.length,
                    tokens: tokenFingerprints(g.tokens, 5)
                });
            }
            if (tokens.length > 0) {
                run = {
                    provider: batch.provider, message: batch.message, dryRun: batch.dryRun, source: db.source,
                    tokens, acceptedAt: Float64Array.from(acceptedAt), attempts: Uint8Array.from(attempts),
                    retryAfterMs, delayMs
                };
            }
        }

        for (const [k, n] of answerCounts) {
            const [outcome, reason] = k.split('\u0000');
            metrics.answers.inc({ ...labels, outcome, reason }, n);
            const key = outcome === 'delivered' ? outcome : `${outcome}:${reason}`;
            tally.counts.set(key, (tally.counts.get(key) ?? 0) + n);
        }
        metrics.finished.inc({ ...labels, result: 'delivered' }, delivered);
        metrics.finished.inc({ ...labels, result: 'dead' }, dead.length);
        metrics.finished.inc({ ...labels, result: 'gave_up' }, gaveUp);
        const out = !want ? answers : verdict === undefined ? answers.filter(Boolean) :
            answers.filter(Boolean).map((a) => (a.outcome === 'dead' ? { ...a, verdict } : a));
        return { answers: out, settled, finished: delivered + dead.length + gaveUp, retry: run };
    }
}
