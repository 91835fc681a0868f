import { Delivery, Settlement, TokenAnswer } from '../delivery/delivery';
import { DeliveryBatch, RetryRun } from '../delivery/delivery-batch';
import { Logger } from '../logging/logger';
import { ServiceMetrics } from '../metrics/service-metrics';
import { schedulerRetryDelay } from './drain-policy';
import { dispatchOwned, OwnedDispatchDeps } from './owned-dispatch';
import { AcceptedRequest, EnqueueResult } from './scheduler';
import { RetryParking } from './retry-parking';
import { TokenLedger } from './token-ledger';

export interface ImmediateSenderOptions {
    readonly delivery: Delivery;
    /** Shared with the privacy queue: one cap, one drain. */
    readonly ledger: TokenLedger;
    /** Most tokens per provider call. */
    readonly batchSize: number;
    /** Seconds a refused client should wait (Retry-After). */
    readonly retryAfterSeconds: number;
    readonly logger: Logger;
    readonly metrics: ServiceMetrics;
    readonly now?: () => number;
    readonly random?: () => number;
}

/** The first answer per token, or undefined while none has come (still being sent or retried). */
export type FirstAnswers = ReadonlyMap<string, TokenAnswer | undefined>;

export type SendResult =
    | { readonly accepted: true; readonly answers: Promise<FirstAnswers> }
    | Extract<EnqueueResult, { accepted: false }>;

/**
 * The scheduler for front doors whose clients wait for an answer (Matrix homeservers, whose
 * `rejected` list deletes pushers; MongooseIM, which only cleans up on a 410): tokens go to
 * delivery at once, with no privacy delay, and the caller may wait for the FIRST answer per
 * token up to `waitMs`. Whatever is not delivered by then stays ours: transient failures are
 * retried in the background with the same policy, bounds, ledger and drain as the privacy
 * queue (retries go straight back to delivery after their backoff).
 */
export class ImmediateSender {
    private readonly now: () => number;
    private readonly parking: RetryParking;
    private readonly retryDelay: ReturnType<typeof schedulerRetryDelay>;
    private readonly owned: OwnedDispatchDeps;
    private draining = false;
    private stopped = false;

    constructor(private readonly options: ImmediateSenderOptions) {
        this.now = options.now ?? Date.now;
        this.parking = new RetryParking((run) => this.resend(run), this.now, options.logger);
        this.retryDelay = schedulerRetryDelay(() => this.draining, options.random ?? Math.random);
        this.owned = {
            delivery: options.delivery, ledger: options.ledger, parking: this.parking, logger: options.logger,
            metrics: options.metrics, stopped: () => this.stopped, component: 'scheduler'
        };
    }

    /** Seconds a refused client should wait (the Retry-After of a 503). */
    get retryAfterSeconds(): number {
        return this.options.retryAfterSeconds;
    }

    /** Whether `tokens` more tokens would be taken now (not draining, under the cap). */
    canTake(tokens: number): boolean {
        return !this.draining && this.options.ledger.fits(tokens);
    }

    /**
     * Takes a request and sends it now. `answers` resolves with the first answer of every
     * token (syntax failures included) as soon as all have one, or after `waitMs` with
     * undefined for those still unanswered. Refused only while draining or at the cap.
     */
    send(request: AcceptedRequest, waitMs: number): SendResult {
        const { delivery, ledger, metrics } = this.options;
        if (this.draining) {
            return { accepted: false, reason: 'draining', retryAfterSeconds: this.options.retryAfterSeconds };
        }
        if (!ledger.fits(request.tokens.length)) {
            return { accepted: false, reason: 'full', retryAfterSeconds: this.options.retryAfterSeconds };
        }
        const labels = delivery.labels(request.provider);
        const invalid = request.invalid ?? [];
        metrics.tokensAccepted.inc({ ...labels, source: request.source }, request.tokens.length + invalid.length);
        const answers = new Map<string, TokenAnswer | undefined>();
        for (const a of delivery.settleInvalid(request.provider, request.source, request.dryRun, invalid)) {
            answers.set(a.token, a);
        }
        // De-duplicate within the request by syntax key; a duplicate shares its twin's answer.
        const tokens: string[] = [];
        const twins = new Map<string, string[]>();
        const seen = new Map<string, string>();
        for (let i = 0; i < request.tokens.length; i++) {
            const token = request.tokens[i];
            const key = request.keys ? request.keys[i] : token;
            const kept = seen.get(key);
            if (kept !== undefined) {
                if (kept !== token) {
                    twins.set(kept, [...(twins.get(kept) ?? []), token]);
                    answers.set(token, undefined);
                }
                continue;
            }
            seen.set(key, token);
            tokens.push(token);
            answers.set(token, undefined);
        }
        const duplicates = request.tokens.length - tokens.length;
        if (duplicates > 0) {
            metrics.finished.inc({ ...labels, result: 'duplicate' }, duplicates);
        }
        ledger.own(request.provider, tokens.length);
        let waiting = tokens.length;
        let resolve!: (a: FirstAnswers) => void;
        const done = new Promise<FirstAnswers>((r) => {
            resolve = r;
        });
        let timer: NodeJS.Timeout | undefined;
        const finish = (): void => {
            clearTimeout(timer);
            resolve(answers);
        };
        if (waiting === 0) {
            finish();
        } else {
            timer = setTimeout(finish, Math.max(0, waitMs));
            timer.unref();
        }
        const firstAnswers = (s: Settlement): void => {
            for (const a of s.answers) {
                if (answers.has(a.token) && answers.get(a.token) === undefined) {
                    answers.set(a.token, a);
                    for (const twin of twins.get(a.token) ?? []) {
                        answers.set(twin, a);
                    }
                    if (--waiting === 0) {
                        finish();
                    }
                }
            }
        };
        const now = this.now();
        for (let i = 0; i < tokens.length; i += this.options.batchSize) {
            const part = tokens.slice(i, i + this.options.batchSize);
            const aliases = new Map<string, string[]>();
            for (const t of part) {
                const list = twins.get(t);
                if (list) {
                    aliases.set(t, list);
                }
            }
            this.dispatch({
                batch: { provider: request.provider, message: request.message, dryRun: request.dryRun, tokens: part },
                source: request.source,
                acceptedAt: new Float64Array(part.length).fill(now),
                attempts: new Uint8Array(part.length),
                ...(aliases.size > 0 ? { aliases } : {})
            }, firstAnswers);
        }
        return { accepted: true, answers: done };
    }

    /** Draining: refuse new requests, send parked retries now (not before their Retry-After). */
    startDrain(): void {
        this.draining = true;
        this.parking.hurry();
    }

    stop(): void {
        this.stopped = true;
        this.parking.stop();
    }

    private resend(run: RetryRun): void {
        if (this.stopped) {
            return;
        }
        this.dispatch({
            batch: { provider: run.provider, message: run.message, dryRun: run.dryRun, tokens: run.tokens },
            source: run.source, acceptedAt: run.acceptedAt, attempts: run.attempts
        });
    }

    private dispatch(db: DeliveryBatch, onFirst?: (s: Settlement) => void): void {
        dispatchOwned(this.owned, db, { retryDelay: this.retryDelay, wantAnswers: true, onSettled: onFirst });
    }
}
