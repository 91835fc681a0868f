import { RetryConfig } from '../config/sections/delivery';
import { Logger } from '../logging/logger';
import { tokenFingerprints } from '../logging/redact';
import { ServiceMetrics } from '../metrics/service-metrics';
import { ProviderName } from '../push/push-request';
import { PushProvider, TokenResult } from '../providers/push-provider';
import { DeliveryBatch, QueuedTokens } from '../queue/queued-tokens';
import { DeletionGuard } from './deletion-guard';
import { GiveUpWhy, retryDelayMs, whyGiveUp } from './retry-policy';

/** Tokens to send again, as one queue run, and when they may go back into the queue. */
export interface RetryRun {
    readonly run: QueuedTokens;
    readonly delayMs: number;
    /** The longest Retry-After any of its tokens got, if any: a floor even while draining. */
    readonly retryAfterMs?: number;
}

export interface DispatchResult {
    /** Tokens the queue no longer owns: delivered, dead, or given up. */
    readonly finished: number;
    readonly retry?: RetryRun;
}

export interface DispatcherDeps {
    /** Already wrapped in their limits (LimitedProvider). */
    readonly providers: Readonly<Record<ProviderName, PushProvider>>;
    readonly guard: DeletionGuard;
    readonly retry: RetryConfig;
    readonly metrics: Pick<ServiceMetrics, 'messages'>;
    readonly logger: Logger;
    readonly now: () => number;
    readonly random: () => number;
}

/** Reasons we make up ourselves (the providers' own codes come in TokenResult.reason). */
const SEND_REJECTED = 'send_rejected';
const NO_RESULT = 'no_result';

interface Tally {
    count: number;
    sample: string[];
}

/**
 * Sends one batch and acts on each token's outcome:
 * - delivered: counted;
 * - dead: counted, then handed to the mass-deletion guard (never for dryRun batches);
 * - config_error: counted and logged at error level (fingerprints only); never deleted;
 *   retried only while attempts < retry.configErrorMaxAttempts (default 1: not at all),
 *   then counted as gave_up;
 * - transient: retried with backoff and full jitter (at least Retry-After) while attempts
 *   < retry.maxAttempts and the retry would still be within retry.maxAgeMs of acceptance;
 *   otherwise counted as gave_up (reason = the provider's last reason) and logged with why.
 * Retried tokens are returned as one run with one delay (the longest any of them needs),
 * for the queue to hold and then put back through the privacy batching.
 *
 * A provider that breaks its contract (rejects, or omits a token) is not trusted: those
 * tokens are treated as transient, so nothing is lost and nothing is deleted.
 */
export class Dispatcher {
    /** Replaced during drain: retries go promptly instead of after long backoffs. */
    retryDelay: (attemptsMade: number, retryAfterMs: number | undefined) => number;

    constructor(private readonly deps: DispatcherDeps) {
        this.retryDelay = (attemptsMade, retryAfterMs) => retryDelayMs(attemptsMade, retryAfterMs, deps.retry, deps.random);
    }

    async dispatch(db: DeliveryBatch): Promise<DispatchResult> {
        const { batch } = db;
        let results: TokenResult[];
        const started = this.deps.now();
        try {
            results = await this.deps.providers[batch.provider].send(batch);
        } catch (e) {
            this.deps.logger.log('error/delivery', {
                msg: 'provider send rejected (it should resolve with transient results); retrying the batch',
                provider: batch.provider, error: (e as Error)?.message ?? String(e), tokens: batch.tokens.length
            });
            results = [];
        }
        return this.settle(db, results, this.deps.now() - started);
    }

    private settle(db: DeliveryBatch, results: readonly TokenResult[], tookMs: number): DispatchResult {
        const { batch } = db;
        const provider = batch.provider;
        const byToken = new Map<string, TokenResult>();
        for (const r of results) {
            byToken.set(r.token, r);
        }
        const now = this.deps.now();
        const dead: string[] = [];
        const configErrors = new Map<string, Tally>();
        const counts = new Map<string, number>(); // `${outcome}\0${reason}` -> n
        const count = (outcome: string, reason: string): void => {
            const k = `${outcome}\u0000${reason}`;
            counts.set(k, (counts.get(k) ?? 0) + 1);
        };
        // Candidates for a retry: index into the batch, reason, attempts made (this one included).
        const again: number[] = [];
        const againReason: string[] = [];
        let maxAttemptsMade = 0;
        let retryAfterMs: number | undefined;
        let answered = 0;

        for (let i = 0; i < batch.tokens.length; i++) {
            const token = batch.tokens[i];
            const r = byToken.get(token) ??
                { token, outcome: 'transient' as const, reason: results.length === 0 ? SEND_REJECTED : NO_RESULT };
            const made = db.attempts[i] + 1;
            switch (r.outcome) {
                case 'delivered':
                    answered++;
                    count('delivered', r.reason);
                    break;
                case 'dead':
                    answered++;
                    count('dead', r.reason);
                    dead.push(token);
                    break;
                case 'config_error': {
                    answered++;
                    count('config_error', r.reason);
                    let t = configErrors.get(r.reason);
                    if (!t) {
                        t = { count: 0, sample: [] };
                        configErrors.set(r.reason, t);
                    }
                    t.count++;
                    if (t.sample.length < 5) {
                        t.sample.push(token);
                    }
                    if (made >= this.deps.retry.configErrorMaxAttempts) {
                        count('gave_up', r.reason);
                    } else {
                        again.push(i);
                        againReason.push(r.reason);
                        maxAttemptsMade = Math.max(maxAttemptsMade, made);
                    }
                    break;
                }
                default: // transient (and any outcome a provider invents: safest to retry)
                    again.push(i);
                    againReason.push(r.reason);
                    maxAttemptsMade = Math.max(maxAttemptsMade, made);
                    if (r.retryAfterMs !== undefined && (retryAfterMs === undefined || r.retryAfterMs > retryAfterMs)) {
                        retryAfterMs = r.retryAfterMs;
                    }
            }
        }

        this.deps.guard.recordAnswers(provider, answered, dead.length);
        if (dead.length > 0 && !batch.dryRun) {
            this.deps.guard.deadTokens(provider, dead);
        }
        for (const [reason, t] of configErrors) {
            this.deps.logger.log('error/delivery', {
                msg: 'provider says our configuration is wrong (credentials, topic or payload); not deleting',
                provider, reason, count: t.count, messageType: batch.messageType, topic: batch.topic,
                tokens: tokenFingerprints(t.sample, 5)
            });
        }

        let retry: RetryRun | undefined;
        if (again.length > 0) {
            const delayMs = Math.max(0, this.retryDelay(maxAttemptsMade, retryAfterMs));
            const tokens: string[] = [];
            const acceptedAt: number[] = [];
            const attempts: number[] = [];
            const givenUp = new Map<string, { why: GiveUpWhy; reason: string; tokens: string[] }>();
            for (let j = 0; j < again.length; j++) {
                const i = again[j];
                const reason = againReason[j];
                const made = db.attempts[i] + 1;
                const isConfig = byToken.get(batch.tokens[i])?.outcome === 'config_error';
                const why = whyGiveUp(made, isConfig ? this.deps.retry.configErrorMaxAttempts : this.deps.retry.maxAttempts,
                    db.acceptedAt[i], now + delayMs, this.deps.retry.maxAgeMs);
                if (why) {
                    count('gave_up', reason);
                    const k = `${why}\u0000${reason}`;
                    const g = givenUp.get(k) ?? { why, reason, tokens: [] };
                    g.tokens.push(batch.tokens[i]);
                    givenUp.set(k, g);
                } else {
                    count('retried', reason);
                    tokens.push(batch.tokens[i]);
                    acceptedAt.push(db.acceptedAt[i]);
                    attempts.push(Math.min(255, made));
                }
            }
            for (const g of givenUp.values()) {
                this.deps.logger.log('warn/delivery', {
                    msg: 'giving up on tokens', provider, why: g.why, reason: g.reason, count: g.tokens.length,
                    tokens: tokenFingerprints(g.tokens, 5)
                });
            }
            if (tokens.length > 0) {
                retry = {
                    delayMs, retryAfterMs,
                    run: {
                        provider, messageType: batch.messageType, topic: batch.topic, dryRun: batch.dryRun,
                        tokens, enqueuedAt: now,
                        acceptedAt: Float64Array.from(acceptedAt), attempts: Uint8Array.from(attempts)
                    }
                };
            }
        }

        // One line per provider call (never per token): enough to follow a request from the
        // queue to the provider in a developer's log (config.dev.yaml turns debug/delivery on).
        const outcomes: Record<string, number> = {};
        for (const [k, n] of counts) {
            const [outcome, reason] = k.split('\u0000');
            this.deps.metrics.messages.inc({ provider, outcome, reason }, n);
            const key = outcome === 'delivered' ? outcome : `${outcome}:${reason}`;
            outcomes[key] = (outcomes[key] ?? 0) + n;
        }
        this.deps.logger.log('debug/delivery', {
            msg: `${provider} call: ${batch.tokens.length} token(s) sent`, provider,
            messageType: batch.messageType, dryRun: batch.dryRun, outcomes, tookMs
        });
        const retried = retry ? retry.run.tokens.length : 0;
        return { finished: batch.tokens.length - retried, retry };
    }
}
