import type { OutboxConfig } from '../config/sections/mediawiki';
import type { Logger } from '../logging/logger';
import { tokenFingerprints } from '../logging/redact';
import type { ServiceMetrics } from '../metrics/service-metrics';
import type { DeadTokenSink } from '../push/dead-token-sink';
import type { MessageSource } from '../push/message';
import type { ProviderId } from '../push/provider';
import { backoffDelayMs } from '../util/backoff';
import { Clock, systemClock } from '../util/clock';
import { errorMessage } from '../util/errors';
import { HashedTtlSet } from '../util/hashed-ttl-set';
import { MwApiError, MwError, SESSION_ERROR_CODES } from './errors';
import { isEncodableValue } from './multi-value';
import type { DeleteResult } from './subscription-deleter';

/** How long a deleted token is remembered, so a second dead report does not cost a call. */
export const RECENTLY_DELETED_TTL_MS = 10 * 60 * 1000;
/** Most deleted tokens remembered (as hashes); the oldest are forgotten first. */
export const RECENTLY_DELETED_MAX = 50_000;

/** One delete call for up to one chunk of tokens (SubscriptionDeleter; a fake in tests). */
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
    /** The backoff's jitter source, in [0, 1). */
    readonly random?: () => number;
}

interface Entry {
    readonly token: string;
    readonly queuedAt: number;
    /** Delete calls that carried it so far. */
    attempts: number;
    /**
     * When it may go in a chunk that is not full: a fresh token waits up to batchWaitMs for
     * company; a retried one is due as soon as its backoff ends.
     */
    dueAt: number;
}

/** The retried entries of one failed call, waiting out the backoff. */
interface Parked {
    readonly readyAt: number;
    readonly entries: readonly Entry[];
}

/**
 * Dead tokens waiting to be deleted on the wiki. Tokens are batched into chunks, sent by a
 * small number of calls at a time (one by default), and retried with backoff while the
 * wiki is down, lagging or rate-limiting us. The same token is never pending twice, nor
 * sent again within RECENTLY_DELETED_TTL_MS of its deletion. The outbox is bounded: what
 * does not fit is counted as dropped and logged.
 *
 * Cost: picking a chunk is O(chunk), whatever the number of tokens waiting. Tokens ready
 * to send sit in one FIFO in the order they became sendable: fresh tokens by arrival (so
 * by due time), retried ones appended when their backoff ends. A chunk is the first
 * `chunkSize` of them. Retried tokens still in backoff are kept aside, one group per failed
 * call, so they never sit in front of tokens that may go now. (The FIFO is an array with a
 * head index, not a Map in insertion order: V8 leaves deleted Map entries as holes that
 * every new iteration from the front walks again, ~50-100 µs per chunk at 100k tokens.)
 */
export class DeletionOutbox implements DeadTokenSink {
    /** Every token held, queued, parked or in a call (→ its provider): the de-duplication set and the size. */
    private readonly held = new Map<string, ProviderId>();
    /** Tokens that may be sent, oldest first: `queue[queueHead]` onwards (see the class comment). */
    private queue: Entry[] = [];
    private queueHead = 0;
    /** Entries in `queue` that came back from backoff: each one makes a chunk due at once. */
    private retriedQueued = 0;
    /** Retried tokens waiting out their backoff; one group per failed call, so few. */
    private parked: Parked[] = [];
    /** Hashes of tokens deleted recently, so no token outlives its deletion in memory. */
    private readonly recentlyDeleted: HashedTtlSet;
    private readonly clock: Clock;
    private readonly random: () => number;
    private inFlight = 0;
    private consecutiveFailures = 0;
    /** After a failure the whole outbox waits, not just the failed chunk: the wiki is shared. */
    private pausedUntil = 0;
    private timer?: unknown;
    /** When `timer` fires (epoch ms). */
    private wakeAt = Infinity;
    private draining = false;
    private closed = false;
    private waiters: Array<() => void> = [];

    constructor(private readonly options: DeletionOutboxOptions) {
        this.clock = options.clock ?? systemClock;
        this.random = options.random ?? Math.random;
        this.recentlyDeleted = new HashedTtlSet({
            ttlMs: RECENTLY_DELETED_TTL_MS, maxSize: RECENTLY_DELETED_MAX, now: () => this.clock.now()
        });
    }

    /** Tokens held: waiting, in backoff or in a call. */
    get size(): number {
        return this.held.size;
    }

    get callsInFlight(): number {
        return this.inFlight;
    }

    /**
     * What is still held, per provider: count and a few fingerprints (for a shutdown report
     * of deletions lost at exit). O(held).
     */
    pendingByProvider(): Array<{ provider: ProviderId; tokens: number; sample: string[] }> {
        const by = new Map<ProviderId, { tokens: number; some: string[] }>();
        for (const [token, provider] of this.held) {
            const p = by.get(provider) ?? { tokens: 0, some: [] };
            by.set(provider, p);
            p.tokens++;
            if (p.some.length < 5) {
                p.some.push(token);
            }
        }
        return [...by].map(([provider, p]) => ({ provider, tokens: p.tokens, sample: tokenFingerprints(p.some) }));
    }

    /** Queues `tokens` for deletion. Never throws; `source` is not used (every source is deleted alike). */
    deadTokens(provider: ProviderId, tokens: readonly string[], _source?: MessageSource): void {
        try {
            this.enqueue(provider, tokens);
        } catch (e) {
            // The sink must never throw into the delivery path.
            this.options.logger.log('error/mediawiki', { msg: 'Could not queue dead tokens', err: errorMessage(e) });
        }
    }

    /**
     * Sends what it can (no more batching wait, backoff still honoured) until the outbox is
     * empty or `deadline` (epoch ms) passes; reports what is left.
     */
    async drain(deadline: number): Promise<{ pending: number }> {
        this.draining = true;
        this.pump();
        while (this.held.size > 0 && !this.closed && this.clock.now() < deadline) {
            await this.nextChange(deadline);
        }
        if (this.held.size > 0) {
            this.options.logger.log('warn/mediawiki', {
                msg: 'Dead tokens still waiting for deletion on the wiki at the drain deadline',
                pending: this.held.size, inFlight: this.inFlight
            });
        }
        return { pending: this.held.size };
    }

    /** Stops timers; what is still pending is logged (the process is going away). */
    close(): void {
        if (this.closed) {
            return;
        }
        this.closed = true;
        this.cancelTimer();
        if (this.held.size > 0) {
            this.options.logger.log('warn/mediawiki', {
                msg: 'Closing with dead tokens not deleted on the wiki', pending: this.held.size
            });
        }
        this.notify();
    }

    private enqueue(provider: ProviderId, tokens: readonly string[]): void {
        const now = this.clock.now();
        const { outbox, metrics, logger } = this.options;
        const dueAt = now + outbox.batchWaitMs;
        const dropped: string[] = [];
        let invalid = 0;
        let added = 0;
        for (const token of tokens) {
            if (!isEncodableValue(token)) {
                invalid++;
                continue;
            }
            if (this.held.has(token) || this.recentlyDeleted.has(token)) {
                continue;
            }
            if (this.closed || this.held.size >= outbox.maxTokens) {
                dropped.push(token);
                continue;
            }
            this.held.set(token, provider);
            this.queue.push({ token, queuedAt: now, attempts: 0, dueAt });
            added++;
        }
        metrics.mwDeletions.inc({ result: 'requested' }, added);
        metrics.mwDeletions.inc({ result: 'dropped' }, dropped.length + invalid);
        if (dropped.length) {
            logger.log('warn/mediawiki', {
                msg: this.closed ? 'Outbox closed: dead tokens dropped, not deleted on the wiki'
                    : 'Deletion outbox full: dead tokens dropped, not deleted on the wiki',
                provider, dropped: dropped.length, outboxSize: this.held.size,
                maxTokens: outbox.maxTokens, sample: tokenFingerprints(dropped)
            });
        }
        if (invalid) {
            logger.log('warn/mediawiki', { msg: 'Dead tokens that cannot be sent to the wiki (empty or containing \\x1f) dropped', provider, dropped: invalid });
        }
        this.updateGauge();
        if (added === 0) {
            return;
        }
        // The wake-up already armed covers these tokens unless a chunk is full now.
        if (this.timer !== undefined && this.wakeAt <= dueAt && this.queued < this.options.chunkSize && !this.draining) {
            return;
        }
        this.pump();
    }

    /** Starts every call it may, then arms a timer for when the next one may start. */
    private pump(): void {
        if (this.closed) {
            return;
        }
        this.cancelTimer();
        const now = this.clock.now();
        this.releaseParked(now);
        while (this.inFlight < this.options.outbox.concurrency && now >= this.pausedUntil) {
            const chunk = this.nextChunk(now);
            if (!chunk) {
                break;
            }
            void this.send(chunk);
        }
        this.scheduleWake(now);
    }

    /** Moves retried tokens whose backoff has ended to the end of the queue. O(groups + moved). */
    private releaseParked(now: number): void {
        if (!this.parked.some((g) => g.readyAt <= now)) {
            return;
        }
        const still: Parked[] = [];
        for (const group of this.parked) {
            if (group.readyAt > now) {
                still.push(group);
                continue;
            }
            for (const e of group.entries) {
                e.dueAt = group.readyAt;
                this.queue.push(e);
            }
            this.retriedQueued += group.entries.length;
        }
        this.parked = still;
    }

    /** Whether a chunk may go now: a full one, or any due token (or draining). O(1). */
    private chunkDue(now: number): boolean {
        const queued = this.queued;
        if (queued === 0) {
            return false;
        }
        if (this.draining || this.retriedQueued > 0 || queued >= this.options.chunkSize) {
            return true;
        }
        // Fresh tokens are in arrival order, so the first one is due first.
        return this.queue[this.queueHead].dueAt <= now;
    }

    /** The first `chunkSize` sendable tokens, taken off the queue; O(chunk) amortised. */
    private nextChunk(now: number): Entry[] | undefined {
        if (!this.chunkDue(now)) {
            return undefined;
        }
        const chunk = this.queue.slice(this.queueHead, this.queueHead + this.options.chunkSize);
        this.queueHead += chunk.length;
        if (this.queueHead === this.queue.length) {
            this.queue = [];
            this.queueHead = 0;
        } else if (this.queueHead >= 1024 && this.queueHead * 2 >= this.queue.length) {
            // Drop the taken front; what is copied is no more than what was taken: O(1) amortised.
            this.queue = this.queue.slice(this.queueHead);
            this.queueHead = 0;
        }
        for (const e of chunk) {
            if (e.attempts > 0) {
                this.retriedQueued--;
            }
        }
        return chunk;
    }

    /** Tokens in the sendable FIFO. */
    private get queued(): number {
        return this.queue.length - this.queueHead;
    }

    private scheduleWake(now: number): void {
        if (this.inFlight >= this.options.outbox.concurrency) {
            return; // the end of a call pumps again
        }
        let next = Infinity;
        if (this.queued > 0) {
            next = this.chunkDue(now) ? now : this.queue[this.queueHead].dueAt;
        }
        for (const group of this.parked) {
            next = Math.min(next, group.readyAt);
        }
        if (next === Infinity) {
            return;
        }
        next = Math.max(next, this.pausedUntil, now);
        this.wakeAt = next;
        this.timer = this.clock.setTimeout(() => {
            this.timer = undefined;
            this.wakeAt = Infinity;
            this.pump();
        }, next - now);
    }

    private cancelTimer(): void {
        if (this.timer !== undefined) {
            this.clock.clearTimeout(this.timer);
            this.timer = undefined;
            this.wakeAt = Infinity;
        }
    }

    private async send(chunk: Entry[]): Promise<void> {
        this.inFlight++;
        for (const e of chunk) {
            e.attempts++;
        }
        try {
            const result = await this.options.deleter.delete(chunk.map((e) => e.token));
            this.succeeded(chunk, result);
        } catch (e) {
            this.failed(chunk, e);
        } finally {
            this.inFlight--;
            this.updateGauge();
            this.pump();
            this.notify();
        }
    }

    private succeeded(chunk: Entry[], result: DeleteResult): void {
        this.consecutiveFailures = 0;
        this.pausedUntil = 0;
        for (const e of chunk) {
            this.held.delete(e.token);
            this.recentlyDeleted.add(e.token);
        }
        this.options.metrics.mwDeletions.inc({ result: result === 'deleted' ? 'succeeded' : 'already_gone' }, chunk.length);
        this.options.logger.log('debug/mediawiki', {
            msg: result === 'deleted' ? 'Deleted push subscriptions on the wiki' : 'Push subscriptions were already gone',
            tokens: chunk.length, sample: tokenFingerprints(chunk.map((e) => e.token), 3)
        });
    }

    private failed(chunk: Entry[], err: unknown): void {
        const { logger, metrics, outbox } = this.options;
        if (this.closed) {
            return; // still held: close() and drain() report them
        }
        const now = this.clock.now();
        const message = errorMessage(err);
        if (!isRetryable(err)) {
            this.giveUp(chunk, message);
            return;
        }
        this.consecutiveFailures++;
        const retryAfterMs = err instanceof MwError ? err.retryAfterMs : undefined;
        const delay = backoffDelayMs(outbox, this.consecutiveFailures, 'equal', retryAfterMs, this.random);
        const readyAt = now + delay;
        this.pausedUntil = readyAt;
        const retry: Entry[] = [];
        const expired: Entry[] = [];
        for (const e of chunk) {
            (e.attempts >= outbox.maxAttempts || readyAt - e.queuedAt > outbox.maxAgeMs ? expired : retry).push(e);
        }
        if (retry.length) {
            this.parked.push({ readyAt, entries: retry });
        }
        metrics.mwDeletions.inc({ result: 'retried' }, retry.length);
        logger.log('warn/mediawiki', {
            msg: 'Deleting push subscriptions failed; will retry', err: message,
            tokens: chunk.length, retrying: retry.length, delayMs: delay,
            consecutiveFailures: this.consecutiveFailures, outboxSize: this.held.size
        });
        if (expired.length) {
            this.giveUp(expired, `${message} (out of attempts or too old)`);
        }
    }

    private giveUp(entries: Entry[], reason: string): void {
        for (const e of entries) {
            this.held.delete(e.token);
        }
        this.options.metrics.mwDeletions.inc({ result: 'gave_up' }, entries.length);
        this.options.logger.log('error/mediawiki', {
            msg: 'Gave up deleting push subscriptions on the wiki', err: reason,
            tokens: entries.length, sample: tokenFingerprints(entries.map((e) => e.token))
        });
    }

    private updateGauge(): void {
        this.options.metrics.mwOutboxSize.set({}, this.held.size);
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
