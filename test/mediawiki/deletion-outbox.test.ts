import assert from 'node:assert/strict';
import type FakeTimers from '@sinonjs/fake-timers';
import type { OutboxConfig } from '../../src/config/sections/mediawiki';
import { Deleter, DeletionOutbox, RECENTLY_DELETED_TTL_MS } from '../../src/mediawiki/deletion-outbox';
import { MwApiError, MwHttpError, MwNetworkError } from '../../src/mediawiki/errors';
import type { DeleteResult } from '../../src/mediawiki/subscription-deleter';
import { TestLogger } from '../helpers/test-logger';
import { fakeClock } from './helpers';

/**
 * The outbox alone: a scripted deleter (no HTTP) and a fake clock, so every timing rule is
 * checked to the millisecond. The same rules against the fake wiki are in cleanup.test.ts.
 */

type Answer = DeleteResult | Error | 'hang';

class FakeDeleter implements Deleter {
    readonly calls: string[][] = [];
    /** Called with the call count at every call. */
    onCall?: (n: number) => void;
    private readonly script: Answer[] = [];
    private readonly hanging: Array<(a: DeleteResult | Error) => void> = [];

    /** The next calls answer these, in order; then 'deleted'. */
    answer(...answers: Answer[]): void {
        this.script.push(...answers);
    }

    /** Ends the oldest hanging call with `a`. */
    release(a: DeleteResult | Error = 'deleted'): void {
        this.hanging.shift()!(a);
    }

    async delete(tokens: readonly string[]): Promise<DeleteResult> {
        this.calls.push([...tokens]);
        this.onCall?.(this.calls.length);
        const a = this.script.shift() ?? 'deleted';
        const settled = a === 'hang' ? await new Promise<DeleteResult | Error>((r) => this.hanging.push(r)) : a;
        if (settled instanceof Error) {
            throw settled;
        }
        return settled;
    }
}

const OUTBOX: OutboxConfig = {
    maxTokens: 1000, maxAttempts: 5, maxAgeMs: 3_600_000, baseDelayMs: 1000, maxDelayMs: 60_000, batchWaitMs: 1000, concurrency: 1
};
const T0 = Date.parse('2026-03-01T00:00:00Z');

interface Rig {
    clock: FakeTimers.Clock;
    deleter: FakeDeleter;
    outbox: DeletionOutbox;
    logger: TestLogger;
    counts: Record<string, number>;
    gauge(): number;
    /** Advances fake time by `ms`, letting the deleter's promises settle between timers. */
    tick(ms: number): Promise<void>;
}

function rig(o: { chunkSize?: number; outbox?: Partial<OutboxConfig> } = {}): Rig {
    const { clock, adapter } = fakeClock(T0);
    const deleter = new FakeDeleter();
    const logger = new TestLogger();
    const counts: Record<string, number> = {};
    let gauge = 0;
    const metrics = {
        mwDeletions: { inc: (l: { result: string }, n = 1) => { counts[l.result] = (counts[l.result] ?? 0) + n; } },
        mwOutboxSize: { set: (_l: object, v: number) => { gauge = v; } }
    };
    const outbox = new DeletionOutbox({
        deleter, chunkSize: o.chunkSize ?? 5, outbox: { ...OUTBOX, ...o.outbox }, logger,
        metrics: metrics as never, clock: adapter,
        // Equal jitter at 0.5: the n-th consecutive failure waits 0.75 x min(max, base x 2^(n-1)).
        random: () => 0.5
    });
    return {
        clock, deleter, outbox, logger, counts, gauge: () => gauge,
        tick: async (ms) => {
            await clock.tickAsync(ms);
        }
    };
}

const toks = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
const sizes = (d: FakeDeleter) => d.calls.map((c) => c.length);

describe('mediawiki: DeletionOutbox (fake deleter, fake clock)', () => {
    describe('batching', () => {
        const cases: Array<{ name: string; chunkSize: number; tokens: number; at: Array<[number, number[]]> }> = [
            { name: 'a partial chunk waits batchWaitMs for company', chunkSize: 5, tokens: 3, at: [[0, []], [999, []], [1000, [3]]] },
            { name: 'a full chunk goes at once, the rest after batchWaitMs', chunkSize: 5, tokens: 7, at: [[0, [5]], [999, [5]], [1000, [5, 2]]] },
            { name: 'full chunks go back to back', chunkSize: 5, tokens: 15, at: [[0, [5, 5, 5]]] },
            { name: 'batchWaitMs 0: at once', chunkSize: 5, tokens: 1, at: [[0, [1]]] }
        ];
        for (const c of cases) {
            it(c.name, async () => {
                const r = rig({ chunkSize: c.chunkSize, outbox: c.name.includes('0:') ? { batchWaitMs: 0 } : {} });
                r.outbox.deadTokens('fcm', toks('t', c.tokens), 'echo');
                let elapsed = 0;
                for (const [t, expected] of c.at) {
                    await r.tick(t - elapsed);
                    elapsed = t;
                    assert.deepEqual(sizes(r.deleter), expected, `at +${t} ms`);
                }
            });
        }

        it('sends in arrival order (FIFO), each token once', async () => {
            const r = rig({ chunkSize: 4 });
            r.outbox.deadTokens('fcm', ['a', 'b', 'c'], 'echo');
            r.outbox.deadTokens('apns', ['d', 'e', 'f', 'g', 'h', 'i'], 'echo');
            await r.tick(1000);
            assert.deepEqual(r.deleter.calls, [['a', 'b', 'c', 'd'], ['e', 'f', 'g', 'h'], ['i']]);
            assert.equal(r.outbox.size, 0);
            assert.equal(r.counts.succeeded, 9);
            assert.equal(r.gauge(), 0);
        });

        it('the first token of a partial chunk decides when it goes, later ones ride along', async () => {
            const r = rig({ chunkSize: 10 });
            r.outbox.deadTokens('fcm', ['a'], 'echo');
            await r.tick(600);
            r.outbox.deadTokens('fcm', ['b', 'c'], 'echo');
            await r.tick(399);
            assert.deepEqual(r.deleter.calls, []);
            await r.tick(1);
            assert.deepEqual(r.deleter.calls, [['a', 'b', 'c']]);
        });

        it('keeps to `concurrency` calls at a time', async () => {
            const r = rig({ chunkSize: 2, outbox: { concurrency: 2 } });
            r.deleter.answer('hang', 'hang', 'hang');
            r.outbox.deadTokens('fcm', toks('t', 7), 'echo');
            await r.tick(0);
            assert.deepEqual(sizes(r.deleter), [2, 2]);
            assert.equal(r.outbox.callsInFlight, 2);
            r.deleter.release();
            await r.tick(0);
            assert.deepEqual(sizes(r.deleter), [2, 2, 2]);
            r.deleter.release();
            await r.tick(0);
            assert.deepEqual(sizes(r.deleter), [2, 2, 2], 'the last token waits for company');
            await r.tick(1000);
            assert.deepEqual(sizes(r.deleter), [2, 2, 2, 1]);
        });
    });

    describe('de-duplication, bounds and bad input', () => {
        it('never holds a token twice: while waiting, while in a call, or soon after its deletion', async () => {
            const r = rig({ chunkSize: 3 });
            r.deleter.answer('hang');
            r.outbox.deadTokens('fcm', ['a', 'b', 'a', 'c'], 'echo');
            assert.deepEqual(r.deleter.calls, [['a', 'b', 'c']]);
            r.outbox.deadTokens('fcm', ['a', 'b'], 'echo'); // in the call
            assert.equal(r.outbox.size, 3);
            r.deleter.release();
            await r.tick(0);
            r.outbox.deadTokens('apns', ['a', 'c'], 'matrix'); // just deleted
            assert.equal(r.outbox.size, 0);
            await r.tick(RECENTLY_DELETED_TTL_MS);
            r.outbox.deadTokens('fcm', ['a'], 'echo'); // forgotten: deleted again if reported again
            assert.equal(r.outbox.size, 1);
            assert.equal(r.counts.requested, 4);
        });

        it('is bounded: overflow is dropped, counted and logged (by fingerprint)', () => {
            const r = rig({ outbox: { maxTokens: 4, batchWaitMs: 60_000 }, chunkSize: 100 });
            const t = toks('token-with-some-length-', 6);
            r.outbox.deadTokens('fcm', t, 'echo');
            assert.equal(r.outbox.size, 4);
            assert.equal(r.counts.requested, 4);
            assert.equal(r.counts.dropped, 2);
            const warn = r.logger.at('warn').find((e) => JSON.stringify(e.entry).includes('outbox full'));
            assert.ok(warn);
            assert.ok(!r.logger.text().includes(t[5]), 'a full token was logged');
        });

        it('drops what cannot be sent in a multi-value parameter (empty, \\x1f), counted', () => {
            const r = rig({ outbox: { batchWaitMs: 60_000 } });
            r.outbox.deadTokens('fcm', ['', 'a\x1fb', 'ok'], 'echo');
            assert.equal(r.outbox.size, 1);
            assert.equal(r.counts.dropped, 2);
        });

        it('never throws into delivery, closed or not', () => {
            const r = rig();
            r.outbox.close();
            assert.doesNotThrow(() => r.outbox.deadTokens('fcm', ['a'], 'echo'));
            assert.equal(r.counts.dropped, 1);
            assert.doesNotThrow(() => r.outbox.deadTokens('fcm', null as unknown as string[], 'echo'));
            assert.ok(r.logger.at('error').some((e) => JSON.stringify(e.entry).includes('Could not queue')));
        });
    });

    describe('failures', () => {
        const verdicts: Array<{ name: string; err: Error; retried: boolean }> = [
            { name: 'HTTP 503', err: new MwHttpError('echopushsubscriptions', 503), retried: true },
            { name: 'a timeout', err: new MwNetworkError('echopushsubscriptions', 'timed out after 10 ms', 'timeout'), retried: true },
            { name: 'maxlag', err: new MwApiError('echopushsubscriptions', 'maxlag', ''), retried: true },
            { name: 'a session still lost after one re-login', err: new MwApiError('echopushsubscriptions', 'badtoken', ''), retried: true },
            { name: 'permissiondenied', err: new MwApiError('echopushsubscriptions', 'permissiondenied', ''), retried: false },
            { name: 'HTTP 403', err: new MwHttpError('echopushsubscriptions', 403), retried: false },
            { name: 'a bug (not an MwError)', err: new TypeError('oops'), retried: false }
        ];
        for (const v of verdicts) {
            it(`${v.name}: ${v.retried ? 'retried after the backoff' : 'given up at once'}`, async () => {
                const r = rig();
                r.deleter.answer(v.err);
                r.outbox.deadTokens('fcm', toks('t', 5), 'echo');
                await r.tick(0);
                if (!v.retried) {
                    assert.equal(r.counts.gave_up, 5);
                    assert.equal(r.outbox.size, 0);
                    assert.ok(r.logger.at('error').some((e) => JSON.stringify(e.entry).includes('Gave up')));
                    return;
                }
                assert.equal(r.counts.retried, 5);
                await r.tick(749);
                assert.equal(r.deleter.calls.length, 1, 'not before the backoff (0.75 x 1000 ms)');
                await r.tick(1);
                assert.equal(r.deleter.calls.length, 2);
                assert.equal(r.counts.succeeded, 5);
            });
        }

        it('backs off exponentially over consecutive failures, and a success resets it', async () => {
            const r = rig({ outbox: { maxAttempts: 10 } });
            const err = new MwHttpError('echopushsubscriptions', 503);
            r.deleter.answer(err, err, err, 'deleted', err);
            r.outbox.deadTokens('fcm', toks('t', 5), 'echo');
            // Calls at 0, 750, 750+1500, 750+1500+3000.
            for (const [at, calls] of [[0, 1], [749, 1], [750, 2], [2249, 2], [2250, 3], [5249, 3], [5250, 4]]) {
                await r.tick(at - (r.clock.now - T0));
                assert.equal(r.deleter.calls.length, calls, `at +${at} ms`);
            }
            r.outbox.deadTokens('fcm', toks('u', 5), 'echo');
            await r.tick(0);
            assert.equal(r.deleter.calls.length, 5);
            await r.tick(750);
            assert.equal(r.deleter.calls.length, 6, 'after a success the next failure waits the first delay again');
        });

        it('honours Retry-After when it is longer than the backoff, for the whole outbox', async () => {
            const r = rig({ chunkSize: 2 });
            r.deleter.answer(new MwApiError('echopushsubscriptions', 'ratelimited', '', 30_000));
            r.outbox.deadTokens('fcm', ['a', 'b', 'c', 'd'], 'echo');
            await r.tick(0);
            assert.deepEqual(r.deleter.calls, [['a', 'b']], 'the failure pauses every chunk, not only its own');
            await r.tick(29_999);
            assert.equal(r.deleter.calls.length, 1);
            await r.tick(1);
            assert.deepEqual(r.deleter.calls.slice(1), [['c', 'd'], ['a', 'b']]);
        });

        it('gives up after maxAttempts, and on tokens older than maxAgeMs', async () => {
            const r = rig({ outbox: { maxAttempts: 3 } });
            const err = new MwHttpError('echopushsubscriptions', 502);
            r.deleter.answer(err, err, err);
            r.outbox.deadTokens('fcm', toks('t', 5), 'echo');
            await r.tick(60_000);
            assert.equal(r.deleter.calls.length, 3);
            assert.equal(r.counts.retried, 10);
            assert.equal(r.counts.gave_up, 5);
            assert.equal(r.outbox.size, 0);

            const old = rig({ outbox: { maxAgeMs: 2000, maxAttempts: 100 } });
            old.deleter.answer(err, err, err);
            old.outbox.deadTokens('fcm', toks('t', 5), 'echo');
            await old.tick(60_000);
            // At 0 and 750 ms; the next retry (at 2250) would be past 2000 ms of age.
            assert.equal(old.deleter.calls.length, 2);
            assert.equal(old.counts.gave_up, 5);
        });

        it('a retried chunk still in backoff does not block tokens that may go now', async () => {
            // Two calls at once: A fails (its tokens back off), B succeeds (which lifts the
            // outbox-wide pause). Tokens reported afterwards go at once, ahead of A's.
            const r = rig({ chunkSize: 2, outbox: { concurrency: 2, batchWaitMs: 0 } });
            r.deleter.answer('hang', 'hang');
            r.outbox.deadTokens('fcm', ['a1', 'a2', 'b1', 'b2'], 'echo');
            assert.deepEqual(r.deleter.calls, [['a1', 'a2'], ['b1', 'b2']]);
            r.deleter.release(new MwHttpError('echopushsubscriptions', 503, 10_000));
            await r.tick(0);
            r.deleter.release('deleted');
            await r.tick(0);
            r.outbox.deadTokens('fcm', ['c1', 'c2', 'c3'], 'echo');
            await r.tick(0);
            assert.deepEqual(r.deleter.calls.slice(2), [['c1', 'c2'], ['c3']]);
            await r.tick(9_999);
            assert.equal(r.deleter.calls.length, 4);
            await r.tick(1);
            assert.deepEqual(r.deleter.calls.slice(4), [['a1', 'a2']]);
            assert.equal(r.outbox.size, 0);
        });

        it('a retried token that comes back is due at once, even behind fresh tokens still waiting', async () => {
            const r = rig({ chunkSize: 10 });
            r.deleter.answer(new MwHttpError('echopushsubscriptions', 503));
            r.outbox.deadTokens('fcm', ['a'], 'echo');
            await r.tick(1000); // call 1 fails: 'a' backs off 750 ms
            await r.tick(700);
            r.outbox.deadTokens('fcm', ['fresh'], 'echo'); // due at +1000 from now
            await r.tick(50);
            assert.deepEqual(r.deleter.calls.slice(1), [['fresh', 'a']], 'sent when the retry came due, taking the fresh token along');
        });
    });

    describe('drain and close', () => {
        it('drain sends partial chunks at once, honours backoff, and reports what is left at the deadline', async () => {
            const r = rig({ outbox: { batchWaitMs: 60_000 } });
            r.outbox.deadTokens('fcm', ['a', 'b'], 'echo');
            const drained = r.outbox.drain(r.clock.now + 5000);
            await r.tick(0);
            assert.deepEqual(r.deleter.calls, [['a', 'b']]);
            assert.deepEqual(await drained, { pending: 0 });

            r.deleter.answer(new MwHttpError('echopushsubscriptions', 503, 60_000));
            r.outbox.deadTokens('fcm', ['c'], 'echo');
            const left = r.outbox.drain(r.clock.now + 5000);
            await r.tick(5000);
            assert.deepEqual(await left, { pending: 1 });
            assert.equal(r.deleter.calls.length, 2, 'no retry before Retry-After, deadline or not');
            assert.deepEqual(r.outbox.pendingByProvider().map((p) => [p.provider, p.tokens]), [['fcm', 1]]);
        });

        it('after close nothing is sent, a failing call is not rescheduled, and what is left is reported', async () => {
            const r = rig();
            r.deleter.answer('hang');
            r.outbox.deadTokens('apns', toks('t', 5), 'echo');
            r.outbox.deadTokens('fcm', toks('u', 2), 'echo');
            r.outbox.close();
            r.deleter.release(new MwNetworkError('echopushsubscriptions', 'aborted (closing)', 'closing'));
            await r.tick(60_000);
            assert.equal(r.deleter.calls.length, 1);
            assert.equal(r.outbox.size, 7);
            assert.equal(r.counts.retried, undefined);
            const left = r.outbox.pendingByProvider();
            assert.deepEqual(left.map((p) => [p.provider, p.tokens]).sort(), [['apns', 5], ['fcm', 2]]);
            assert.ok(left.every((p) => p.sample.length > 0 && p.sample.every((s) => s.includes('…'))), 'fingerprints, not tokens');
            assert.ok(r.logger.at('warn').some((e) => JSON.stringify(e.entry).includes('Closing with dead tokens')));
        });
    });

    describe('cost', () => {
        /** Mean time per chunk sent (pick, arm, call, settle) with `pending` tokens held. */
        async function perChunkMs(pending: number, chunks: number): Promise<number> {
            const r = rig({ chunkSize: 50, outbox: { maxTokens: pending } });
            r.deleter.answer('hang'); // the first call holds while the outbox fills
            r.outbox.deadTokens('fcm', toks('tok', pending), 'echo');
            r.deleter.answer(...Array<Answer>(chunks - 1).fill('deleted'), 'hang');
            const reached = new Promise<void>((resolve) => {
                r.deleter.onCall = (n) => n === chunks + 1 && resolve();
            });
            // Microtasks only from here (the fake clock never moves): this times the outbox itself.
            const t0 = performance.now();
            r.deleter.release();
            await reached;
            return (performance.now() - t0) / chunks;
        }

        it('a chunk costs about the same with 100 000 tokens waiting as with 1 000 (O(chunk), not O(pending))', async () => {
            await perChunkMs(1000, 15); // warm up
            const small = await perChunkMs(1000, 15);
            const large = await perChunkMs(100_000, 15);
            // A scan and sort of every waiting token per chunk costs ~5 ms at 100k (~100x more).
            assert.ok(large < small * 5 + 0.5, `${large.toFixed(3)} ms per chunk at 100k, ${small.toFixed(3)} ms at 1k`);
        });
    });
});
