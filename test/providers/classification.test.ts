import assert from 'node:assert/strict';
import { tokenFingerprint } from '../../src/logging/redact';
import { ApnsDeadlineError } from '../../src/providers/apns/apns-connection';
import { APNS_REASON_OUTCOMES, classifyApnsFailure, classifyNodeApnFailure, NodeApnFailure } from '../../src/providers/apns/apns-errors';
import { classifyFcmError, FCM_ERROR_OUTCOMES } from '../../src/providers/fcm/fcm-errors';
describe('FCM classification table', () => {
    const FCM = 'type.googleapis.com/google.firebase.fcm.v1.FcmError';
    const BAD_REQUEST = 'type.googleapis.com/google.rpc.BadRequest';
    /** An FCM v1 error body, as FCM documents them ("FCM error codes"). */
    const body = (code: number, status: string, message: string, ...details: unknown[]): string =>
        JSON.stringify({ error: { code, message, status, ...(details.length ? { details } : {}) } });
    const fcmCode = (errorCode: string) => ({ '@type': FCM, errorCode });
    const violation = (...fields: string[]) => ({ '@type': BAD_REQUEST, fieldViolations: fields.map((field) => ({ field, description: `Invalid value at '${field}'` })) });
    const TOKEN_MSG = 'The registration token is not a valid FCM registration token';

    // [what, HTTP status, body, outcome, reason]
    const rows: [string, number, string, string, string][] = [
        ['UNREGISTERED', 404, body(404, 'NOT_FOUND', 'Requested entity was not found.', fcmCode('UNREGISTERED')), 'dead', 'UNREGISTERED'],
        ['INVALID_ARGUMENT: FCM\'s invalid-token answer (docs example 2)', 400, body(400, 'INVALID_ARGUMENT', TOKEN_MSG, fcmCode('INVALID_ARGUMENT')), 'dead', 'INVALID_ARGUMENT:token'],
        ['INVALID_ARGUMENT: the token sentence without an FcmError detail', 400, body(400, 'INVALID_ARGUMENT', TOKEN_MSG), 'dead', 'INVALID_ARGUMENT:token'],
        ['INVALID_ARGUMENT: a field violation on message.token', 400, body(400, 'INVALID_ARGUMENT', 'Invalid value at \'message.token\'', violation('message.token')), 'dead', 'INVALID_ARGUMENT:token'],
        ['INVALID_ARGUMENT: a field violation on the payload (docs example 1)', 400, body(400, 'INVALID_ARGUMENT', 'Invalid value at \'message.data[0].value\' (TYPE_STRING), 12', violation('message.data[0].value')), 'config_error', 'INVALID_ARGUMENT'],
        ['INVALID_ARGUMENT: the token sentence but a payload field named too', 400, body(400, 'INVALID_ARGUMENT', TOKEN_MSG, violation('message.token', 'message.android.ttl')), 'config_error', 'INVALID_ARGUMENT'],
        ['INVALID_ARGUMENT: message too big', 400, body(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.', fcmCode('INVALID_ARGUMENT')), 'config_error', 'INVALID_ARGUMENT'],
        ['SENDER_ID_MISMATCH', 403, body(403, 'PERMISSION_DENIED', 'SenderId mismatch', fcmCode('SENDER_ID_MISMATCH')), 'config_error', 'SENDER_ID_MISMATCH'],
        ['PERMISSION_DENIED (IAM)', 403, body(403, 'PERMISSION_DENIED', 'Permission \'cloudmessaging.messages.create\' denied'), 'config_error', 'PERMISSION_DENIED'],
        ['THIRD_PARTY_AUTH_ERROR', 401, body(401, 'UNAUTHENTICATED', 'Auth error from APNS or Web Push Service', fcmCode('THIRD_PARTY_AUTH_ERROR')), 'config_error', 'THIRD_PARTY_AUTH_ERROR'],
        ['APNS_AUTH_ERROR (deprecated name)', 401, body(401, 'UNAUTHENTICATED', 'Auth error from APNS', fcmCode('APNS_AUTH_ERROR')), 'config_error', 'APNS_AUTH_ERROR'],
        ['UNAUTHENTICATED: our access token', 401, body(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.'), 'config_error', 'UNAUTHENTICATED'],
        ['UNAUTHENTICATED: a 401 without JSON', 401, 'Unauthorized', 'config_error', 'UNAUTHENTICATED'],
        ['NOT_FOUND without UNREGISTERED (wrong project or URL)', 404, body(404, 'NOT_FOUND', 'Requested entity was not found.'), 'config_error', 'NOT_FOUND'],
        ['QUOTA_EXCEEDED', 429, body(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded.', fcmCode('QUOTA_EXCEEDED')), 'transient', 'QUOTA_EXCEEDED'],
        ['RESOURCE_EXHAUSTED without an FcmError detail', 429, body(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded.'), 'transient', 'RESOURCE_EXHAUSTED'],
        ['UNAVAILABLE', 503, body(503, 'UNAVAILABLE', 'The service is currently unavailable.', fcmCode('UNAVAILABLE')), 'transient', 'UNAVAILABLE'],
        ['INTERNAL', 500, body(500, 'INTERNAL', 'Internal error encountered.', fcmCode('INTERNAL')), 'transient', 'INTERNAL'],
        ['UNSPECIFIED_ERROR on a 500: by status', 500, body(500, 'UNKNOWN', 'x', fcmCode('UNSPECIFIED_ERROR')), 'transient', 'UNSPECIFIED_ERROR'],
        ['UNSPECIFIED_ERROR on a 400: by status', 400, body(400, 'FAILED_PRECONDITION', 'x', fcmCode('UNSPECIFIED_ERROR')), 'config_error', 'UNSPECIFIED_ERROR'],
        ['an unnamed 5xx JSON', 502, body(502, 'BAD_GATEWAY', 'Bad gateway'), 'transient', 'BAD_GATEWAY'],
        ['DEADLINE_EXCEEDED (504)', 504, body(504, 'DEADLINE_EXCEEDED', 'Deadline expired'), 'transient', 'DEADLINE_EXCEEDED'],
        ['a non-JSON 5xx (a proxy\'s page)', 502, '<html><body>502 Bad Gateway</body></html>', 'transient', 'http-502'],
        ['a non-JSON 503 with an empty body', 503, '', 'transient', 'http-503'],
        ['an unnamed 4xx JSON', 418, body(418, 'TEAPOT', 'I am a teapot'), 'config_error', 'TEAPOT'],
        ['a non-JSON 4xx', 400, 'Bad Request', 'config_error', 'http-400'],
        ['408 without a body', 408, '', 'transient', 'http-408'],
        ['a status that is not a code shape', 400, body(400, 'not a code!', 'x'), 'config_error', 'http-400']
    ];
    for (const [what, status, text, outcome, reason] of rows) {
        it(`${status} ${what} → ${outcome} ${reason}`, () => {
            const c = classifyFcmError(status, text);
            assert.deepEqual({ outcome: c.outcome, reason: c.reason }, { outcome, reason });
        });
    }

    it('every key of the table constant has a row above, with the same outcome', () => {
        for (const [key, outcome] of Object.entries(FCM_ERROR_OUTCOMES)) {
            const row = rows.find((r) => r[4] === key);
            assert.ok(row, `no row for ${key}`);
            assert.equal(row[3], outcome, key);
        }
    });

    it('only UNAUTHENTICATED asks for a fresh access token', () => {
        for (const [, status, text, , reason] of rows) {
            assert.equal(classifyFcmError(status, text).refreshCredential === true, reason === 'UNAUTHENTICATED', reason);
        }
    });

    it('a transient answer carries its own Retry-After, in either form; other outcomes never do', () => {
        const now = Date.parse('2026-11-02T10:00:00Z');
        const unavailable = body(503, 'UNAVAILABLE', 'x', fcmCode('UNAVAILABLE'));
        assert.equal(classifyFcmError(503, unavailable, '120', undefined, now).retryAfterMs, 120000);
        assert.equal(classifyFcmError(429, body(429, 'RESOURCE_EXHAUSTED', 'x', fcmCode('QUOTA_EXCEEDED')), 'Mon, 02 Nov 2026 10:01:30 GMT', undefined, now).retryAfterMs, 90000);
        assert.equal(classifyFcmError(503, unavailable, ['7'], undefined, now).retryAfterMs, 7000);
        assert.equal(classifyFcmError(503, unavailable, 'soon', undefined, now).retryAfterMs, undefined);
        assert.equal(classifyFcmError(503, unavailable, undefined, undefined, now).retryAfterMs, undefined);
        assert.equal(classifyFcmError(400, body(400, 'INVALID_ARGUMENT', 'x'), '120', undefined, now).retryAfterMs, undefined);
    });

    it('detail is what FCM said, cut short, with the token replaced by its fingerprint', () => {
        const token = 'dXJnZW50LXRva2VuLWZvci10ZXN0aW5n:APA91b-abcdef';
        const c = classifyFcmError(400, body(400, 'INVALID_ARGUMENT', `Invalid value at 'message.token' (TYPE_STRING), "${token}" ${'x'.repeat(400)}`, violation('message.android.ttl')), undefined, token);
        assert.ok(c.detail && !c.detail.includes(token));
        assert.ok(c.detail.includes(tokenFingerprint(token)));
        assert.ok(c.detail.length <= 301);
        assert.equal(classifyFcmError(502, '<html>bad gateway</html>').detail, '<html>bad gateway</html>');
    });
});

describe('APNs classification table', () => {
    const rows: [number | undefined, string | undefined, string, string][] = [
        [410, 'Unregistered', 'dead', 'Unregistered'],
        [410, 'ExpiredToken', 'dead', 'ExpiredToken'],
        [410, undefined, 'dead', 'http-410'],
        [400, 'BadDeviceToken', 'dead', 'BadDeviceToken'],
        [400, 'DeviceTokenNotForTopic', 'config_error', 'DeviceTokenNotForTopic'],
        [400, 'TopicDisallowed', 'config_error', 'TopicDisallowed'],
        [400, 'BadTopic', 'config_error', 'BadTopic'],
        [400, 'MissingTopic', 'config_error', 'MissingTopic'],
        [400, 'BadPayload', 'config_error', 'BadPayload'],
        [400, 'PayloadEmpty', 'config_error', 'PayloadEmpty'],
        [400, 'BadPushType', 'config_error', 'BadPushType'],
        [403, 'InvalidProviderToken', 'config_error', 'InvalidProviderToken'],
        [403, 'ExpiredProviderToken', 'config_error', 'ExpiredProviderToken'],
        [403, 'MissingProviderToken', 'config_error', 'MissingProviderToken'],
        [403, 'BadCertificate', 'config_error', 'BadCertificate'],
        [403, 'BadCertificateEnvironment', 'config_error', 'BadCertificateEnvironment'],
        [403, 'Forbidden', 'config_error', 'Forbidden'],
        [413, 'PayloadTooLarge', 'config_error', 'PayloadTooLarge'],
        [404, 'BadPath', 'config_error', 'BadPath'],
        [429, 'TooManyRequests', 'transient', 'TooManyRequests'],
        [429, 'TooManyProviderTokenUpdates', 'transient', 'TooManyProviderTokenUpdates'],
        [500, 'InternalServerError', 'transient', 'InternalServerError'],
        [500, undefined, 'transient', 'http-500'],
        [503, 'ServiceUnavailable', 'transient', 'ServiceUnavailable'],
        [503, 'Shutdown', 'transient', 'Shutdown'],
        [502, undefined, 'transient', 'http-502'],
        [undefined, undefined, 'transient', 'connection-error'],
        [400, 'a reason with spaces', 'config_error', 'http-400']
    ];
    for (const [status, reason, outcome, label] of rows) {
        it(`${status ?? 'no status'} ${reason ?? ''} → ${outcome}`, () => {
            assert.deepEqual(classifyApnsFailure(status, reason), { outcome, reason: label });
        });
    }
    it('the table constant agrees with the classifier for the status Apple uses', () => {
        const statusOf: Record<string, number> = {
            Unregistered: 410, ExpiredToken: 410, BadDeviceToken: 400, TooManyRequests: 429, TooManyProviderTokenUpdates: 429,
            InternalServerError: 500, ServiceUnavailable: 503, Shutdown: 503
        };
        for (const [reason, outcome] of Object.entries(APNS_REASON_OUTCOMES)) {
            const status = statusOf[reason] ?? (/Provider|Certificate|Forbidden/.test(reason) ? 403 : 400);
            assert.equal(classifyApnsFailure(status, reason).outcome, outcome, reason);
        }
    });
});

describe('APNs: node-apn failure shapes', () => {
    /** node-apn's errors are verror VErrors: the message, and the cause kept as `jse_cause`. */
    function VError(causeOrMessage: Error | string, message?: string): Error {
        return typeof causeOrMessage === 'string' ? new Error(causeOrMessage) :
            Object.assign(new Error(`${message}: ${causeOrMessage.message}`), { jse_cause: causeOrMessage });
    }
    const deadline = new ApnsDeadlineError('TLS handshake', 400);
    const rows: [string, NodeApnFailure, string, { staleJwt?: boolean; status?: number; stage?: string }][] = [
        ['an answer with a reason', { status: 410, response: { reason: 'Unregistered' } }, 'dead:Unregistered', { status: 410 }],
        ['403 ExpiredProviderToken (node-apn re-signed the JWT)', { status: 403, error: VError('ExpiredProviderToken') }, 'config_error:ExpiredProviderToken', { staleJwt: true, status: 403 }],
        ['403 InvalidProviderToken (node-apn does not re-sign)', { status: 403, response: { reason: 'InvalidProviderToken' } }, 'config_error:InvalidProviderToken', { staleJwt: false }],
        ['500 turned into node-apn\'s own error', { status: 500, error: VError('Error 500, stream ended unexpectedly') }, 'transient:http-500', { status: 500 }],
        ['an empty-bodied 503', { error: VError('stream ended unexpectedly with status 503 and empty body') }, 'transient:http-503', { status: 503 }],
        ['an empty-bodied 400', { error: VError('stream ended unexpectedly with status 400 and empty body') }, 'config_error:http-400', { status: 400 }],
        ['node-apn\'s request timeout', { error: VError('apn write timeout') }, 'transient:timeout', { stage: 'request' }],
        ['our connect deadline, wrapped by node-apn', { error: VError(deadline, 'apn write failed') }, 'transient:timeout', { stage: 'TLS handshake' }],
        ['our connect deadline as a standard Error cause', { error: new Error('apn write failed', { cause: deadline }) }, 'transient:timeout', { stage: 'TLS handshake' }],
        ['a stream error', { error: VError(new Error('ECONNRESET'), 'apn write failed') }, 'transient:connection-error', {}],
        ['a proxy that refused the tunnel', { error: VError('cannot connect to proxy server') }, 'transient:connection-error', {}],
        ['a status node-apn marks as its own', { status: '(timeout)', error: VError('Timeout, aborted, or other unknown error') }, 'transient:connection-error', {}]
    ];
    for (const [name, failure, expected, extra] of rows) {
        it(`${name} → ${expected}`, () => {
            const c = classifyNodeApnFailure(failure);
            assert.equal(`${c.outcome}:${c.reason}`, expected);
            if (extra.staleJwt !== undefined) {
                assert.equal(c.staleJwt, extra.staleJwt);
            }
            if (extra.status !== undefined) {
                assert.equal(c.status, extra.status);
            }
            if (extra.stage !== undefined) {
                assert.equal(c.deadline instanceof ApnsDeadlineError ? c.deadline.stage : c.deadline, extra.stage);
            }
        });
    }
});
