import assert from 'node:assert/strict';
import { checkInvariants, messages, push, Rig, settled, sleep, startRig, tokens, until } from './harness';

/**
 * The connection-level faults: HTTP/2 GOAWAY from APNs, both provider endpoints going away
 * and coming back on the same port, and the egress proxy refusing CONNECT. Proof: the ONE
 * long-lived provider connection of each kind recovers by itself, every accepted token is
 * delivered, nothing is given up or deleted.
 */
describe('faults: GOAWAY, provider restarts, proxy connect failures', function () {
    this.timeout(30_000);
    let rig: Rig | undefined;
    afterEach(async () => {
        await rig?.close();
        rig = undefined;
    });

    it('APNs GOAWAY between batches and in the middle of one: recovers on a new session, nothing lost', async () => {
        rig = await startRig();
        const apns = rig.fakes.apns;
        const first = tokens('apns', 'ok-', 10);
        await push(rig, 'apns', first);
        await settled('apns', 10);
        apns.goaway();
        const second = tokens('apns', 'ok-', 10);
        await push(rig, 'apns', second);
        await settled('apns', 20);
        // Now GOAWAY while a 30-token batch is streaming: the streams after the 5th are refused.
        apns.behaviour.delayMs = 50;
        apns.behaviour.goawayAfter = apns.counters.requests + 5;
        const third = tokens('apns', 'ok-', 30);
        await push(rig, 'apns', third);
        await settled('apns', 50);
        assert.equal(await messages('apns', 'delivered'), 50);
        assert.equal(await messages('apns', 'gave_up'), 0);
        assert.ok(apns.counters.sessions >= 3, `new sessions after each GOAWAY (got ${apns.counters.sessions})`);
        const got = new Set(apns.received.map((r) => r.token));
        for (const t of [...first, ...second, ...third]) {
            assert.ok(got.has(t));
        }
        await checkInvariants(rig);
    });

    it('fake APNs and fake FCM restart on the same port mid-run: recover, nothing lost', async () => {
        // Enough attempts to outlast a 300 ms outage however the jitter falls.
        rig = await startRig({ retry: { maxAttempts: 12, baseDelayMs: 50, maxDelayMs: 400 } });
        const { apns, fcm } = rig.fakes;
        const before = { apns: tokens('apns', 'ok-', 10), fcm: tokens('fcm', 'ok-', 10) };
        await push(rig, 'apns', before.apns);
        await push(rig, 'fcm', before.fcm);
        await settled('apns', 10);
        await settled('fcm', 10);
        const sessions = apns.counters.sessions;
        const connections = fcm.counters.connections;

        // A batch is in flight (answers held 300 ms) when both go down for 300 ms.
        apns.behaviour.delayMs = 300;
        fcm.behaviour.delayMs = 300;
        const during = { apns: tokens('apns', 'ok-', 20), fcm: tokens('fcm', 'ok-', 20) };
        await push(rig, 'apns', during.apns);
        await push(rig, 'fcm', during.fcm);
        await until('batches in flight', () => apns.received.length >= 30 && fcm.received.length >= 30);
        apns.behaviour.delayMs = 0;
        fcm.behaviour.delayMs = 0;
        const restarting = Promise.all([apns.restart(300), fcm.restart(300)]);
        // More arrives while they are down.
        const down = { apns: tokens('apns', 'ok-', 5), fcm: tokens('fcm', 'ok-', 5) };
        await sleep(50);
        await push(rig, 'apns', down.apns);
        await push(rig, 'fcm', down.fcm);
        await restarting;
        await settled('apns', 35);
        await settled('fcm', 35);
        assert.equal(await messages('apns', 'delivered'), 35);
        assert.equal(await messages('fcm', 'delivered'), 35);
        assert.equal(await messages('apns', 'gave_up') + await messages('fcm', 'gave_up'), 0);
        assert.ok(await messages('apns', 'retried') >= 20, 'the cut-off APNs batch was retried');
        assert.ok(await messages('fcm', 'retried') >= 1, 'the cut-off FCM batch was retried');
        assert.ok(apns.counters.sessions > sessions, 'APNs reconnected');
        assert.ok(fcm.counters.connections > connections, 'FCM reconnected');
        await checkInvariants(rig);
    });

    it('proxy refuses CONNECT (unmapped target), then the route comes back: transient, then delivered', async () => {
        rig = await startRig({ proxy: true, retry: { maxAttempts: 20, baseDelayMs: 50, maxDelayMs: 200 } });
        const proxy = rig.fakes.proxy!;
        const saved = { ...proxy.map };
        // Google (send and OAuth) and Apple all unreachable: the proxy answers 502 to CONNECT.
        for (const k of Object.keys(proxy.map)) {
            delete proxy.map[k];
        }
        const apns = tokens('apns', 'ok-', 10);
        const fcm = tokens('fcm', 'ok-', 10);
        await push(rig, 'apns', apns);
        await push(rig, 'fcm', fcm);
        await until('both providers refused at the proxy', () =>
            proxy.refused.some((t) => t.includes('apple')) && proxy.refused.some((t) => t.includes('googleapis')));
        await sleep(300); // a few refused attempts each
        assert.equal(await messages('apns', 'delivered') + await messages('fcm', 'delivered'), 0);
        Object.assign(proxy.map, saved);
        await settled('apns', 10);
        await settled('fcm', 10);
        assert.equal(await messages('apns', 'delivered'), 10);
        assert.equal(await messages('fcm', 'delivered'), 10);
        assert.equal(await messages('apns', 'gave_up') + await messages('fcm', 'gave_up'), 0);
        assert.ok(await messages('apns', 'retried') >= 10 && await messages('fcm', 'retried') >= 10, 'retried while refused');
        assert.ok(proxy.count('api.sandbox.push.apple.com:443') >= 1 && proxy.count('fcm.googleapis.com:443') >= 1);
        assert.equal(rig.fakes.fcm.counters.oauthRejected, 0, 'an unreachable token endpoint is not a refused key');
        await checkInvariants(rig);
    });

    it('proxy route to a dead address (connect refused upstream): transient, then delivered', async () => {
        rig = await startRig({ proxy: true, retry: { maxAttempts: 20, baseDelayMs: 50, maxDelayMs: 200 } });
        const proxy = rig.fakes.proxy!;
        const saved = { ...proxy.map };
        // Port 9 (discard) on loopback: nothing listens, so the proxy's upstream connect fails.
        for (const k of Object.keys(proxy.map)) {
            proxy.map[k] = '127.0.0.1:9';
        }
        await push(rig, 'apns', tokens('apns', 'ok-', 5));
        await push(rig, 'fcm', tokens('fcm', 'ok-', 5));
        await until('retries while the upstream is down', async () =>
            await messages('apns', 'retried') >= 5 && await messages('fcm', 'retried') >= 5);
        Object.assign(proxy.map, saved);
        await settled('apns', 5);
        await settled('fcm', 5);
        assert.equal(await messages('apns', 'delivered'), 5);
        assert.equal(await messages('fcm', 'delivered'), 5);
        assert.equal(await messages('apns', 'gave_up') + await messages('fcm', 'gave_up'), 0);
        await checkInvariants(rig);
    });
});
