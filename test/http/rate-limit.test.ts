import assert from 'node:assert/strict';
import { startTestService, TestService } from '../helpers/service-harness';
import { assertProblem, JSON_HEADERS, send } from './http-helpers';

const FCM = '/v1/message/fcm';
const BODY = JSON.stringify({ deviceTokens: ['rate-test-token'], messageType: 'checkEchoV1' });

describe('inbound rate limit (express_rate_limiter)', function () {
    const MAX = 3;
    const WINDOW_MS = 60_000;
    let svc: TestService;
    before(async () => {
        svc = await startTestService({ express_rate_limiter: { windowMs: WINDOW_MS, max: MAX } });
    });
    after(async () => {
        await svc.close();
    });

    it(`allows ${MAX} requests per window, then answers 429 problem+json with Retry-After`, async () => {
        for (let i = 0; i < MAX; i++) {
            const res = await send(svc.baseUrl, { path: FCM, headers: JSON_HEADERS, body: BODY });
            assert.equal(res.status, 200, `request ${i + 1}: ${res.text}`);
        }
        const res = await send(svc.baseUrl, { path: FCM, headers: JSON_HEADERS, body: BODY });
        assertProblem(res, { status: 429, detail: /More than 3 requests in 60000 ms/, method: 'POST', uri: FCM }, '429');
        const retryAfter = Number(res.headers.get('retry-after'));
        assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= WINDOW_MS / 1000, `Retry-After: ${res.headers.get('retry-after')}`);
    });

    it('limits every /v1 request, whatever its outcome (bad bodies and unknown routes count too)', async () => {
        for (const path of ['/v1/message/apns', '/v1/message/webpush']) {
            const res = await send(svc.baseUrl, { path, headers: { 'content-type': 'text/plain' }, body: 'x' });
            assert.equal(res.status, 429, path);
        }
    });

    it('leaves health, info and spec out of the limit', async () => {
        for (const path of ['/healthz', '/readyz', '/_info', '/?spec']) {
            const res = await send(svc.baseUrl, { method: 'GET', path });
            assert.equal(res.status, 200, path);
        }
    });
});

describe('inbound rate limit off (not configured)', function () {
    let svc: TestService;
    before(async () => {
        svc = await startTestService();
    });
    after(async () => {
        await svc.close();
    });

    it('never answers 429 and adds no rate-limit headers', async () => {
        for (let i = 0; i < 50; i++) {
            const res = await send(svc.baseUrl, { path: FCM, headers: JSON_HEADERS, body: BODY });
            assert.equal(res.status, 200);
            assert.equal(res.headers.get('retry-after'), null);
            assert.equal(res.headers.get('ratelimit'), null);
        }
    });
});

describe('inbound rate limit behind a proxy (trust_proxy)', function () {
    let svc: TestService;
    before(async () => {
        svc = await startTestService({ trust_proxy: 1, express_rate_limiter: { windowMs: 60_000, max: 2 } });
    });
    after(async () => {
        await svc.close();
    });

    it('keys on the forwarded client address, so one noisy client does not block another', async () => {
        const from = (ip: string) => ({ path: FCM, headers: { ...JSON_HEADERS, 'x-forwarded-for': ip }, body: BODY });
        for (let i = 0; i < 2; i++) {
            assert.equal((await send(svc.baseUrl, from('192.0.2.10'))).status, 200);
        }
        assert.equal((await send(svc.baseUrl, from('192.0.2.10'))).status, 429);
        assert.equal((await send(svc.baseUrl, from('192.0.2.20'))).status, 200);
    });
});
