import assert from 'node:assert/strict';
import { metricValue } from '../helpers/metrics';
import { BlackHole } from '../fakes/black-hole';
import { FakeConnectProxy } from '../fakes/connect-proxy';
import { StallMode } from '../fakes/mediawiki-server';
import { deletions, fakeTokens, Harness, startHarness } from './helpers';

/**
 * Every MediaWiki API call is bounded by mediawiki.requestTimeoutMs, whichever step is stuck:
 * the proxy's CONNECT, the answer, the body, a login step or the CSRF token fetch. A call
 * past its deadline is transient: logged, counted in mediawiki_request_failures_total, and
 * retried by the outbox, which completes the deletions once the wiki (or proxy) is back.
 */

const TIMEOUT_MS = 300;
/** A stuck call must fail at its deadline, well under the test timeout. */
const BOUND_MS = TIMEOUT_MS + 2000;
const FAILURES = 'push_notifications_mediawiki_request_failures_total';

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 8000): Promise<number> {
    const started = Date.now();
    while (!(await cond())) {
        if (Date.now() - started > ms) {
            throw new Error(`timed out waiting for: ${what}`);
        }
        await new Promise((r) => setTimeout(r, 10));
    }
    return Date.now() - started;
}

const retryWarnings = (h: Harness) => h.logger.at('warn').filter((e) => JSON.stringify(e.entry).includes('will retry'));

describe('MediaWiki calls have deadlines', function () {
    this.timeout(20_000);
    let h: Harness | undefined;
    const closers: Array<() => Promise<void>> = [];
    afterEach(async () => {
        await h?.close();
        h = undefined;
        for (const c of closers.splice(0)) {
            await c();
        }
    });

    const stalls: Array<{ name: string; mode: StallMode; only?: (action: string, p: Readonly<Record<string, string>>) => boolean; action: string }> = [
        { name: 'a wiki that accepts and never answers (the first login step)', mode: 'silent', action: 'query' },
        { name: 'a wiki that stops mid-body', mode: 'body', action: 'query' },
        { name: 'the login POST never answered', mode: 'silent', only: (a) => a === 'login', action: 'login' },
        { name: 'the CSRF token fetch never answered', mode: 'silent', only: (a, p) => a === 'query' && p.type === 'csrf', action: 'query' },
        { name: 'the delete call never answered', mode: 'silent', only: (a) => a === 'echopushsubscriptions', action: 'echopushsubscriptions' }
    ];
    for (const s of stalls) {
        it(`${s.name}: a bounded, counted, retried failure; deleted once the wiki is back`, async () => {
            const tokens = fakeTokens(3);
            h = await startHarness({ fake: { subscriptions: tokens }, mediawiki: { requestTimeoutMs: TIMEOUT_MS }, outbox: { baseDelayMs: 50, maxDelayMs: 200 } });
            const harness = h;
            harness.fake.setStall(s.mode, s.only);
            harness.cleanup.deadTokens('fcm', tokens, 'echo');

            const firstFailureMs = await until('a failed attempt', () => retryWarnings(harness).length > 0);
            assert.ok(firstFailureMs < BOUND_MS, `first failure after ${firstFailureMs} ms`);
            const warning = JSON.stringify(retryWarnings(harness)[0].entry);
            assert.ok(warning.includes(`timed out after ${TIMEOUT_MS} ms`), warning);
            assert.ok(await metricValue(FAILURES, { action: s.action, reason: 'timeout' }) >= 1, 'the timeout is counted, by action');

            // It keeps trying, each attempt bounded; stuck sockets are closed, not piled up.
            await until('three stalled attempts', () => harness.fake.stalledRequests >= 3);
            assert.ok(harness.fake.openConnections <= 2, `${harness.fake.openConnections} connections open to the stalled wiki`);
            assert.deepEqual(harness.fake.deletedTokens, []);

            harness.fake.setStall('none');
            assert.deepEqual(await harness.cleanup.drain(Date.now() + 5000), { pending: 0 });
            assert.deepEqual(harness.fake.deletedTokens, tokens);
            assert.ok(await deletions('retried') > 0);
            assert.equal(await deletions('gave_up'), 0);
            assert.equal(await deletions('succeeded'), 3);
        });
    }

    it('a proxy that accepts and never answers CONNECT: bounded, and the socket to it is closed', async () => {
        const hole = await BlackHole.start();
        closers.push(() => hole.close());
        const tokens = fakeTokens(2);
        h = await startHarness({ fake: { subscriptions: tokens }, conf: { proxy: hole.url }, mediawiki: { requestTimeoutMs: TIMEOUT_MS } });
        const harness = h;
        harness.cleanup.deadTokens('fcm', tokens, 'echo');
        const ms = await until('a failed attempt', () => retryWarnings(harness).length > 0);
        assert.ok(ms < BOUND_MS, `first failure after ${ms} ms`);
        assert.ok(JSON.stringify(retryWarnings(harness)[0].entry).includes('timed out'));
        assert.match(hole.firstBytes[0], /^CONNECT 127\.0\.0\.1:\d+ HTTP\/1\.1/);
        assert.ok(await metricValue(FAILURES, { action: 'query', reason: 'timeout' }) >= 1);
        assert.equal(harness.fake.requests.length, 0);
        const left = await harness.cleanup.drain(Date.now() + 200);
        assert.equal(left.pending, 2);
        await harness.close();
        h = undefined;
        await hole.waitForAllClosed(3000);
    });

    it('a proxy that stalls for a while, then recovers: the deletions complete through it', async () => {
        const proxy = await FakeConnectProxy.start({ allowUnmapped: true });
        closers.push(() => proxy.close());
        const tokens = fakeTokens(4);
        h = await startHarness({
            fake: { subscriptions: tokens }, conf: { proxy: proxy.url },
            mediawiki: { requestTimeoutMs: TIMEOUT_MS }, outbox: { baseDelayMs: 50, maxDelayMs: 200 }
        });
        const harness = h;
        proxy.setStalled(true);
        harness.cleanup.deadTokens('apns', tokens, 'echo');
        await until('two stalled CONNECTs', () => proxy.stalled.length >= 2);
        assert.deepEqual(harness.fake.requests, []);
        proxy.setStalled(false);
        assert.deepEqual(await harness.cleanup.drain(Date.now() + 5000), { pending: 0 });
        assert.deepEqual(harness.fake.deletedTokens, tokens);
        assert.ok(Object.values(proxy.tunnels).reduce((a, b) => a + b, 0) >= 1);
        assert.equal(await deletions('gave_up'), 0);
    });
});
