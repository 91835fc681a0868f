import assert from 'node:assert/strict';
import { metricsText } from '../helpers/metrics';
import { startTestService, TestService } from '../helpers/service-harness';
import { JSON_HEADERS, send, Sent, ToSend } from './http-helpers';
import { SecretsFile, writeSecretsFile } from './secrets-fixture';

/**
 * "Secrets never leak", on the HTTP surface: with a MediaWiki password and inbound-auth
 * secrets configured, no response (status line aside: headers and body) of /_info, /?spec,
 * /?doc or any problem, and no log line or metric, contains them. Device tokens sent by the
 * test do not appear in full in logs or metrics either.
 */
const MW_PASSWORD = 'mw-password-LEAKCHECK-7f3a9c';
const AUTH_SECRET = 'auth-secret-LEAKCHECK-0b1d2e3f';
const OTHER_SECRET = 'rotating-secret-LEAKCHECK-44ee';
const TOKEN = 'device-token-LEAKCHECK-aaaabbbbccccdddd';
const SECRETS = [MW_PASSWORD, AUTH_SECRET, OTHER_SECRET];

const AUTH = { ...JSON_HEADERS, authorization: `Bearer ${AUTH_SECRET}` };

const REQUESTS: ToSend[] = [
    { method: 'GET', path: '/_info' },
    { method: 'GET', path: '/_info/name' },
    { method: 'GET', path: '/_info/version' },
    { method: 'GET', path: '/_info/home' },
    { method: 'GET', path: '/?spec' },
    { method: 'GET', path: '/?doc' },
    { method: 'GET', path: '/?doc&path=swagger-initializer.js' },
    { method: 'GET', path: '/healthz' },
    { method: 'GET', path: '/readyz' },
    { path: '/v1/message/fcm', headers: AUTH, body: JSON.stringify({ deviceTokens: [TOKEN], messageType: 'checkEchoV1' }) },
    { path: '/v1/message/apns', headers: AUTH, body: JSON.stringify({ deviceTokens: [TOKEN], messageType: 'nope' }) },
    { path: '/v1/message/fcm', headers: AUTH, body: '{"deviceTokens":' },
    { path: '/v1/message/fcm', headers: { ...AUTH, 'content-type': 'text/plain' }, body: 'x' },
    { path: '/v1/message/fcm', headers: JSON_HEADERS, body: '{}' },
    { path: '/v1/message/fcm', headers: { ...JSON_HEADERS, authorization: `Bearer ${AUTH_SECRET}x` }, body: '{}' },
    { path: '/v1/message/fcm', headers: { ...JSON_HEADERS, authorization: `Basic ${AUTH_SECRET}` }, body: '{}' },
    { method: 'GET', path: '/v1/message/fcm', headers: AUTH },
    { method: 'GET', path: '/nowhere', headers: AUTH }
];

function responseText(res: Sent): string {
    return `${[...res.headers.entries()].map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${res.text}`;
}

describe('secrets never leak through the HTTP surface', function () {
    let svc: TestService;
    let file: SecretsFile;
    const seen: string[] = [];
    before(async () => {
        file = writeSecretsFile(`${AUTH_SECRET}\n${OTHER_SECRET}\n`);
        svc = await startTestService({
            mw_subscription_manager_username: 'PushSubscriptionManager@leakcheck',
            mw_subscription_manager_password: MW_PASSWORD,
            inbound_auth: { secrets_file: file.path },
            queueing: { flushTimeoutMs: 50, maxSize: 500, verbose: true }
        });
        for (const req of REQUESTS) {
            seen.push(responseText(await send(svc.baseUrl, req)));
        }
    });
    after(async () => {
        await svc.close();
        file.remove();
    });

    it('the config really holds the secrets (so the scan means something)', () => {
        assert.equal(svc.service.config.mw_subscription_manager_password, MW_PASSWORD);
        assert.deepEqual(svc.service.config.inbound_auth.secrets, [AUTH_SECRET, OTHER_SECRET]);
    });

    it('no response header or body contains a secret', () => {
        for (const [i, text] of seen.entries()) {
            for (const secret of SECRETS) {
                // Also a long-enough fragment, in case something is truncated or quoted.
                for (const fragment of [secret, secret.slice(0, 16), secret.slice(-16)]) {
                    assert.ok(!text.includes(fragment), `${REQUESTS[i].method ?? 'POST'} ${REQUESTS[i].path} leaks ${fragment}`);
                }
            }
        }
    });

    it('no log line contains a secret, the Authorization header, or a full device token', () => {
        const logged = svc.logger.text();
        assert.ok(logged.length > 0, 'nothing was logged at all: the scan would be empty');
        for (const s of [...SECRETS, TOKEN, 'LEAKCHECK', 'Bearer ']) {
            assert.ok(!logged.includes(s), `logged: ${s}`);
        }
    });

    it('no metric (name, label or value) contains a secret, a token or a raw URL', async () => {
        const text = await metricsText();
        for (const s of [...SECRETS, TOKEN, 'LEAKCHECK', '/nowhere']) {
            assert.ok(!text.includes(s), `metrics contain: ${s}`);
        }
    });
});
