import assert from 'node:assert/strict';
import { MwApiError, MwHttpError } from '../../src/mediawiki/errors';
import { LOW_VALUE_LIMIT, SessionWriter, SubscriptionDeleter } from '../../src/mediawiki/subscription-deleter';
import type { MwResponse } from '../../src/mediawiki/action-api-client';
import { TestLogger } from '../helpers/test-logger';
import { decodeMultiValue } from '../fakes/mediawiki-server';

/** A session that answers like the wiki: a value limit, tokens that exist, scripted errors. */
class FakeSession implements SessionWriter {
    readonly calls: string[][] = [];
    readonly params: Array<Readonly<Record<string, string>>> = [];
    constructor(private readonly limit: number, private readonly existing: Set<string>, private readonly errors: Error[] = []) {}

    async write(params: Readonly<Record<string, string>>): Promise<MwResponse> {
        const tokens = decodeMultiValue(params.providertoken);
        this.calls.push(tokens);
        this.params.push(params);
        await Promise.resolve();
        if (tokens.length > this.limit) {
            throw new MwApiError('echopushsubscriptions', 'toomanyvalues', `Too many values supplied for parameter "providertoken". The limit is ${this.limit}.`);
        }
        const injected = this.errors.shift();
        if (injected) {
            throw injected;
        }
        const found = tokens.filter((t) => this.existing.delete(t));
        if (!found.length) {
            throw new MwApiError('echopushsubscriptions', 'echo-push-token-not-found', 'No push subscription was found.');
        }
        return { echopushsubscriptions: { result: 'Success' } };
    }
}

const toks = (n: number, prefix = 't') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('mediawiki: SubscriptionDeleter', () => {
    it('sends one echopushsubscriptions delete call for a chunk', async () => {
        const session = new FakeSession(50, new Set(toks(3)));
        const d = new SubscriptionDeleter(session, new TestLogger());
        assert.equal(await d.delete(toks(3)), 'deleted');
        assert.deepEqual(session.params, [{ action: 'echopushsubscriptions', command: 'delete', providertoken: 't0|t1|t2' }]);
    });

    it('calls echo-push-token-not-found "already gone", a success', async () => {
        const d = new SubscriptionDeleter(new FakeSession(50, new Set()), new TestLogger());
        assert.equal(await d.delete(toks(3)), 'already_gone');
    });

    const splits: Array<{ name: string; limit: number; tokens: number; calls: number[]; exists: number; result: string }> = [
        { name: 'within the limit: one call', limit: 500, tokens: 120, calls: [120], exists: 120, result: 'deleted' },
        { name: 'toomanyvalues on 120: resend in calls of 50', limit: 50, tokens: 120, calls: [120, 50, 50, 20], exists: 120, result: 'deleted' },
        { name: 'toomanyvalues on 51', limit: 50, tokens: 51, calls: [51, 50, 1], exists: 51, result: 'deleted' },
        { name: 'split, some parts already gone: still "deleted"', limit: 50, tokens: 120, calls: [120, 50, 50, 20], exists: 10, result: 'deleted' },
        { name: 'split, every part already gone', limit: 50, tokens: 120, calls: [120, 50, 50, 20], exists: 0, result: 'already_gone' }
    ];
    for (const c of splits) {
        it(c.name, async () => {
            const session = new FakeSession(c.limit, new Set(toks(c.exists)));
            const logger = new TestLogger();
            const d = new SubscriptionDeleter(session, logger);
            assert.equal(await d.delete(toks(c.tokens)), c.result);
            assert.deepEqual(session.calls.map((t) => t.length), c.calls);
            assert.deepEqual(session.calls.slice(c.calls.length > 1 ? 1 : 0).flat(), toks(c.tokens), 'every token once, in order');
            assert.equal(logger.at('warn').length, c.calls.length > 1 ? 1 : 0);
        });
    }

    it('after one toomanyvalues, splits every later chunk without asking again', async () => {
        const session = new FakeSession(50, new Set(toks(300)));
        const d = new SubscriptionDeleter(session, new TestLogger());
        await d.delete(toks(100));
        await d.delete(toks(200).slice(100));
        assert.deepEqual(session.calls.map((t) => t.length), [100, 50, 50, 50, 50]);
        assert.equal(LOW_VALUE_LIMIT, 50);
    });

    it('toomanyvalues on 50 or fewer is not a limit it can work around: it is thrown', async () => {
        const d = new SubscriptionDeleter(new FakeSession(10, new Set(toks(20))), new TestLogger());
        await assert.rejects(d.delete(toks(20)), (e: unknown) => e instanceof MwApiError && e.code === 'toomanyvalues');
    });

    it('a failure in the middle of a split rejects with that error (the outbox retries the chunk)', async () => {
        const session = new FakeSession(50, new Set(toks(120)), [new MwHttpError('echopushsubscriptions', 503)]);
        const d = new SubscriptionDeleter(session, new TestLogger());
        // The first 50-call after the refused 120 gets the 503.
        await assert.rejects(d.delete(toks(120)), (e: unknown) => e instanceof MwHttpError && e.status === 503);
        assert.deepEqual(session.calls.map((t) => t.length), [120, 50]);
    });
});
