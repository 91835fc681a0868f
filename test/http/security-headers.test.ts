import assert from 'node:assert/strict';
import { DEFAULT_CSP } from '../../src/config/sections/http';
import { startTestService, TestService } from '../helpers/service-harness';
import { JSON_HEADERS, send, ToSend } from './http-helpers';
import { SecretsFile, writeSecretsFile } from './secrets-fixture';

/**
 * The service-template's security headers on every response, errors included, and no CORS
 * header unless `cors` is configured.
 */
const SECRET = 'headers-test-secret-0123456789';
const OK_BODY = JSON.stringify({ deviceTokens: ['hdr-token'], messageType: 'checkEchoV1' });
const AUTH = { ...JSON_HEADERS, authorization: `Bearer ${SECRET}` };

/** One request per kind of answer, with its expected status. */
const RESPONSES: [number, ToSend][] = [
    [200, { path: '/v1/message/fcm', headers: AUTH, body: OK_BODY }],
    [200, { method: 'GET', path: '/?spec' }],
    [200, { method: 'GET', path: '/?doc' }],
    [200, { method: 'GET', path: '/_info' }],
    [200, { method: 'GET', path: '/healthz' }],
    [301, { method: 'GET', path: '/_info/home' }],
    [400, { path: '/v1/message/apns', headers: AUTH, body: '{"deviceTokens":[]}' }],
    [401, { path: '/v1/message/fcm', headers: JSON_HEADERS, body: OK_BODY }],
    [404, { method: 'GET', path: '/nowhere' }],
    [404, { method: 'GET', path: '/' }],
    [405, { method: 'GET', path: '/v1/message/fcm', headers: AUTH }],
    [413, { path: '/v1/message/fcm', headers: AUTH, body: JSON.stringify({ deviceTokens: ['x'.repeat(2048)], messageType: 'checkEchoV1' }) }],
    [415, { path: '/v1/message/fcm', headers: { ...AUTH, 'content-type': 'text/plain' }, body: OK_BODY }],
    [429, { path: '/v1/message/fcm', headers: AUTH, body: OK_BODY }]
];

const SECURITY_HEADERS: Record<string, string> = {
    'x-xss-protection': '1; mode=block',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'SAMEORIGIN',
    'referrer-policy': 'no-referrer',
    'content-security-policy': DEFAULT_CSP,
    'x-content-security-policy': DEFAULT_CSP,
    'x-webkit-csp': DEFAULT_CSP
};

function startWith(file: SecretsFile, extra: Record<string, unknown> = {}): Promise<TestService> {
    return startTestService({
        max_body_size: 1024,
        // High enough for every request above but the last; the 429 row comes last.
        express_rate_limiter: { windowMs: 60_000, max: RESPONSES.filter(([, r]) => r.path.startsWith('/v1')).length - 1 },
        inbound_auth: { secrets_file: file.path },
        ...extra
    });
}

describe('security headers and CORS', function () {
    let file: SecretsFile;
    before(() => {
        file = writeSecretsFile(SECRET);
    });
    after(() => file.remove());

    describe('default config (csp on, cors off)', function () {
        let svc: TestService;
        before(async () => {
            svc = await startWith(file);
        });
        after(async () => {
            await svc.close();
        });

        for (const [status, req] of RESPONSES) {
            it(`${status} ${req.method ?? 'POST'} ${req.path}: every security header, no CORS, no X-Powered-By`, async () => {
                const res = await send(svc.baseUrl, req);
                assert.equal(res.status, status, res.text.slice(0, 200));
                for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
                    assert.equal(res.headers.get(name), value, name);
                }
                for (const name of res.headers.keys()) {
                    assert.ok(!name.startsWith('access-control-'), `CORS header ${name}`);
                }
                assert.equal(res.headers.get('x-powered-by'), null);
            });
        }
    });

    describe('cors configured, csp off', function () {
        let svc: TestService;
        before(async () => {
            svc = await startWith(file, { cors: 'https://echo.example.org', csp: false });
        });
        after(async () => {
            await svc.close();
        });

        it('sends the configured CORS headers on /v1/* and nothing from csp', async () => {
            for (const [status, req] of [RESPONSES[0], RESPONSES[6], RESPONSES[7]]) {
                const res = await send(svc.baseUrl, req);
                assert.equal(res.status, status);
                assert.equal(res.headers.get('access-control-allow-origin'), 'https://echo.example.org');
                assert.match(res.headers.get('access-control-allow-headers') ?? '', /authorization/);
                for (const name of Object.keys(SECURITY_HEADERS)) {
                    assert.equal(res.headers.get(name), null, name);
                }
            }
        });

        it('answers a browser preflight on /v1/* with 204 and the allowed methods', async () => {
            const res = await fetch(`${svc.baseUrl}/v1/message/fcm`, {
                method: 'OPTIONS',
                headers: { origin: 'https://echo.example.org', 'access-control-request-method': 'POST' }
            });
            assert.equal(res.status, 204);
            assert.equal(res.headers.get('access-control-allow-origin'), 'https://echo.example.org');
            assert.equal(res.headers.get('access-control-allow-methods'), 'POST');
        });
    });

    describe('cors off (the default)', function () {
        let svc: TestService;
        before(async () => {
            svc = await startTestService();
        });
        after(async () => {
            await svc.close();
        });

        it('gives a preflight no CORS headers, so browsers cannot call /v1/* cross-origin', async () => {
            const res = await fetch(`${svc.baseUrl}/v1/message/fcm`, {
                method: 'OPTIONS',
                headers: { origin: 'https://elsewhere.example', 'access-control-request-method': 'POST' }
            });
            assert.ok(res.status < 500);
            for (const [name] of res.headers) {
                assert.ok(!name.startsWith('access-control-'), name);
            }
        });
    });
});
