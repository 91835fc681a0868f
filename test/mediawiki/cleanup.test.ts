import assert from 'node:assert/strict';
import { DEFAULT_FAKE_PASSWORD, DEFAULT_FAKE_USER } from '../fakes/mediawiki-server';
import { deletions, fakeClock, fakeTokens, Harness, logins, runClock, startHarness, TEST_UA } from './helpers';

const soon = (ms = 5000) => Date.now() + ms;

describe('MediaWiki subscription cleanup against the fake wiki', () => {
    let h: Harness | undefined;
    afterEach(async () => {
        await h?.close();
        h = undefined;
    });

    it('logs in with a bot password, gets a CSRF token and deletes', async () => {
        const tokens = fakeTokens(2);
        h = await startHarness({ fake: { subscriptions: tokens } });
        h.cleanup.deadTokens('fcm', tokens);
        assert.deepEqual(await h.cleanup.drain(soon()), { pending: 0 });

        assert.deepEqual(h.fake.deletedTokens, tokens);
        const steps = h.fake.requests.map((r) => `${r.method} ${r.action}${r.params.type ? ':' + r.params.type : ''}`);
        assert.deepEqual(steps, ['GET query:login', 'POST login', 'GET query:csrf', 'POST echopushsubscriptions']);
        const del = h.fake.requests[3];
        assert.equal(del.params.command, 'delete');
        assert.equal(del.params.assert, 'user');
        assert.equal(del.params.formatversion, '2');
        assert.match(del.params.token, /\+\\$/);
        assert.equal(del.params.maxlag, undefined);
        // POSTed: the tokens are in the body, not the URL.
        assert.equal(del.url, '/w/api.php');
        assert.ok(h.fake.requests.every((r) => !/lgpassword|token=|providertoken/.test(r.url)), 'a secret went into a URL');
        for (const r of h.fake.requests) {
            assert.equal(r.headers['user-agent'], TEST_UA);
        }
        assert.equal(h.fake.logins[0].user, DEFAULT_FAKE_USER);
        assert.equal(await deletions('requested'), 2);
        assert.equal(await deletions('succeeded'), 2);
        assert.equal(await logins('success'), 1);
    });

    it('sends a configured Host header (service-mesh style), which fetch alone would drop', async () => {
        const tokens = fakeTokens(1);
        h = await startHarness({ fake: { subscriptions: tokens }, conf: { mwapi_req: { uri: '', headers: { 'user-agent': '{{user-agent}}', host: 'meta.wikimedia.org' } } } });
        h.cleanup.deadTokens('fcm', tokens);
        await h.cleanup.drain(soon());
        assert.deepEqual(h.fake.deletedTokens, tokens);
        assert.ok(h.fake.requests.every((r) => r.headers.host === 'meta.wikimedia.org'));
    });

    it('logs in with action=clientlogin when configured, and sends maxlag with writes', async () => {
        const tokens = fakeTokens(3);
        h = await startHarness({ fake: { subscriptions: tokens }, mediawiki: { loginMethod: 'clientlogin', maxlag: 5 } });
        h.cleanup.deadTokens('apns', tokens);
        await h.cleanup.drain(soon());
        assert.deepEqual(h.fake.logins.map((l) => `${l.method}:${l.result}`), ['clientlogin:Success']);
        assert.deepEqual(h.fake.deletedTokens, tokens);
        assert.equal(h.fake.deleteCalls.length, 1);
        assert.equal(h.fake.requests.at(-1)!.params.maxlag, '5');
    });

    it('logs in again once when the session expires, and retries the delete', async () => {
        const first = fakeTokens(3, 'a');
        const second = fakeTokens(3, 'b');
        h = await startHarness({ fake: { subscriptions: [...first, ...second] } });
        h.cleanup.deadTokens('fcm', first);
        await h.cleanup.drain(soon());
        h.fake.expireSessions();
        h.cleanup.deadTokens('fcm', second);
        await h.cleanup.drain(soon());

        assert.deepEqual(h.fake.deletedTokens, [...first, ...second]);
        assert.deepEqual(h.fake.deleteCalls.map((c) => c.result), ['ok', 'badtoken', 'ok']);
        assert.equal(h.fake.logins.length, 2);
        assert.equal(await logins('success'), 2);
        assert.equal(await deletions('retried'), 0);
        assert.equal(await deletions('gave_up'), 0);
    });

    it('deletes 120 dead tokens in calls of at most 50', async () => {
        const tokens = fakeTokens(120);
        h = await startHarness({ fake: { subscriptions: tokens } });
        // Reported the way delivery does: in small batches, not all at once.
        for (let i = 0; i < tokens.length; i += 7) {
            h.cleanup.deadTokens('fcm', tokens.slice(i, i + 7));
        }
        await h.cleanup.drain(soon());
        const sizes = h.fake.deleteCalls.map((c) => c.tokens.length);
        assert.ok(sizes.every((n) => n <= 50), `calls of ${sizes.join(', ')}`);
        assert.deepEqual(sizes, [50, 50, 20]);
        assert.deepEqual([...h.fake.deletedTokens].sort(), [...tokens].sort());
        assert.equal(h.fake.maxConcurrentDeletes, 1);
        assert.equal(await deletions('succeeded'), 120);
    });

    it('never deletes a token twice, however often it is reported', async () => {
        const tokens = fakeTokens(60);
        h = await startHarness({ fake: { subscriptions: tokens, latencyMs: 30 } });
        h.cleanup.deadTokens('fcm', [...tokens, ...tokens]);
        h.cleanup.deadTokens('apns', tokens.slice(0, 10));
        await new Promise((r) => setTimeout(r, 40)); // first call in flight
        h.cleanup.deadTokens('fcm', tokens.slice(0, 55));
        await h.cleanup.drain(soon());
        h.cleanup.deadTokens('fcm', tokens.slice(5, 15)); // reported again after deletion
        await h.cleanup.drain(soon());

        const all = h.fake.deleteCalls.flatMap((c) => c.tokens);
        assert.equal(new Set(all).size, all.length, 'a token was sent twice');
        assert.equal(h.fake.deletedTokens.length, 60);
        assert.equal(await deletions('requested'), 60);
    });

    it('sends tokens containing "|" with the \\x1f multi-value form', async () => {
        const tokens = ['abc|def', 'plain-token-1', 'x|y|z'];
        h = await startHarness({ fake: { subscriptions: tokens } });
        h.cleanup.deadTokens('apns', tokens);
        await h.cleanup.drain(soon());
        const raw = h.fake.requests.at(-1)!.params.providertoken;
        assert.equal(raw, '\x1fabc|def\x1fplain-token-1\x1fx|y|z');
        assert.deepEqual(h.fake.deletedTokens, tokens);
    });

    it('counts echo-push-token-not-found as already gone, a success', async () => {
        h = await startHarness();
        h.cleanup.deadTokens('fcm', fakeTokens(4));
        assert.deepEqual(await h.cleanup.drain(soon()), { pending: 0 });
        assert.deepEqual(h.fake.deleteCalls.map((c) => c.result), ['echo-push-token-not-found']);
        assert.equal(await deletions('already_gone'), 4);
        assert.equal(await deletions('retried'), 0);
        assert.equal(await deletions('gave_up'), 0);
        assert.equal(h.logger.at('error').length + h.logger.at('warn').length, 0);
    });

    it('completes the deletions after a MediaWiki outage of several minutes, without hammering it', async () => {
        const { clock, adapter } = fakeClock();
        const tokens = fakeTokens(120);
        h = await startHarness({
            fake: { subscriptions: tokens }, clock: adapter,
            outbox: { batchWaitMs: 1000, baseDelayMs: 1000, maxDelayMs: 60000 },
            // The attempt count below depends on the jitter; the lowest draws made it flaky
            // (15 attempts in 3 of 10 runs). Jitter itself is tested in test/util/backoff.test.ts.
            random: () => 0.5
        });
        const fake = h.fake;
        fake.setOutage(true);
        const start = clock.now;
        h.cleanup.deadTokens('fcm', tokens);
        await runClock(h.cleanup, clock, () => h!.cleanup.stats().pending === 0, 30 * 60_000, () => {
            if (clock.now - start >= 5 * 60_000) {
                fake.setOutage(false);
            }
        });
        assert.ok(clock.now - start >= 5 * 60_000);
        assert.deepEqual([...fake.deletedTokens].sort(), [...tokens].sort());
        // Exponential backoff: a handful of attempts in five minutes, not one per second.
        const refused = fake.requests.filter((r) => r.action === 'query').length;
        assert.ok(refused < 15, `${refused} attempts during the outage`);
        assert.ok(await deletions('retried') > 0);
        assert.equal(await deletions('gave_up'), 0);
        assert.equal(await deletions('succeeded'), 120);
        assert.ok(h.logger.at('warn').some((e) => JSON.stringify(e.entry).includes('HTTP 503')));
    });

    it('honours Retry-After on ratelimited and maxlag errors', async () => {
        const { clock, adapter } = fakeClock();
        const tokens = fakeTokens(5);
        h = await startHarness({ fake: { subscriptions: tokens }, clock: adapter, mediawiki: { maxlag: 5 } });
        h.fake.failNextDeletes(1, 'ratelimited', '30');
        h.cleanup.deadTokens('fcm', tokens);
        const start = clock.now;
        await runClock(h.cleanup, clock, () => h!.cleanup.stats().pending === 0, 60_000);
        const [first, second] = h.fake.deleteCalls;
        assert.equal(first.result, 'ratelimited');
        assert.equal(second.result, 'ok');
        assert.ok(clock.now - start >= 30_000, `retried after ${clock.now - start} ms`);

        h.fake.addSubscriptions(fakeTokens(2, 'lag'));
        h.fake.setLag(10);
        h.cleanup.deadTokens('fcm', fakeTokens(2, 'lag'));
        const lagStart = clock.now;
        await runClock(h.cleanup, clock, () => h!.fake.deleteCalls.length >= 3, 60_000);
        assert.equal(h.fake.deleteCalls[2].result, 'maxlag');
        h.fake.setLag(0);
        await runClock(h.cleanup, clock, () => h!.cleanup.stats().pending === 0, 60_000);
        assert.ok(clock.now - lagStart >= 5000, 'the maxlag Retry-After (5 s) was honoured');
        assert.equal(await deletions('succeeded'), 7);
    });

    it('bounds the outbox: overflow is counted as dropped and logged', async () => {
        h = await startHarness({ outbox: { maxTokens: 10, batchWaitMs: 10_000 } });
        h.cleanup.deadTokens('fcm', fakeTokens(15));
        assert.equal(h.cleanup.stats().pending, 10);
        assert.equal(await deletions('dropped'), 5);
        assert.equal(await deletions('requested'), 10);
        const warn = h.logger.at('warn').find((e) => JSON.stringify(e.entry).includes('outbox full'));
        assert.ok(warn, 'the drop was logged');
        assert.equal((warn.entry as { dropped: number }).dropped, 5);
    });

    it('drain sends at once, and reports what is left at the deadline', async () => {
        const tokens = fakeTokens(30);
        h = await startHarness({ fake: { subscriptions: tokens }, outbox: { batchWaitMs: 60_000 } });
        h.cleanup.deadTokens('fcm', tokens.slice(0, 10));
        const t0 = Date.now();
        assert.deepEqual(await h.cleanup.drain(soon()), { pending: 0 });
        assert.ok(Date.now() - t0 < 2000, 'drain did not wait for the batch to fill');

        h.fake.setOutage(true);
        h.cleanup.deadTokens('fcm', tokens.slice(10));
        const left = await h.cleanup.drain(Date.now() + 300);
        assert.equal(left.pending, 20);
        assert.equal(h.fake.deletedTokens.length, 10);
    });

    it('gives up after the configured attempts when the password is wrong, and says so', async () => {
        h = await startHarness({ password: 'wrong-password-123', outbox: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 10 } });
        h.cleanup.deadTokens('fcm', fakeTokens(3));
        await h.cleanup.drain(soon());
        assert.equal(h.fake.logins.length, 3);
        assert.ok(h.fake.logins.every((l) => l.result === 'Failed'));
        assert.equal(h.fake.deleteCalls.length, 0);
        assert.equal(await logins('failed'), 3);
        assert.equal(await deletions('gave_up'), 3);
        assert.ok(h.logger.at('error').some((e) => JSON.stringify(e.entry).includes('Gave up')));
    });

    it('falls back to 50 per call when the account lacks apihighlimits', async () => {
        const tokens = fakeTokens(120);
        h = await startHarness({ fake: { subscriptions: tokens }, mediawiki: { deleteChunkSize: 500 } });
        h.cleanup.deadTokens('fcm', tokens);
        await h.cleanup.drain(soon());
        assert.deepEqual(h.fake.deleteCalls.map((c) => `${c.tokens.length}:${c.result}`),
            ['120:toomanyvalues', '50:ok', '50:ok', '20:ok']);
        assert.equal(await deletions('gave_up'), 0);
    });

    it('uses up to 500 per call when configured and allowed', async () => {
        const tokens = fakeTokens(120);
        h = await startHarness({
            fake: { subscriptions: tokens, accounts: { [DEFAULT_FAKE_USER]: { password: DEFAULT_FAKE_PASSWORD, rights: ['manage-all-push-subscriptions', 'apihighlimits'] } } },
            mediawiki: { deleteChunkSize: 500 }
        });
        h.cleanup.deadTokens('fcm', tokens);
        await h.cleanup.drain(soon());
        assert.deepEqual(h.fake.deleteCalls.map((c) => c.tokens.length), [120]);
    });

    it('logs no password, cookie, CSRF token or full device token', async () => {
        const { clock, adapter } = fakeClock();
        const tokens = [...fakeTokens(70), 'pipe|token|' + 'q'.repeat(60)];
        h = await startHarness({ fake: { subscriptions: tokens.slice(0, 40) }, clock: adapter, outbox: { maxTokens: 60 } });
        h.fake.setOutage(true);
        h.cleanup.deadTokens('fcm', tokens);
        await runClock(h.cleanup, clock, () => h!.fake.requests.length >= 2, 60_000);
        h.fake.setOutage(false);
        await runClock(h.cleanup, clock, () => h!.cleanup.stats().pending === 0, 60_000);
        h.fake.expireSessions();
        h.fake.failNextDeletes(1, 'ratelimited');
        h.cleanup.deadTokens('apns', fakeTokens(3, 'late'));
        await runClock(h.cleanup, clock, () => h!.cleanup.stats().pending === 0, 60_000);

        const text = h.logger.text();
        assert.ok(text.length > 0);
        assert.ok(!text.includes(DEFAULT_FAKE_PASSWORD), 'password logged');
        const secrets = new Set<string>();
        for (const r of h.fake.requests) {
            for (const c of (r.headers.cookie ?? '').split(';')) {
                const v = c.split('=')[1];
                if (v) {
                    secrets.add(v);
                }
            }
            if (r.params.token) {
                secrets.add(r.params.token.replace(/\+\\$/, ''));
            }
            if (r.params.lgtoken) {
                secrets.add(r.params.lgtoken.replace(/\+\\$/, ''));
            }
        }
        assert.ok(secrets.size >= 3);
        for (const s of secrets) {
            assert.ok(!text.includes(s), 'a cookie or token was logged');
        }
        for (const t of [...tokens, ...fakeTokens(3, 'late')]) {
            assert.ok(!text.includes(t), 'a full device token was logged');
            assert.ok(!text.includes(t.slice(10)), 'most of a device token was logged');
        }
    });
});

/** (delivery.deletionGuard.logOnly is tested end to end in test/faults/mediawiki-storm.test.ts.) */
describe('MediaWiki subscription cleanup switched off', () => {
    it('with mediawiki.mock (development without the launcher): logs, calls no wiki', async () => {
        const tokens = fakeTokens(3);
        const h = await startHarness({ fake: { subscriptions: tokens }, mediawiki: { mock: true } });
        try {
            h.cleanup.deadTokens('apns', tokens);
            assert.deepEqual(await h.cleanup.drain(soon()), { pending: 0 });
            assert.equal(h.fake.requests.length, 0);
            assert.ok(h.logger.at('info').some((e) => JSON.stringify(e.entry).includes('mediawiki.mock')));
        } finally {
            await h.close();
        }
    });

    it('never throws into delivery, even after close', async () => {
        const h = await startHarness();
        await h.close();
        assert.doesNotThrow(() => h.cleanup.deadTokens('fcm', fakeTokens(2)));
        assert.equal(await deletions('dropped'), 2);
    });
});
