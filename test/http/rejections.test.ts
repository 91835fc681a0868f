import assert from 'node:assert/strict';
import { metricValue } from '../helpers/metrics';
import { startTestService, TestService } from '../helpers/service-harness';
import { JSON_HEADERS, send } from './http-helpers';
import { SecretsFile, writeSecretsFile } from './secrets-fixture';

/**
 * Every refused message request is counted in push_notifications_requests_rejected_total
 * with its reason, with and without the inbound rate limit (one path either way).
 */
const SECRET = 'rejections-test-secret-0123456789';
const FCM = '/v1/message/fcm';
const OK = JSON.stringify({ deviceTokens: ['t'], messageType: 'checkEchoV1' });
const AUTH = { ...JSON_HEADERS, authorization: `Bearer ${SECRET}` };

for (const [pathName, extra] of [
    ['without the inbound rate limit', {}],
    ['with the inbound rate limit', { express_rate_limiter: { windowMs: 60_000, max: 6 } }]
] as const) {
    describe(`requests_rejected_total, ${pathName}`, function () {
        let file: SecretsFile;
        let svc: TestService;
        before(async () => {
            file = writeSecretsFile(SECRET);
            svc = await startTestService({ max_body_size: 512, inbound_auth: { secrets_file: file.path }, ...extra });
        });
        after(async () => {
            await svc.close();
            file.remove();
        });

        it('counts each refusal by reason', async () => {
            const cases: [string, number, Parameters<typeof send>[1]][] = [
                ['invalid', 400, { path: FCM, headers: AUTH, body: '{"deviceTokens":[]}' }],
                ['invalid', 400, { path: FCM, headers: AUTH, body: '{not json' }],
                ['too_large', 413, { path: FCM, headers: AUTH, body: JSON.stringify({ deviceTokens: ['x'.repeat(600)], messageType: 'checkEchoV1' }) }],
                ['unsupported_media_type', 415, { path: FCM, headers: { ...AUTH, 'content-type': 'text/plain' }, body: OK }],
                ['unauthorized', 401, { path: FCM, headers: JSON_HEADERS, body: OK }]
            ];
            for (const [, status, req] of cases) {
                assert.equal((await send(svc.baseUrl, req)).status, status);
            }
            const expected: Record<string, number> = { invalid: 2, too_large: 1, unsupported_media_type: 1, unauthorized: 1 };
            if ('express_rate_limiter' in extra) {
                assert.equal((await send(svc.baseUrl, { path: FCM, headers: AUTH, body: OK })).status, 200);
                assert.equal((await send(svc.baseUrl, { path: FCM, headers: AUTH, body: OK })).status, 429);
                expected.rate_limited = 1;
            }
            for (const [reason, n] of Object.entries(expected)) {
                assert.equal(await metricValue('push_notifications_requests_rejected_total', { reason }), n, reason);
            }
        });
    });
}
