import assert from 'node:assert/strict';
import { ConfigError } from '../../src/config/config-error';
import { loadServiceConfig } from '../../src/config/service-config';
import { MockProvider, ProviderRegistry, UnconfiguredProvider } from '../../src/providers/registry';
import { apnsToken, apnsTokenLabel } from '../fakes/apns-server';
import { ProviderFakes, startProviderFakes } from '../fakes/provider-fakes';
import { metricValue } from '../helpers/metrics';
import { startTestService, testConf } from '../helpers/service-harness';
import { batch, byToken, createProviders, newLogger, sendAll } from './helpers';

function registry(conf: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): ProviderRegistry {
    const config = loadServiceConfig(testConf(conf), { env });
    return new ProviderRegistry({ instances: config.providerInstances, egress: config, userAgent: config.user_agent, logger: newLogger(), env });
}

describe('provider registry: kind separate from instance', () => {
    it('the legacy blocks define ids apns, fcm and webpush; without credentials each answers config_error NotConfigured', async () => {
        const providers = createProviders({ config: loadServiceConfig(testConf(), { env: {} }), logger: newLogger(), env: {} });
        for (const id of ['apns', 'fcm', 'webpush'] as const) {
            assert.ok(providers[id] instanceof UnconfiguredProvider, id);
        }
        assert.deepEqual(byToken(await sendAll(providers.apns, batch('apns', ['t']))), { t: 'config_error:NotConfigured' });
        assert.deepEqual(byToken(await sendAll(providers.fcm, batch('fcm', ['t']))), { t: 'config_error:NotConfigured' });
    });

    it('mock: true delivers without any network', async () => {
        const providers = createProviders({ config: loadServiceConfig(testConf({ fcm: { mock: true }, apns: { mock: true } })), logger: newLogger() });
        assert.ok(providers.fcm instanceof MockProvider);
        assert.deepEqual(byToken(await sendAll(providers.apns, batch('apns', ['t']))), { t: 'delivered:mock' });
    });

    it('providers: adds instances with their own limits; delivery.* are the defaults', () => {
        const config = loadServiceConfig(testConf({
            delivery: { concurrency: { apns: 3 }, retry: { maxAttempts: 4 }, deletionGuard: { minDeadTokens: 50 } },
            providers: {
                'apns-sandbox': { kind: 'apns', production: false, topic: 'org.example.app', concurrency: 7, retry: { maxAttempts: 2 } },
                'fcm-other': { kind: 'fcm', mock: true, deletionGuard: { windowMs: 60000 } }
            }
        }), { env: {} });
        const byId = new Map(config.providerInstances.map((p) => [p.id, p]));
        assert.deepEqual([...byId.keys()], ['apns', 'fcm', 'webpush', 'apns-sandbox', 'fcm-other']);
        assert.equal(byId.get('apns')?.concurrency, 3, 'delivery.concurrency.apns is the kind default');
        assert.equal(byId.get('apns-sandbox')?.concurrency, 7);
        assert.equal(byId.get('apns-sandbox')?.retry.maxAttempts, 2);
        assert.equal(byId.get('apns-sandbox')?.retry.baseDelayMs, 2000, 'the other retry keys inherited');
        assert.equal(byId.get('apns')?.retry.maxAttempts, 4);
        assert.equal(byId.get('fcm-other')?.deletionGuard.windowMs, 60000);
        assert.equal(byId.get('fcm-other')?.deletionGuard.minDeadTokens, 50);
        assert.equal(byId.get('apns-sandbox')?.kind, 'apns');
        assert.equal((byId.get('apns-sandbox')?.settings as { clientCount: number }).clientCount, 1, 'the kind schema\'s defaults');
    });

    const bad: [string, Record<string, unknown>, string, RegExp][] = [
        ['an id defined twice', { apns: { mock: true }, providers: { apns: { kind: 'apns' } } }, 'providers.apns', /defined twice/],
        ['an unknown kind', { providers: { x: { kind: 'huawei' } } }, 'providers.x.kind', /must be one of/],
        ['a key of another kind', { providers: { x: { kind: 'fcm', topic: 'org.a' } } }, 'providers.x.topic', /unknown key/],
        ['a bad id', { providers: { 'Bad Id': { kind: 'fcm' } } }, 'providers', /must match pattern|property name/],
        ['an unknown provider for MongoosePush', { mongoosepush: { fcm: 'nope' } }, 'mongoosepush.fcm', /unknown provider id/]
    ];
    for (const [what, conf, key, message] of bad) {
        it(`stops start-up on ${what}, naming the key`, async () => {
            const err = await startTestService(conf).then(async (s) => {
                await s.close();
                return undefined;
            }, (e: unknown) => e);
            assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
            assert.ok(err.key.startsWith(key), `key ${err.key}`);
            assert.match(err.message, message);
        });
    }

    it('an unreadable key file fails at start, naming the key', () => {
        assert.throws(() => registry({ apns: { token: { key: '/nonexistent/AuthKey.p8', keyId: 'K', teamId: 'T' } } }),
            (e: unknown) => e instanceof ConfigError && e.key === 'apns.token.key');
        assert.throws(() => registry({ providers: { s: { kind: 'apns', token: { key: '/nonexistent/AuthKey.p8', keyId: 'K', teamId: 'T' } } } }),
            (e: unknown) => e instanceof ConfigError && e.key === 'providers.s.token.key');
    });
});

describe('two APNs instances side by side (sandbox and production), each with its own connections and metrics', function () {
    this.timeout(20000);
    let fakes: ProviderFakes;
    before(async () => {
        fakes = await startProviderFakes();
    });
    after(async () => {
        await fakes.close();
    });

    it('MongoosePush mode prod goes to one, dev to the other; separate metrics, separate sessions', async () => {
        const sandbox = { ...fakes.conf.apns, kind: 'apns', production: false, topic: 'org.example.sandbox' };
        const svc = await startTestService({
            ...fakes.conf,
            apns: { ...fakes.conf.apns, production: true },
            providers: { 'apns-sandbox': sandbox },
            mongoosepush: { apns: { prod: 'apns', dev: 'apns-sandbox' } }
        });
        try {
            const post = (mode: string, token: string) => fetch(`${svc.baseUrl}/v3/notification/${token}`, {
                method: 'POST', headers: { 'content-type': 'application/json' },
                body: JSON.stringify({ service: 'apns', mode, alert: { title: 'Hi', body: 'there' } })
            });
            assert.equal((await post('prod', apnsToken('p-1'))).status, 200);
            assert.equal((await post('dev', apnsToken('s-1'))).status, 200);
            assert.equal((await post('dev', apnsToken('dead-s2'))).status, 410);
            const seen = fakes.apns.received.map((r) => `${apnsTokenLabel(r.token)}@${String(r.headers['apns-topic'])}`).sort();
            assert.deepEqual(seen, ['dead-s2@org.example.sandbox', 'p-1@org.wikimedia.wikipedia', 's-1@org.example.sandbox']);
            assert.equal(new Set(fakes.apns.received.map((r) => r.session)).size, 2, 'one HTTP/2 session per instance');
            const answers = 'push_notifications_provider_answers_total';
            assert.equal(await metricValue(answers, { provider: 'apns', kind: 'apns', outcome: 'delivered' }), 1);
            assert.equal(await metricValue(answers, { provider: 'apns-sandbox', kind: 'apns', outcome: 'delivered' }), 1);
            assert.equal(await metricValue(answers, { provider: 'apns-sandbox', kind: 'apns', outcome: 'dead' }), 1);
            assert.equal(await metricValue(answers, { provider: 'apns', kind: 'apns', outcome: 'dead' }), 0);
        } finally {
            await svc.close();
        }
    });
});
