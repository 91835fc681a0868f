import assert from 'node:assert/strict';
import { ApnsProvider } from '../../src/providers/apns/apns-provider';
import { PushProvider } from '../../src/push/provider';
import { TestLogger } from '../helpers/test-logger';
import { apnsToken as T } from '../fakes/apns-server';
import { BlackHole } from '../fakes/black-hole';
import { ProviderFakes, startProviderFakes } from '../fakes/provider-fakes';
import { apnsBatch, apnsFrom, outcomes, sendAndCollect } from './apns-helpers';
import { batch, byToken, configFor, createProviders, sendAll } from './helpers';

describe('both providers through the egress CONNECT proxy to the TLS fakes', function () {
    this.timeout(20000);
    let fakes: ProviderFakes;
    const open: PushProvider[] = [];

    before(async () => {
        fakes = await startProviderFakes({ proxy: true });
    });
    afterEach(async () => {
        await Promise.all(open.splice(0).map((p) => p.close()));
    });
    after(async () => {
        await fakes.close();
    });

    function apns(overrides: Record<string, unknown> = {}, logger = new TestLogger()): PushProvider {
        const p = apnsFrom(configFor(fakes, overrides), logger);
        open.push(p);
        return p;
    }

    it('reaches FCM, Google OAuth and APNs only through CONNECT tunnels, with real host names and the private CA', async () => {
        const config = configFor(fakes);
        assert.equal(config.fcm.fcm_endpoint, undefined);
        assert.equal(config.apns.address, undefined);
        assert.ok(config.apns.ca, 'the fakes\' private CA, trusted through the tunnel without touching tls.connect');
        const fcm = createProviders({ config, logger: new TestLogger() }).fcm;
        open.push(fcm);
        const a = apns();
        const [fcmResults, apnsResults] = await Promise.all([
            sendAll(fcm, batch('fcm', ['f1', 'f2', 'dead-f3'])),
            sendAndCollect(a, apnsBatch([T('a1'), T('a2'), T('dead-a3')]))
        ]);
        assert.deepEqual(byToken(fcmResults), { f1: 'delivered:ok', f2: 'delivered:ok', 'dead-f3': 'dead:UNREGISTERED' });
        assert.deepEqual(outcomes(apnsResults), { [T('a1')]: 'delivered:ok', [T('a2')]: 'delivered:ok', [T('dead-a3')]: 'dead:Unregistered' });
        const proxy = fakes.proxy!;
        assert.ok(proxy.count('oauth2.googleapis.com:443') >= 1, 'the OAuth exchange went through the proxy');
        assert.ok(proxy.count('fcm.googleapis.com:443') >= 1, 'FCM sends went through the proxy');
        assert.equal(proxy.count('api.sandbox.push.apple.com:443'), 1, 'APNs: one tunnel, one HTTP/2 session');
        assert.deepEqual(proxy.refused, []);
        assert.equal(fakes.fcm.counters.oauthExchanges, 1);
        assert.equal(fakes.fcm.assertions[0].aud, 'https://oauth2.googleapis.com/token');
        assert.equal(fakes.apns.received[0].headers[':authority'], 'api.sandbox.push.apple.com');

        // Keep-alive: a second round opens no new tunnels for APNs and reuses FCM's.
        const fcmTunnels = proxy.count('fcm.googleapis.com:443');
        await sendAll(fcm, batch('fcm', ['f4']));
        await sendAndCollect(a, apnsBatch([T('a4')]));
        assert.equal(proxy.count('api.sandbox.push.apple.com:443'), 1);
        assert.equal(proxy.count('fcm.googleapis.com:443'), fcmTunnels);
        assert.equal(proxy.count('oauth2.googleapis.com:443'), 1);
    });

    it('goes direct for hosts in no_proxy_list', async () => {
        const before = { ...fakes.proxy!.tunnels };
        const p = apns({ no_proxy_list: ['127.0.0.1'], apns: { address: '127.0.0.1', port: fakes.apns.port } });
        const c = await sendAndCollect(p, apnsBatch([T('direct-1')]));
        assert.deepEqual(outcomes(c), { [T('direct-1')]: 'delivered:ok' });
        assert.deepEqual(fakes.proxy!.tunnels, before);
    });

    it('a proxy that refuses the tunnel makes every token transient, logged once for the call with the proxy\'s answer', async () => {
        const proxy = fakes.proxy!;
        const saved = proxy.map['api.sandbox.push.apple.com:443'];
        delete proxy.map['api.sandbox.push.apple.com:443'];
        try {
            const logger = new TestLogger();
            const c = await sendAndCollect(apns({}, logger), apnsBatch([T('x1'), T('x2')]));
            assert.deepEqual(Object.values(outcomes(c)), ['transient:connection-error', 'transient:connection-error']);
            const lines = logger.at('warn').filter((e) => JSON.stringify(e.entry).includes('no answer'));
            assert.equal(lines.length, 1);
            assert.match(JSON.stringify(lines[0].entry), /502 to CONNECT api\.sandbox\.push\.apple\.com:443/);
        } finally {
            proxy.map['api.sandbox.push.apple.com:443'] = saved;
        }
    });

    it('a proxy that accepts and never answers CONNECT: tokens come back transient timeout within connectTimeoutMs; once the proxy works, the next batch is delivered', async () => {
        const hole = await BlackHole.start();
        try {
            const logger = new TestLogger();
            const p = apns({ proxy: `http://127.0.0.1:${hole.port}`, apns: { connectTimeoutMs: 400 } }, logger);
            const t0 = Date.now();
            const c = await sendAndCollect(p, apnsBatch([T('bh-1'), T('bh-2'), T('bh-3')]));
            const took = Date.now() - t0;
            assert.deepEqual(Object.values(outcomes(c)), Array(3).fill('transient:timeout'));
            assert.ok(took >= 350 && took < 2000, `settled after ${took} ms`);
            assert.equal(hole.counters.swallowed, 1);
            const lines = logger.at('warn').filter((e) => JSON.stringify(e.entry).includes('deadline'));
            assert.equal(lines.length, 1, 'one line for the call');
            assert.equal((lines[0].entry as { count: number; stage: string }).count, 3);
            assert.equal((lines[0].entry as { stage: string }).stage, 'proxy CONNECT');
            const failing = (p as ApnsProvider).egressStatus;
            assert.ok(failing.failingSince !== undefined && failing.failingSince >= t0, 'the stuck egress path shows');

            hole.heal(`127.0.0.1:${fakes.proxy!.port}`);
            const after = await sendAndCollect(p, apnsBatch([T('bh-4')]));
            assert.deepEqual(outcomes(after), { [T('bh-4')]: 'delivered:ok' });
            assert.equal(hole.counters.relayed, 1);
            assert.equal((p as ApnsProvider).egressStatus.failingSince, undefined);
            assert.ok((p as ApnsProvider).egressStatus.lastAnswerAt! >= t0);
        } finally {
            await hole.close();
        }
    });
});
