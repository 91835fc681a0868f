import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadServiceConfig } from '../../src/config/service-config';

/** Config is validated once at start-up; a wrong value stops the service naming the key. */
describe('service config', () => {
    it('fills in defaults', () => {
        const c = loadServiceConfig({}, { env: {} });
        assert.equal(c.port, 8900);
        assert.equal(c.max_body_size, 100 * 1024);
        assert.deepEqual(c.message_types, ['checkEchoV1']);
        assert.equal(c.max_device_tokens, 500);
        assert.equal(c.cors, false);
        assert.equal(c.shutdown_timeout, 25);
        assert.equal(c.queueing.flushTimeoutMs, 10000);
        assert.ok(c.user_agent.includes('https://'), 'the default User-Agent carries contact details');
    });

    it('keeps the original service keys working', () => {
        const c = loadServiceConfig({
            port: 6927, interface: 'localhost', cors: '*', csp: false, max_body_size: '1mb',
            user_agent: 'PushNotifications/1 (ops@example.org)', proxy: 'http://proxy.example:8080',
            no_proxy_list: ['api.svc'], restbase_req: { uri: 'x' }, debug: true,
            mwapi_req: { method: 'post', uri: 'https://meta.wikimedia.org/w/api.php',
                headers: { 'user-agent': '{{user-agent}}' }, body: '{{ default(request.query, {}) }}' },
            mw_subscription_manager_username: 'Bot@push', mw_subscription_manager_password: 'pw',
            apns: { mock: true, production: true, debug_topics: ['org.example'] },
            queueing: { flushTimeoutMs: 'random', flushTimeoutMin: 1000, flushTimeoutMax: 5000, maxSize: 250, verbose: true },
            express_rate_limiter: { windowMs: 1000, max: 1 }
        }, { env: {} });
        assert.equal(c.max_body_size, 1024 * 1024);
        assert.equal(c.cors, '*');
        assert.equal(c.csp, false);
        assert.equal(c.queueing.flushTimeoutMax, 5000);
        assert.equal(c.mw_subscription_manager_password, 'pw');
        assert.equal((c as unknown as Record<string, unknown>).restbase_req, undefined);
    });

    it('is frozen, so nothing can mutate it after start-up', () => {
        const c = loadServiceConfig({}, { env: {} });
        assert.throws(() => {
            (c.queueing as { maxSize: number }).maxSize = 1;
        }, TypeError);
    });

    it('does not change the object it was given', () => {
        const conf = { queueing: { maxSize: 10 } };
        loadServiceConfig(conf, { env: {} });
        assert.deepEqual(conf, { queueing: { maxSize: 10 } });
    });

    it('reads the MediaWiki password from a file or the environment', () => {
        const dir = mkdtempSync(path.join(tmpdir(), 'pn-config-'));
        writeFileSync(path.join(dir, 'pw'), 'from-file\n');
        assert.equal(loadServiceConfig({ mw_subscription_manager_password_file: path.join(dir, 'pw') }, { env: {} })
            .mw_subscription_manager_password, 'from-file');
        assert.equal(loadServiceConfig({}, { env: { MW_SUBSCRIPTION_MANAGER_PASSWORD: 'from-env' } })
            .mw_subscription_manager_password, 'from-env');
        assert.throws(() => loadServiceConfig({ mw_subscription_manager_password_file: path.join(dir, 'missing') },
            { env: {} }), /mw_subscription_manager_password_file: cannot read/);
    });

    const bad: [string, Record<string, unknown>, RegExp][] = [
        ['a port out of range', { port: 70000 }, /config: port: must be <= 65535/],
        ['a string port', { port: '8900' }, /config: port: must be integer/],
        ['an unknown top-level key', { prot: 8900 }, /config: prot: unknown key/],
        ['an unknown nested key', { queueing: { maxsize: 3 } }, /config: queueing\.maxsize: unknown key/],
        ['a bad flush timeout', { queueing: { flushTimeoutMs: 'sometimes' } }, /config: queueing\.flushTimeoutMs: /],
        ["'random' without bounds", { queueing: { flushTimeoutMs: 'random' } }, /queueing\.flushTimeoutMs: 'random' needs/],
        ['max below min', { queueing: { flushTimeoutMs: 'random', flushTimeoutMin: 500, flushTimeoutMax: 100 } },
            /queueing\.flushTimeoutMax: must be >= queueing\.flushTimeoutMin/],
        ['bounds without random', { queueing: { flushTimeoutMs: 1000, flushTimeoutMin: 5 } }, /only used with flushTimeoutMs: 'random'/],
        ['a negative flush size', { queueing: { maxSize: -1 } }, /queueing\.maxSize: must be >= 1/],
        ['an unreadable body size', { max_body_size: 'lots' }, /config: max_body_size: /],
        ['no message types', { message_types: [] }, /config: message_types: must NOT have fewer than 1 items/],
        ['a proxy that is not a URL', { proxy: 'proxy:8080' }, /config: proxy: must match pattern/],
        ['a rate limiter without max', { express_rate_limiter: { windowMs: 1000 } }, /express_rate_limiter: must have required property 'max'/],
        ['a bad login method', { mediawiki: { loginMethod: 'oauth' } }, /mediawiki\.loginMethod: must be one of/],
        ['both APNs auth kinds', { apns: { cert: 'c.p12', token: { key: 'k.p8', keyId: 'K', teamId: 'T' } } }, /apns: set either/]
    ];
    for (const [what, conf, expected] of bad) {
        it(`refuses ${what}, naming the key`, () => {
            assert.throws(() => loadServiceConfig(conf, { env: {} }), expected);
        });
    }
});
