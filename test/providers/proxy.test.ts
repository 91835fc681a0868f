import assert from 'node:assert/strict';
import { createProviders } from '../../src/providers/create-providers';
import { PushProvider, } from '../../src/providers/push-provider';
import { ProviderName } from '../../src/push/push-request';
import { ProviderFakes, startProviderFakes } from '../fakes/provider-fakes';
import { batch, byToken, configFor, newLogger } from './helpers';

describe('both providers through the egress CONNECT proxy to the TLS fakes', function () {
    this.timeout(20000);
    let fakes: ProviderFakes;
    let providers: Record<ProviderName, PushProvider> | undefined;

    before(async () => {
        fakes = await startProviderFakes({ proxy: true });
    });
    afterEach(async () => {
        if (providers) {
            await Promise.all(Object.values(providers).map((p) => p.close()));
            providers = undefined;
        }
    });
    after(async () => {
        await fakes.close();
    });

    it('reaches FCM, Google OAuth and APNs only through CONNECT tunnels, with real host names', async () => {
        const config = configFor(fakes);
        assert.equal(config.fcm.fcm_endpoint, undefined);
        assert.equal(config.apns.address, undefined);
        providers = createProviders({ config, logger: newLogger() });
        const [fcm, apns] = await Promise.all([
            providers.fcm.send(batch('fcm', ['f1', 'f2', 'dead-f3'])),
            providers.apns.send(batch('apns', ['a1', 'a2', 'dead-a3']))
        ]);
        assert.deepEqual(byToken(fcm), { f1: 'delivered:ok', f2: 'delivered:ok', 'dead-f3': 'dead:UNREGISTERED' });
        assert.deepEqual(byToken(apns), { a1: 'delivered:ok', a2: 'delivered:ok', 'dead-a3': 'dead:Unregistered' });
        const proxy = fakes.proxy!;
        assert.ok(proxy.count('oauth2.googleapis.com:443') >= 1, 'the OAuth exchange went through the proxy');
        assert.ok(proxy.count('fcm.googleapis.com:443') >= 1, 'FCM sends went through the proxy');
        assert.equal(proxy.count('api.sandbox.push.apple.com:443'), 1, 'APNs: one tunnel, one HTTP/2 session');
        assert.deepEqual(proxy.refused, []);
        assert.equal(fakes.fcm.counters.oauthExchanges, 1);
        assert.equal(fakes.fcm.assertions[0].aud, 'https://oauth2.googleapis.com/token');

        // Keep-alive: a second round opens no new tunnels for APNs and reuses FCM's.
        const fcmTunnels = proxy.count('fcm.googleapis.com:443');
        await providers.fcm.send(batch('fcm', ['f4']));
        await providers.apns.send(batch('apns', ['a4']));
        assert.equal(proxy.count('api.sandbox.push.apple.com:443'), 1);
        assert.equal(proxy.count('fcm.googleapis.com:443'), fcmTunnels);
        assert.equal(proxy.count('oauth2.googleapis.com:443'), 1);
    });

    it('goes direct for hosts in no_proxy_list', async () => {
        const before = { ...fakes.proxy!.tunnels };
        const config = configFor(fakes, {
            no_proxy_list: ['127.0.0.1'],
            apns: { address: '127.0.0.1', port: fakes.apns.port }
        });
        providers = createProviders({ config, logger: newLogger() });
        const results = await providers.apns.send(batch('apns', ['direct-1']));
        assert.deepEqual(byToken(results), { 'direct-1': 'delivered:ok' });
        assert.deepEqual(fakes.proxy!.tunnels, before);
    });

    it('a proxy that refuses the tunnel makes every token transient', async () => {
        const proxy = fakes.proxy!;
        const saved = proxy.map['api.sandbox.push.apple.com:443'];
        delete proxy.map['api.sandbox.push.apple.com:443'];
        try {
            providers = createProviders({ config: configFor(fakes), logger: newLogger() });
            const results = await providers.apns.send(batch('apns', ['x1', 'x2']));
            assert.deepEqual(results.map((r) => r.outcome), ['transient', 'transient']);
        } finally {
            proxy.map['api.sandbox.push.apple.com:443'] = saved;
        }
    });
});
