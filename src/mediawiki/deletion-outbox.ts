import { createHash } from 'node:crypto';
import type { OutboxConfig } from '../config/sections/mediawiki';
import type { DeadTokenSink } from '../push/dead-token-sink';
import type { Logger } from '../logging/logger';
import { tokenFingerprints } from '../logging/redact';
import type { ServiceMetrics } from '../metrics/service-metrics';
import type { ProviderId as ProviderName } from '../push/provider';
import { backoffDelayMs } from '../util/backoff';
import { Clock, systemClock } from '../util/clock';
import { MwApiError, MwError, SESSION_ERROR_CODES } from './errors';
import { isEncodableValue } from './multi-value';
import type { DeleteResult } from './subscription-deleter';

/** MediaWiki's multi-value limit without apihighlimits: where we fall back on toomanyvalues. */
const LOW_LIMIT = 50;
/** How long a deleted token is remembered, so a second dead report does not cost a call. */
const RECENT_TTL_MS = 10 * 60 * 1000;
const RECENT_MAX = 50000;

export interface Deleter {
    delete(tokens: readonly string[]): Promise<DeleteResult>;
}

export interface DeletionOutboxOptions {
    readonly deleter: Deleter;
    /** Tokens per delete call (mediawiki.deleteChunkSize). */
    readonly chunkSize: number;
    readonly outbox: OutboxConfig;
    readonly logger: Logger;
    readonly metrics: Pick<ServiceMetrics, 'mwDeletions' | 'mwOutboxSize'>;
    readonly clock?: Clock;
    readonly random?: () => number;
}

interface Entry {
    readonly token: string;
    readonly provider: ProviderName;
    readonly queuedAt: number;
    attempts: number;
    /** Not before: backoff after a failure. */
    readyAt: number;
    /** Send by: a fresh token waits up to batchWaitMs for a chunk to fill. */
    dueAt: number;
    inFlight: boolean;
}

/**
 * Dead tokens waiting to be deleted on the wiki. Tokens are batched into chunks, sent by a
 * small number of calls at a time (one by default), and retried with backoff while the
 * wiki is down, lagging or rate-limiting us. The same token is never pending twice. The
 * outbox is bounded: what does not fit is counted as dropped and logged.
 */
export class DeletionOutbox implements DeadTokenSink {
    private readonly pending = new Map<string, Entry>();
    /** sha256 of recently deleted tokens → when to forget; hashes, so no token outlives its deletion. */
    private readonly recent = new Map<string, number>();
    private readonly clock: Clock;
    private readonly random: () => number;
    private chunkSize: number;
    private inFlight = 0;
    private consecutiveFailures = 0;
    /** After a failure the whole outbox waits, not just the failed chunk: the wiki is shared. */
    private pausedUntil = 0;
    private freshSincePump = 0;
    private timer?: unknown;
    private draining = false;
    private closed = false;
    private waiters: Array<() => void> = [];

    constructor(private readonly options: DeletionOutboxOptions) {
        this.clock = options.clock ?? systemClock;
        this.random = options.random ?? Math.random;
        this.chunkSize = options.chunkSize;
    }

    get size(): number {
        return this.pending.size;
    }

    get callsInFlight(): number {
        return this.inFlight;
    }

    deadTokens(provider: ProviderName, tokens: readonly string[]): void {
        try {
            this.enqueue(provider, tokens);
        } catch (e) {
            // The sink must never throw into the delivery path.
            this.options.logger.log('error/mediawiki', { msg: 'Could not queue dead tokens', err: (e as Error).message });
        }
    }

    /**
     * Sends what it can (no more batching wait, backoff still honoured) until the outbox is
     * empty or `deadline` (epoch ms) passes; reports what is left.
     */
    async drain(deadline: number): Promise<{ pending: number }> {
        this.draining = true;
        this.pump();
        while (this.pending.size > 0 && !this.closed && this.clock.now() < deadline) {
            await this.nextChange(deadline);
        }
        if (this.pending.size > 0) {
            this.options.logger.log('warn/mediawiki', {
                msg: 'Dead tokens still waiting for deletion on the wiki at the drain deadline',
                pending: this.pending.size, inFlight: this.inFlight
            });
        }
        return { pending: this.pending.size };
    }

    /** Stops timers; what is still pending is logged (the process is going away). */
    close(): void {
        if (this.closed) {
            return;
        }
        this.closed = true;
        this.cancelTimer();
        if (this.pending.size > 0) {
            this.options.logger.log('warn/mediawiki', {
                msg: 'Closing with dead tokens not deleted on the wiki', pending: this.pending.size
            });
        }
        this.notify();
    }

    private enqueue(provider: ProviderName, tokens: readonly string[]): void {
        const now = this.clock.now();
        const dropped: string[] = [];
        let invalid = 0;
        let added = 0;
        for (const token of tokens) {
            if (!isEncodableValue(token)) {
                invalid++;
                continue;
            }
            if (this.pending.has(token) || this.recentlyDeleted(token, now)) {
                continue;
            }
            if (this.closed || this.pending.size >= this.options.outbox.maxTokens) {
                dropped.push(token);
                continue;
            }
            this.pending.set(token, {
                token, provider, queuedAt: now, attempts: 0, readyAt: now,
                dueAt: now + this.options.outbox.batchWaitMs, inFlight: false
            });
            added++;
        }
        const { metrics, logger } = this.options;
        metrics.mwDeletions.inc({ result: 'requested' }, added);
        metrics.mwDeletions.inc({ result: 'dropped' }, dropped.length + invalid);
        if (dropped.length) {
            logger.log('warn/mediawiki', {
                msg: this.closed ? 'Outbox closed: dead tokens dropped, not deleted on the wiki'
                    : 'Deletion outbox full: dead tokens dropped, not deleted on the wiki',
                provider, dropped: dropped.length, outboxSize: this.pending.size,
                maxTokens: this.options.outbox.maxTokens, sample: tokenFingerprints(dropped)
            });
        }
        if (invalid) {
            logger.log('warn/mediawiki', { msg: 'Dead tokens that cannot be sent to the wiki (empty or containing \\x1f) dropped', provider, dropped: invalid });
        }
        this.updateGauge();
        if (added === 0) {
            return;
        }
        this.freshSincePump += added;
        // Skip the scan while a wake-up is already due and no chunk can be full yet.
        if (this.timer !== undefined && this.freshSincePump < this.chunkSize && !this.draining) {
            return;
        }
        this.pump();
    }

    /** Starts every call it may, then sets a timer for when the next one may start. */
    private pump(): void {
        this.freshSincePump = 0;
        if (this.closed) {
            return;
        }
        this.cancelTimer();
        const now = this.clock.now();
        while (this.inFlight < this.options.outbox.concurrency && now >= this.pausedUntil) {
            const chunk = this.nextChunk(now);
            if (!chunk) {
                break;
            }
            void this.send(chunk);
        }
        this.scheduleWake(now);
    }

    private nextChunk(now: number): Entry[] | undefined {
        const eligible: Entry[] = [];
        let due = false;
        for (const e of this.pending.values()) {
            if (!e.inFlight && e.readyAt <= now) {
                eligible.push(e);
                due ||= this.draining || e.dueAt <= now;
            }
        }
        if (!eligible.length || (!due && eligible.length < this.chunkSize)) {
            return undefined;
        }
        eligible.sort((a, b) => a.dueAt - b.dueAt);
        return eligible.slice(0, this.chunkSize);
    }

    private scheduleWake(now: number): void {
        if (this.inFlight >= this.options.outbox.concurrency) {
            return; // the end of a call pumps again
        }
        let next = Infinity;
        for (const e of this.pending.values()) {
            if (!e.inFlight) {
                next = Math.min(next, this.draining ? e.readyAt : Math.max(e.readyAt, e.dueAt));
            }
        }
        if (next === Infinity) {
            return;
        }
        next = Math.max(next, this.pausedUntil, now);
        this.timer = this.clock.setTimeout(() => {
            this.timer = undefined;
            this.pump();
        }, next - now);
    }

    private cancelTimer(): void {
        if (this.timer !== undefined) {
            this.clock.clearTimeout(this.timer);
            this.timer = undefined;
        }
    }

    private async send(chunk: Entry[]): Promise<void> {
        this.inFlight++;
        for (const e of chunk) {
            e.inFlight = true;
            e.attempts++;
        }
        try {
            const result = await this.options.deleter.delete(chunk.map((e) => e.token));
            this.succeeded(chunk, result);
        } catch (e) {
            this.failed(chunk, e);
        } finally {
            for (const e of chunk) {
                e.inFlight = false;
            }
            this.inFlight--;
            this.updateGauge();
            this.pump();
            this.notify();
        }
    }

    private succeeded(chunk: Entry[], result: DeleteResult): void {
        const now = this.clock.now();
        this.consecutiveFailures = 0;
        this.pausedUntil = 0;
        for (const e of chunk) {
            this.pending.delete(e.token);
            this.remember(e.token, now);
        }
        this.options.metrics.mwDeletions.inc({ result: result === 'deleted' ? 'succeeded' : 'already_gone' }, chunk.length);
        this.options.logger.log('debug/mediawiki', {
            msg: result === 'deleted' ? 'Deleted push subscriptions on the wiki' : 'Push subscriptions were already gone',
            tokens: chunk.length, sample: tokenFingerprints(chunk.map((e) => e.token), 3)
        });
    }

    private failed(chunk: Entry[], err: unknown): void {
        const { logger, metrics, outbox } = this.options;
        const now = this.clock.now();
        if (this.closed) {
            return;
        }
        const message = err instanceof Error ? err.message : String(err);
        if (err instanceof MwApiError && err.code === 'toomanyvalues' && chunk.length > LOW_LIMIT) {
            // The account lacks apihighlimits: fall back to the low limit and resend at once.
            this.chunkSize = LOW_LIMIT;
            for (const e of chunk) {
                e.attempts--;
            }
            logger.log('warn/mediawiki', {
                msg: `The wiki refused ${chunk.length} tokens per call (no apihighlimits?); using ${LOW_LIMIT}`,
                configured: this.options.chunkSize
            });
            return;
        }
        if (!isRetryable(err)) {
            this.giveUp(chunk, message);
            return;
        }
        this.consecutiveFailures++;
        const retryAfterMs = err instanceof MwError ? err.retryAfterMs : undefined;
        const delay = backoffDelayMs(outbox, this.consecutiveFailures, 'equal', retryAfterMs, this.random);
        this.pausedUntil = now + delay;
        const retry: Entry[] = [];
        const expired: Entry[] = [];
        for (const e of chunk) {
            (e.attempts >= outbox.maxAttempts || now + delay - e.queuedAt > outbox.maxAgeMs ? expired : retry).push(e);
        }
        for (const e of retry) {
            e.readyAt = now + delay;
            e.dueAt = e.readyAt;
        }
        metrics.mwDeletions.inc({ result: 'retried' }, retry.length);
        logger.log('warn/mediawiki', {
            msg: 'Deleting push subscriptions failed; will retry', err: message,
            tokens: chunk.length, retrying: retry.length, delayMs: delay,
            consecutiveFailures: this.consecutiveFailures, outboxSize: this.pending.size
        });
        if (expired.length) {
            this.giveUp(expired, `${message} (out of attempts or too old)`);
        }
    }

    private giveUp(entries: Entry[], reason: string): void {
        for (const e of entries) {
            this.pending.delete(e.token);
        }
        this.options.metrics.mwDeletions.inc({ result: 'gave_up' }, entries.length);
        this.options.logger.log('error/mediawiki', {
            msg: 'Gave up deleting push subscriptions on the wiki', err: reason,
            tokens: entries.length, sample: tokenFingerprints(entries.map((e) => e.token))
        });
    }

    private recentlyDeleted(token: string, now: number): boolean {
        const until = this.recent.get(hash(token));
        return until !== undefined && until > now;
    }

    private remember(token: string, now: number): void {
        const key = hash(token);
        this.recent.delete(key); // re-insert at the end: the map's order is the expiry order
        this.recent.set(key, now + RECENT_TTL_MS);
        for (const [k, until] of this.recent) {
            if (this.recent.size <= RECENT_MAX && until > now) {
                break;
            }
            this.recent.delete(k);
        }
    }

    private updateGauge(): void {
        this.options.metrics.mwOutboxSize.set({}, this.pending.size);
    }

    private notify(): void {
        const waiters = this.waiters;
        this.waiters = [];
        for (const w of waiters) {
            w();
        }
    }

    /** Resolves when a call ends, the outbox closes, or the deadline passes. */
    private nextChange(deadline: number): Promise<void> {
        return new Promise((resolve) => {
            const timer = this.clock.setTimeout(done, Math.max(0, deadline - this.clock.now()));
            const clock = this.clock;
            function done(): void {
                clock.clearTimeout(timer);
                resolve();
            }
            this.waiters.push(done);
        });
    }
}

function isRetryable(err: unknown): boolean {
    if (err instanceof MwApiError && SESSION_ERROR_CODES.has(err.code)) {
        return true; // still lost after one re-login: the next attempt logs in afresh
    }
    return err instanceof MwError ? err.retryable : false;
}

function hash(token: string): string {
    return createHash('sha256').update(token).digest('base64');
}
