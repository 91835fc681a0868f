import assert from 'node:assert/strict';
import { ConfigError } from '../../src/config/config-error';
import { INBOUND_SECRETS_ENV } from '../../src/config/sections/operations';
import { loadServiceConfig } from '../../src/config/service-config';
import { startTestService, testConf, TestService } from '../helpers/service-harness';
import { assertProblem, JSON_HEADERS, send } from './http-helpers';
import { SecretsFile, writeSecretsFile } from './secrets-fixture';

const OLD_SECRET = 'old-shared-secret-0123456789abcdef';
const NEW_SECRET = 'new-shared-secret-fedcba9876543210';
const FCM = '/v1/message/fcm';
const BODY = JSON.stringify({ deviceTokens: ['auth-test-token'], messageType: 'checkEchoV1' });

const bearer = (secret: string): Record<string, string> => ({ ...JSON_HEADERS, authorization: `Bearer ${secret}` });

describe('inbound authentication (Authorization: Bearer <shared secret>)', function () {
    let svc: TestService;
    let file: SecretsFile;
    before(async () => {
        // Two secrets: a rotation in progress. Comments and blank lines are ignored.
        file = writeSecretsFile(`# rotated 2026-11\n${OLD_SECRET}\n\n${NEW_SECRET}\n`);
        svc = await startTestService({ inbound_auth: { secrets_file: file.path, required: true } });
    });
    after(async () => {
        await svc.close();
        file.remove();
    });

    it('accepts either secret of a rotation', async () => {
        for (const secret of [OLD_SECRET, NEW_SECRET]) {
            const res = await send(svc.baseUrl, { path: FCM, headers: bearer(secret), body: BODY });
            assert.equal(res.status, 200, res.text);
        }
    });

    it('accepts the scheme in any case', async () => {
        const res = await send(svc.baseUrl, { path: FCM, headers: { ...JSON_HEADERS, authorization: `bearer ${NEW_SECRET}` }, body: BODY });
        assert.equal(res.status, 200, res.text);
    });

    it('refuses a request without credentials: 401 problem with WWW-Authenticate', async () => {
        const res = await send(svc.baseUrl, { path: FCM, headers: JSON_HEADERS, body: BODY });
        assertProblem(res, { status: 401, detail: /Authorization: Bearer/, method: 'POST', uri: FCM }, 'missing');
        assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm="push-notifications"$/);
    });

    const wrong: [string, string][] = [
        ['a wrong secret', `Bearer ${OLD_SECRET.slice(0, -1)}x`],
        ['a prefix of a secret', `Bearer ${OLD_SECRET.slice(0, 8)}`],
        ['a secret with something appended', `Bearer ${OLD_SECRET}x`],
        ['the secret without a scheme', OLD_SECRET],
        ['Basic auth', `Basic ${Buffer.from(`user:${OLD_SECRET}`).toString('base64')}`],
        ['an empty bearer', 'Bearer '],
        ['two secrets in one header', `Bearer ${OLD_SECRET} ${NEW_SECRET}`]
    ];
    for (const [name, header] of wrong) {
        it(`refuses ${name}, without echoing it`, async () => {
            const res = await send(svc.baseUrl, { path: FCM, headers: { ...JSON_HEADERS, authorization: header }, body: BODY });
            assertProblem(res, { status: 401, method: 'POST', uri: FCM }, name);
            assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm="push-notifications", error="invalid_token"$/);
            assert.ok(!res.text.includes(OLD_SECRET.slice(0, 8)), 'the credential is echoed');
        });
    }

    it('checks credentials before reading the body: an unauthenticated bad body gets 401, not 400/413/415', async () => {
        for (const headers of [JSON_HEADERS, { 'content-type': 'text/plain' }]) {
            const res = await send(svc.baseUrl, { path: FCM, headers, body: '{not json' });
            assert.equal(res.status, 401);
        }
        const authed = await send(svc.baseUrl, { path: FCM, headers: bearer(OLD_SECRET), body: '{not json' });
        assert.equal(authed.status, 400);
    });

    it('covers every /v1 path, known or not, so that routes are not revealed', async () => {
        for (const [method, path] of [['POST', '/v1/message/apns'], ['GET', FCM], ['POST', '/v1/message/webpush']]) {
            const res = await send(svc.baseUrl, { method, path, headers: JSON_HEADERS, body: method === 'GET' ? undefined : BODY });
            assert.equal(res.status, 401, `${method} ${path}`);
        }
    });

    it('leaves health, info, spec, doc and robots.txt open', async () => {
        for (const path of ['/healthz', '/readyz', '/_info', '/_info/name', '/_info/version', '/?spec', '/?doc', '/robots.txt']) {
            const res = await send(svc.baseUrl, { method: 'GET', path });
            assert.equal(res.status, 200, path);
        }
    });

    it('never logs the secrets or the Authorization header', () => {
        const logged = svc.logger.text();
        for (const s of [OLD_SECRET, NEW_SECRET, OLD_SECRET.slice(0, 12), 'authorization', 'Bearer']) {
            assert.ok(!logged.includes(s), `logged: ${s}`);
        }
    });
});

describe('inbound authentication off (dev default)', function () {
    let svc: TestService;
    before(async () => {
        svc = await startTestService();
    });
    after(async () => {
        await svc.close();
    });

    it('accepts requests with no Authorization header, and ignores one that is sent', async () => {
        assert.deepEqual(svc.service.config.inbound_auth.secrets, []);
        for (const headers of [JSON_HEADERS, bearer('anything-at-all-here')]) {
            const res = await send(svc.baseUrl, { path: FCM, headers, body: BODY });
            assert.equal(res.status, 200, res.text);
        }
    });
});

describe('inbound authentication config', function () {
    const load = (conf: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) => loadServiceConfig(testConf(conf), { env });

    it(`reads comma-separated secrets from ${INBOUND_SECRETS_ENV}`, () => {
        const config = load({}, { [INBOUND_SECRETS_ENV]: ` ${OLD_SECRET} ,${NEW_SECRET},` });
        assert.deepEqual(config.inbound_auth.secrets, [OLD_SECRET, NEW_SECRET]);
    });

    it('prefers inbound_auth.secrets_file to the environment', () => {
        const file = writeSecretsFile(`${NEW_SECRET}\n`);
        try {
            const config = load({ inbound_auth: { secrets_file: file.path } }, { [INBOUND_SECRETS_ENV]: OLD_SECRET });
            assert.deepEqual(config.inbound_auth.secrets, [NEW_SECRET]);
        } finally {
            file.remove();
        }
    });

    it('is off without a file or the variable', () => {
        assert.deepEqual(load({}).inbound_auth.secrets, []);
    });

    const refused: [string, Record<string, unknown>, NodeJS.ProcessEnv, RegExp][] = [
        ['a short secret', {}, { [INBOUND_SECRETS_ENV]: `${OLD_SECRET},short` }, new RegExp(`${INBOUND_SECRETS_ENV}: every shared secret must be at least 16`)],
        ['required without secrets', { inbound_auth: { required: true } }, {}, /inbound_auth\.required: set, but no shared secret found/],
        ['an unreadable file', { inbound_auth: { secrets_file: '/nonexistent/secrets' } }, {}, /inbound_auth\.secrets_file: cannot read \/nonexistent\/secrets: ENOENT/],
        ['an inline secret (not supported: secrets are not committed)', { inbound_auth: { secrets: [OLD_SECRET] } }, {}, /inbound_auth\.secrets: unknown key/]
    ];
    for (const [name, conf, env, message] of refused) {
        it(`refuses ${name}, naming the key and not the secret`, () => {
            assert.throws(() => load(conf, env), (e: unknown) => {
                assert.ok(e instanceof ConfigError);
                assert.match(e.message, message);
                assert.ok(!e.message.includes(OLD_SECRET), 'the secret is in the message');
                return true;
            });
        });
    }
});
