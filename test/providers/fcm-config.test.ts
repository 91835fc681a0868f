import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ConfigError } from '../../src/config/config-error';
import { FcmConfig } from '../../src/config/sections/providers';
import { loadServiceConfig } from '../../src/config/service-config';
import { createFcmProvider, FcmProvider } from '../../src/providers/fcm/fcm-provider';
import { createServiceAccount } from '../fakes/tls';
import { testConf } from '../helpers/service-harness';
import { newLogger } from './helpers';

describe('FCM config and createFcmProvider', () => {
    let dir: string;
    let goodSa: string;
    const sa = createServiceAccount('cfg-project', 'https://oauth2.googleapis.com/token').serviceAccount;
    const open: FcmProvider[] = [];
    const deps = { logger: newLogger(), egress: { no_proxy_list: [] }, userAgent: 'ua/1', env: {} };
    const base = (c: Partial<FcmConfig>): FcmConfig => ({ mock: false, max_sockets: 10, requestTimeoutMs: 1000, ...c });
    const file = (name: string, content: string): string => {
        const f = path.join(dir, name);
        writeFileSync(f, content);
        return f;
    };
    const throwsKey = (fn: () => unknown, key: string, problem: RegExp): void => {
        assert.throws(fn, (e: unknown) => {
            assert.ok(e instanceof ConfigError, String(e));
            assert.equal(e.key, key);
            assert.match(e.message, problem);
            return true;
        });
    };

    before(() => {
        dir = mkdtempSync(path.join(tmpdir(), 'fcm-config-'));
        goodSa = file('sa.json', JSON.stringify(sa));
    });
    after(async () => {
        await Promise.all(open.map((p) => p.close()));
        rmSync(dir, { recursive: true, force: true });
    });

    it('the schema keeps every key and adds requestTimeoutMs (default 10 s)', () => {
        const config = loadServiceConfig(testConf({ fcm: { service_account: goodSa } }));
        assert.equal(config.fcm.requestTimeoutMs, 10000);
        assert.equal(config.fcm.max_sockets, 100);
        assert.equal(config.fcm.mock, false);
        const all = loadServiceConfig(testConf({
            fcm: {
                mock: false, service_account: goodSa, project_id: 'p', fcm_endpoint: 'https://127.0.0.1:1', oauth_token_uri: 'http://127.0.0.1:2/token',
                ca: goodSa, max_sockets: 5, requestTimeoutMs: 2500
            }
        }));
        assert.equal(all.fcm.requestTimeoutMs, 2500);
        assert.throws(() => loadServiceConfig(testConf({ fcm: { requestTimeoutMs: 10 } })), /requestTimeoutMs/);
    });

    it('builds from a service-account file, the project from the file unless project_id is set', () => {
        const p = createFcmProvider('fcm', base({ service_account: goodSa }), deps);
        open.push(p);
        assert.equal(p.id, 'fcm');
        assert.equal(p.kind, 'fcm');
        assert.equal((p as unknown as { url: URL }).url.pathname, '/v1/projects/cfg-project/messages:send');
        const q = createFcmProvider('android', base({ service_account: goodSa, project_id: 'other' }), deps);
        open.push(q);
        assert.equal((q as unknown as { url: URL }).url.pathname, '/v1/projects/other/messages:send');
    });

    it('falls back to GOOGLE_APPLICATION_CREDENTIALS, and names it when it is bad', () => {
        const p = createFcmProvider('fcm', base({}), { ...deps, env: { GOOGLE_APPLICATION_CREDENTIALS: goodSa } });
        open.push(p);
        throwsKey(() => createFcmProvider('fcm', base({}), { ...deps, env: { GOOGLE_APPLICATION_CREDENTIALS: '/nonexistent/sa.json' } }),
            'GOOGLE_APPLICATION_CREDENTIALS', /cannot read .*ENOENT/);
    });

    it('refuses bad files with a ConfigError naming the key', () => {
        const cfg = (f: string) => base({ service_account: f });
        throwsKey(() => createFcmProvider('fcm', base({}), deps), 'fcm.service_account', /is needed/);
        throwsKey(() => createFcmProvider('fcm', cfg('/nonexistent/sa.json'), deps), 'fcm.service_account', /cannot read/);
        throwsKey(() => createFcmProvider('fcm', cfg(file('notjson.json', '{nope')), deps), 'fcm.service_account', /not valid JSON/);
        throwsKey(() => createFcmProvider('fcm', cfg(file('array.json', '[]')), deps), 'fcm.service_account', /not a service-account file/);
        throwsKey(() => createFcmProvider('fcm', cfg(file('nokey.json', JSON.stringify({ client_email: 'a@b' }))), deps),
            'fcm.service_account', /not a service-account file/);
        throwsKey(() => createFcmProvider('fcm', cfg(file('badkey.json', JSON.stringify({ ...sa, private_key: 'not a key' }))), deps),
            'fcm.service_account', /private_key is not a PEM private key/);
        throwsKey(() => createFcmProvider('fcm', cfg(file('baduri.json', JSON.stringify({ ...sa, token_uri: 'oauth2.googleapis.com' }))), deps),
            'fcm.service_account', /token_uri/);
        const noProject: Record<string, unknown> = { ...sa };
        delete noProject.project_id;
        throwsKey(() => createFcmProvider('fcm', cfg(file('noproject.json', JSON.stringify(noProject))), deps), 'fcm.project_id', /is needed/);
        throwsKey(() => createFcmProvider('fcm', base({ service_account: goodSa, ca: '/nonexistent/ca.pem' }), deps), 'fcm.ca', /cannot read/);
        // A named instance: keys under its config path.
        throwsKey(() => createFcmProvider('android', base({ service_account: '/nonexistent/sa.json' }), { ...deps, configKey: 'providers.android' }),
            'providers.android.service_account', /cannot read/);
    });
});
