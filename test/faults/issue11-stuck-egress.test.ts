import assert from 'node:assert/strict';
import { BlackHole } from '../fakes/black-hole';
import { metricValue } from '../helpers/metrics';
import { checkInvariants, messages, MW_DELETIONS, push, Rig, settled, sleep, startRig, tokens, until } from './harness';

/**
 * Issue 11 §3, end to end: an egress path that accepts connections and never answers must
 * not stall delivery for good. Every outbound step has a deadline; a call that hits one is
 * transient (its tokens are retried, its slot freed), logged and counted; a provider that has
 * got no answer at all for `delivery.stallAfterMs` shows in provider_stalled and in /readyz's
 * body, while /readyz stays 200 (a stuck egress path hits every pod alike: taking them all out
 * of the Service would refuse every Echo request, and Echo does not retry); once the path
 * heals, delivery resumes by itself.
 *
 * Deadlines are short here; bounds on what the test waits for are generous (2 busy cores):
 * nothing below is a speed claim, only "bounded" against "waits forever".
 */
const DURATION = 'push_notifications_provider_request_duration_seconds';
const CALL_TIMEOUTS = 'push_notifications_provider_call_timeouts_total';
const STALLED = 'push_notifications_provider_stalled';

/** Keep retrying for as long as the test needs (the black hole is healed after several seconds). */
const PATIENT = { maxAttempts: 100, baseDelayMs: 50, maxDelayMs: 300, maxAgeMs: 120_000 };

/** Every provider call of `provider` ended within `seconds` (a histogram bucket): none waited without a bound. */
async function allCallsWithin(provider: string, seconds: string): Promise<number> {
    const count = await metricValue(`${DURATION}_count`, { provider });
    const within = await metricValue(`${DURATION}_bucket`, { provider, le: seconds });
    assert.equal(within, count, `${provider}: ${count - within} of ${count} calls took longer than ${seconds} s`);
    return count;
}

async function readyz(rig: Rig): Promise<{ status: number; body: { status: string; stalled?: string[] } }> {
    const res = await fetch(`${rig.svc.baseUrl}/readyz`);
    return { status: res.status, body: await res.json() as { status: string; stalled?: string[] } };
}

describe('issue 11 §3: a silent egress path never stalls delivery for good', function () {
    this.timeout(60_000);
    let rig: Rig | undefined;
    let hole: BlackHole | undefined;
    afterEach(async () => {
        await rig?.close();
        await hole?.close();
        rig = undefined;
        hole = undefined;
    });

    it('a black-hole proxy: calls end at their deadlines, tokens retried, stalled shown (readyz stays 200), delivered once healed', async () => {
        hole = await BlackHole.start();
        rig = await startRig({
            proxy: true, // the fakes' CONNECT proxy: where the black hole relays to once healed
            conf: { proxy: hole.url },
            retry: PATIENT,
            delivery: { callTimeoutMs: 800, stallAfterMs: 1000 },
            // APNs: its own connect deadline (proxy CONNECT included) ends the call first.
            apns: { connectTimeoutMs: 300, requestTimeoutMs: 300 },
            // FCM: its own deadline is longer than the call's, so the call deadline (the
            // backstop for whatever a client might still wait on) ends the call first.
            fcm: { requestTimeoutMs: 3000 }
        });
        const apns = tokens('apns', 'ok-', 5);
        const fcm = tokens('fcm', 'ok-', 5);
        await push(rig, 'apns', apns);
        await push(rig, 'fcm', fcm);

        await until('both providers stalled', async () =>
            await metricValue(STALLED, { provider: 'apns' }) === 1 && await metricValue(STALLED, { provider: 'fcm' }) === 1, 20_000);
        assert.equal(await messages('apns', 'delivered') + await messages('fcm', 'delivered'), 0, 'nothing got through the black hole');
        assert.ok(hole.firstBytes.some((b) => b.startsWith('CONNECT api.sandbox.push.apple.com:443')), 'APNs was stuck at the proxy CONNECT');
        assert.ok(hole.firstBytes.some((b) => /^CONNECT (fcm|oauth2)\.googleapis\.com:443/.test(b)), 'FCM was stuck at the proxy CONNECT');
        // Retried, not given up; each kind of deadline moved its own counter.
        assert.ok(await messages('apns', 'retried', 'timeout') >= 5, 'APNs tokens retried after their connect deadline');
        assert.ok(await messages('fcm', 'retried', 'call_deadline') >= 5, 'FCM tokens retried after the call deadline');
        assert.ok(await metricValue(CALL_TIMEOUTS, { provider: 'fcm' }) >= 1, 'provider_call_timeouts_total moved');
        assert.equal(await messages('apns', 'gave_up') + await messages('fcm', 'gave_up'), 0);
        // No call waited past its deadline (800 ms; the bucket is 2.5 s: generous, not a speed claim).
        assert.ok(await allCallsWithin('apns', '2.5') >= 2 && await allCallsWithin('fcm', '2.5') >= 2, 'several calls, each bounded');
        // More calls than concurrency slots (4 per provider): each stuck call gave its slot back.
        await until('more FCM and APNs calls than slots', async () =>
            await metricValue(`${DURATION}_count`, { provider: 'fcm' }) > 4 && await metricValue(`${DURATION}_count`, { provider: 'apns' }) > 4, 20_000);

        const stuck = await readyz(rig);
        assert.equal(stuck.status, 200, 'a stuck egress path does not make the pod unready');
        assert.equal(stuck.body.status, 'ready');
        assert.deepEqual([...stuck.body.stalled ?? []].sort(), ['apns', 'fcm']);
        const stallLines = rig.svc.logger.at('error').filter((e) => JSON.stringify(e.entry).includes('stuck egress'));
        assert.deepEqual(stallLines.map((e) => (e.entry as { provider: string }).provider).sort(), ['apns', 'fcm'], 'logged once per provider');
        assert.ok(rig.svc.logger.at('warn').some((e) => /deadline/.test(JSON.stringify(e.entry))), 'the deadlines are logged');

        // Heal: new connections through the black hole reach the fakes' proxy.
        hole.heal(`127.0.0.1:${rig.fakes.proxy!.port}`);
        await settled('apns', 5, 30_000);
        await settled('fcm', 5, 30_000);
        assert.equal(await messages('apns', 'delivered'), 5);
        assert.equal(await messages('fcm', 'delivered'), 5);
        assert.equal(await messages('apns', 'gave_up') + await messages('fcm', 'gave_up'), 0);
        assert.ok(hole.counters.relayed >= 2, 'delivered through the healed path');
        for (const provider of ['apns', 'fcm']) {
            assert.equal(await metricValue('push_notifications_deliveries_in_flight', { provider }), 0, `${provider}: no call left holding a slot`);
        }
        await until('no longer stalled', async () =>
            await metricValue(STALLED, { provider: 'apns' }) === 0 && await metricValue(STALLED, { provider: 'fcm' }) === 0);
        const healed = await readyz(rig);
        assert.equal(healed.status, 200);
        assert.deepEqual(healed.body, { status: 'ready' });
        assert.ok(rig.svc.logger.at('info').some((e) => JSON.stringify(e.entry).includes('the push service answers again')));
        await checkInvariants(rig);
    });

    it('a black-hole TLS server behind a working proxy (CONNECT answered, no handshake): bounded, retried, delivered once the route is back', async () => {
        hole = await BlackHole.start();
        rig = await startRig({
            proxy: true,
            retry: PATIENT,
            delivery: { callTimeoutMs: 800, stallAfterMs: 1000 },
            apns: { connectTimeoutMs: 300, requestTimeoutMs: 300 },
            fcm: { requestTimeoutMs: 300 }
        });
        const proxy = rig.fakes.proxy!;
        const saved = { ...proxy.map };
        for (const k of Object.keys(proxy.map)) {
            proxy.map[k] = hole.hostPort;
        }
        await push(rig, 'apns', tokens('apns', 'ok-', 3));
        await push(rig, 'fcm', tokens('fcm', 'ok-', 3));
        await until('retries after the TLS handshake deadline', async () =>
            await messages('apns', 'retried', 'timeout') >= 3 && await messages('fcm', 'retried') >= 3, 20_000);
        assert.ok(hole.firstBytes.some((b) => b.startsWith('\x16\x03')), 'the black hole got a TLS ClientHello and never answered it');
        assert.equal(await messages('apns', 'delivered') + await messages('fcm', 'delivered'), 0);
        await allCallsWithin('apns', '2.5');
        await allCallsWithin('fcm', '2.5');
        Object.assign(proxy.map, saved);
        await settled('apns', 3, 30_000);
        await settled('fcm', 3, 30_000);
        assert.equal(await messages('apns', 'delivered'), 3);
        assert.equal(await messages('fcm', 'delivered'), 3);
        assert.equal(await messages('apns', 'gave_up') + await messages('fcm', 'gave_up'), 0);
        await checkInvariants(rig);
    });

    it('a MediaWiki that never answers: every call ends at its deadline, deletions retried a bounded number of times, then given up', async () => {
        rig = await startRig({
            conf: {
                mediawiki: {
                    requestTimeoutMs: 1000,
                    outbox: { baseDelayMs: 20, maxDelayMs: 100, batchWaitMs: 10, maxAttempts: 3, maxAgeMs: 120_000 }
                }
            }
        });
        const { wiki } = rig;
        wiki.setStall('silent');
        const dead = [...tokens('apns', 'dead-', 3), ...tokens('fcm', 'dead-', 3)];
        await push(rig, 'apns', [...dead.slice(0, 3), ...tokens('apns', 'ok-', 2)]);
        await push(rig, 'fcm', [...dead.slice(3), ...tokens('fcm', 'ok-', 2)]);
        await settled('apns', 5);
        await settled('fcm', 5);
        // Delivery is not held up by the wiki.
        assert.equal(await messages('apns', 'delivered') + await messages('fcm', 'delivered'), 4);

        await until('every deletion given up after its attempts', async () =>
            await metricValue(MW_DELETIONS, { result: 'gave_up' }) === 6, 30_000);
        assert.ok(await metricValue(MW_DELETIONS, { result: 'retried' }) >= 6, 'retried before giving up');
        assert.ok(await metricValue('push_notifications_mediawiki_request_failures_total', { reason: 'timeout' }) >= 3,
            'each stuck call ended at its deadline and was counted');
        assert.ok(wiki.stalledRequests >= 3);
        assert.equal(await metricValue('push_notifications_mediawiki_outbox_tokens'), 0, 'nothing left waiting');
        assert.deepEqual(wiki.deletedTokens, []);
        await until('the client closed every connection it gave up on', () => wiki.openConnections === 0, 10_000);
        const gaveUp = rig.svc.logger.at('error').filter((e) => e.component === 'mediawiki' && /Gave up deleting/.test(JSON.stringify(e.entry)));
        assert.equal(gaveUp.reduce((n, e) => n + (e.entry as { tokens: number }).tokens, 0), 6, 'the give-ups are logged, with counts');
        assert.ok(rig.svc.logger.at('warn').some((e) => e.component === 'mediawiki' && /timed out after 1000 ms/.test(JSON.stringify(e.entry))),
            'the deadline is named in the log');

        // The wiki is back: the next dead token is deleted.
        wiki.setStall('none');
        const late = tokens('apns', 'dead-', 1);
        await push(rig, 'apns', late);
        await until('deleted once the wiki answers', () => wiki.deletedTokens.length === 1, 15_000);
        assert.deepEqual(wiki.deletedTokens, late);
        await sleep(100);
        await checkInvariants(rig, late);
    });
});
