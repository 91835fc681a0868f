import assert from 'node:assert/strict';
import {
    answerBadBody, answerFirst, answerSchemaErrors, answerUnavailable, CONFIG_ERROR_ANSWERS, FirstAnswer, firstAnswerOf,
    healthcheckAnswer, NO_MATCHING_POOL, REMEMBERED_DEAD, V3Answer
} from '../../../src/front-doors/mongoosepush/answers';
import { APNS_REASON_OUTCOMES } from '../../../src/providers/apns/apns-errors';
import { FCM_ERROR_OUTCOMES } from '../../../src/providers/fcm/fcm-errors';

const strip = (a: V3Answer) => ({ status: a.status, body: a.body, ...(a.headers && { headers: a.headers }) });

describe('MongoosePush v3 answers: first answer → HTTP answer', () => {
    const rows: [FirstAnswer, number, unknown, string][] = [
        // outcome, reason → status, body, metric label
        [{ outcome: 'delivered', reason: 'ok' }, 200, null, 'delivered'],
        [{ outcome: 'transient', reason: 'ServiceUnavailable' }, 200, null, 'transient'],
        [{ outcome: 'transient', reason: 'TooManyRequests' }, 200, null, 'transient'],
        [{ outcome: 'transient', reason: 'UNAVAILABLE' }, 200, null, 'transient'],
        [{ outcome: 'pending', reason: 'deadline' }, 200, null, 'pending'],
        [{ outcome: 'dead', reason: 'Unregistered' }, 410, { reason: 'unregistered' }, 'dead'],
        [{ outcome: 'dead', reason: 'ExpiredToken' }, 410, { reason: 'unregistered' }, 'dead'],
        [{ outcome: 'dead', reason: 'BadDeviceToken' }, 410, { reason: 'unregistered' }, 'dead'],
        [{ outcome: 'dead', reason: 'UNREGISTERED' }, 410, { reason: 'unregistered' }, 'dead'],
        [{ outcome: 'dead', reason: 'INVALID_ARGUMENT:token' }, 410, { reason: 'unregistered' }, 'dead'],
        [{ outcome: 'dead_held', reason: 'Unregistered' }, 503, { reason: 'service_internal' }, 'dead_held'],
        [{ outcome: 'invalid', reason: 'invalid_token' }, 400, { reason: 'invalid_request' }, 'invalid'],
        [{ outcome: 'config_error', reason: 'http-400' }, 500, { reason: 'unspecified' }, 'config_error'],
        [{ outcome: 'config_error', reason: 'SOMETHING_NEW' }, 500, { reason: 'unspecified' }, 'config_error']
    ];
    for (const [first, status, body, label] of rows) {
        it(`${first.outcome} ${first.reason} → ${status}`, () => {
            const a = answerFirst(first);
            assert.deepEqual({ status: a.status, body: a.body, label: a.label }, { status, body, label });
            assert.equal(a.headers, undefined);
        });
    }

    // Every row of the table constant, against MongoosePush's classes (error_handler.ex,
    // response_encoder.ex): invalid_request 400, payload_too_large 413, internal_config 503,
    // auth → 503 service_internal, FCM UNSPECIFIED → 520.
    const expected: Record<string, [number, string]> = {
        BadCollapseId: [400, 'invalid_request'], BadDeviceToken: [400, 'invalid_request'],
        DeviceTokenNotForTopic: [400, 'invalid_request'], IdleTimeout: [400, 'invalid_request'],
        PayloadEmpty: [400, 'invalid_request'], TopicDisallowed: [400, 'invalid_request'], Forbidden: [400, 'invalid_request'],
        PayloadTooLarge: [413, 'payload_too_large'],
        BadMessageId: [503, 'internal_config'], BadPriority: [503, 'internal_config'], BadTopic: [503, 'internal_config'],
        DuplicateHeaders: [503, 'internal_config'], MissingDeviceToken: [503, 'internal_config'],
        MethodNotAllowed: [503, 'internal_config'], BadPath: [503, 'internal_config'], MissingTopic: [503, 'internal_config'],
        BadExpirationDate: [503, 'internal_config'], InvalidPushType: [503, 'internal_config'],
        InvalidProviderToken: [503, 'service_internal'], ExpiredProviderToken: [503, 'service_internal'],
        MissingProviderToken: [503, 'service_internal'], BadCertificate: [503, 'service_internal'],
        BadCertificateEnvironment: [503, 'service_internal'], UnrelatedKeyIdInToken: [503, 'service_internal'],
        BadEnvironmentKeyInToken: [503, 'service_internal'],
        INVALID_ARGUMENT: [400, 'invalid_request'],
        'render-failed': [400, 'invalid_notification'],
        SENDER_ID_MISMATCH: [503, 'service_internal'],
        PERMISSION_DENIED: [503, 'service_internal'],
        THIRD_PARTY_AUTH_ERROR: [503, 'service_internal'],
        APNS_AUTH_ERROR: [503, 'service_internal'],
        UNAUTHENTICATED: [503, 'service_internal'],
        'oauth-rejected': [503, 'service_internal'],
        NOT_FOUND: [503, 'internal_config']
    };
    it('the table has exactly the rows listed here', () => {
        assert.deepEqual(Object.keys(CONFIG_ERROR_ANSWERS).sort(), Object.keys(expected).sort());
    });
    for (const [reason, [status, body]] of Object.entries(expected)) {
        it(`config_error ${reason} → ${status} ${body}`, () => {
            assert.deepEqual(strip(answerFirst({ outcome: 'config_error', reason })), { status, body: { reason: body } });
        });
    }

    it('every config_error code the providers produce has a row', () => {
        const apns = Object.entries(APNS_REASON_OUTCOMES).filter(([, o]) => o === 'config_error').map(([r]) => r);
        const fcm = Object.entries(FCM_ERROR_OUTCOMES).filter(([, o]) => o === 'config_error').map(([r]) => r);
        for (const code of [...apns, ...fcm, 'render-failed', 'oauth-rejected']) {
            assert.ok(code in CONFIG_ERROR_ANSWERS, `no row for ${code}`);
        }
    });
});

describe('MongoosePush v3 answers: the immediate sender\'s report', () => {
    it('no result within the deadline is pending', () => {
        assert.deepEqual(firstAnswerOf(undefined), { outcome: 'pending', reason: 'deadline' });
    });
    it('a result keeps its outcome and reason', () => {
        assert.deepEqual(firstAnswerOf({ token: 't', outcome: 'transient', reason: 'Shutdown', retryAfterMs: 1000 }),
            { outcome: 'transient', reason: 'Shutdown' });
        assert.deepEqual(firstAnswerOf({ token: 't', outcome: 'dead', reason: 'Unregistered' }), { outcome: 'dead', reason: 'Unregistered' });
    });
    it('a dead result the guard held is dead_held, and never a 410', () => {
        const first = firstAnswerOf({ token: 't', outcome: 'dead', reason: 'Unregistered' }, true);
        assert.deepEqual(first, { outcome: 'dead_held', reason: 'Unregistered' });
        assert.notEqual(answerFirst(first).status, 410);
    });
    it('the guard flag does not touch other outcomes', () => {
        assert.equal(firstAnswerOf({ token: 't', outcome: 'delivered', reason: 'ok' }, true).outcome, 'delivered');
    });
});

describe('MongoosePush v3 answers: answers without a send', () => {
    it('remembered dead → 410 unregistered', () => {
        assert.deepEqual(strip(REMEMBERED_DEAD), { status: 410, body: { reason: 'unregistered' } });
        assert.equal(REMEMBERED_DEAD.label, 'remembered_dead');
    });
    it('no route → 400 no_matching_pool', () => {
        assert.deepEqual(strip(NO_MATCHING_POOL), { status: 400, body: { reason: 'no_matching_pool' } });
    });
    it('schema errors → 422 {errors}', () => {
        const errors = [{ title: 'Invalid value' as const, source: { pointer: '/service' }, message: 'Missing field: service' }];
        assert.deepEqual(strip(answerSchemaErrors(errors)), { status: 422, body: { errors } });
    });
    it('full or draining → 503 service_internal with Retry-After in whole seconds, at least 1', () => {
        assert.deepEqual(strip(answerUnavailable(7)), { status: 503, body: { reason: 'service_internal' }, headers: { 'Retry-After': '7' } });
        assert.equal(answerUnavailable(0.2).headers?.['Retry-After'], '1');
        assert.equal(answerUnavailable(2.5).headers?.['Retry-After'], '3');
    });
    it('a body that is not JSON → 400 invalid_request; too large → 413 payload_too_large', () => {
        assert.deepEqual(strip(answerBadBody('not_json')), { status: 400, body: { reason: 'invalid_request' } });
        assert.deepEqual(strip(answerBadBody('too_large')), { status: 413, body: { reason: 'payload_too_large' } });
    });
});

describe('MongoosePush v3 answers: GET /healthcheck', () => {
    const now = new Date('2026-11-30T12:00:00Z');
    const entry = (id: string, kind: string, status: string, output?: string) =>
        [{ componentId: id, componentType: kind, status, time: '2026-11-30T12:00:00.000Z', ...(output && { output }) }];

    it('all usable: 200 pass', () => {
        assert.deepEqual(healthcheckAnswer([{ provider: 'apns', kind: 'apns', usable: true }, { provider: 'fcm', kind: 'fcm', usable: true }], '1.2.3', now), {
            status: 200,
            body: {
                status: 'pass', version: '1.2.3', description: 'Health of the push providers behind the MongoosePush API',
                checks: { 'provider:apns': entry('apns', 'apns', 'pass'), 'provider:fcm': entry('fcm', 'fcm', 'pass') }
            }
        });
    });
    it('some usable: 200 warn, with why the other cannot send', () => {
        const a = healthcheckAnswer([{ provider: 'apns', kind: 'apns', usable: false, detail: 'credentials refused' },
            { provider: 'fcm', kind: 'fcm', usable: true }], '1', now);
        assert.equal(a.status, 200);
        assert.equal(a.body.status, 'warn');
        assert.deepEqual(a.body.checks['provider:apns'], entry('apns', 'apns', 'fail', 'credentials refused'));
    });
    it('none usable: 503 fail', () => {
        const a = healthcheckAnswer([{ provider: 'fcm', kind: 'fcm', usable: false }], '1', now);
        assert.equal(a.status, 503);
        assert.equal(a.body.status, 'fail');
    });
});
