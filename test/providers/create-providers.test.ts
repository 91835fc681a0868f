import assert from 'node:assert/strict';
import { loadServiceConfig } from '../../src/config/service-config';
import { ConfigError } from '../../src/config/config-error';
import { createProviders, MockProvider, UnconfiguredProvider } from '../../src/providers/create-providers';
import { testConf } from '../helpers/service-harness';
import { batch, byToken, newLogger } from './helpers';

describe('createProviders', () => {
    it('without credentials, each provider answers config_error NotConfigured', async () => {
        const providers = createProviders({ config: loadServiceConfig(testConf()), logger: newLogger(), env: {} });
        assert.ok(providers.fcm instanceof UnconfiguredProvider);
        assert.ok(providers.apns instanceof UnconfiguredProvider);
        assert.deepEqual(byToken(await providers.apns.send(batch('apns', ['t']))), { t: 'config_error:NotConfigured' });
        assert.deepEqual(byToken(await providers.fcm.send(batch('fcm', ['t']))), { t: 'config_error:NotConfigured' });
    });

    it('mock: true delivers without any network', async () => {
        const providers = createProviders({ config: loadServiceConfig(testConf({ fcm: { mock: true }, apns: { mock: true } })), logger: newLogger() });
        assert.ok(providers.fcm instanceof MockProvider);
        assert.deepEqual(byToken(await providers.apns.send(batch('apns', ['t']))), { t: 'delivered:mock' });
    });

    it('an unreadable key file fails at start, naming the key', () => {
        const config = loadServiceConfig(testConf({ apns: { token: { key: '/nonexistent/AuthKey.p8', keyId: 'K', teamId: 'T' } } }));
        assert.throws(() => createProviders({ config, logger: newLogger() }), (e: unknown) => e instanceof ConfigError && e.key === 'apns.token.key');
    });

    it('defaults: no node-apn internal retries, 100 FCM sockets', () => {
        const config = loadServiceConfig(testConf());
        assert.equal(config.apns.connectionRetryLimit, 0);
        assert.equal(config.fcm.max_sockets, 100);
    });
});
