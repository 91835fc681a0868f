import assert from 'node:assert/strict';
import { ApnsDeadlineError } from '../../src/providers/apns/apns-connection';
import { APNS_REASON_OUTCOMES, classifyApnsFailure, classifyNodeApnFailure, NodeApnFailure } from '../../src/providers/apns/apns-errors';
import { classifyFcmError, FCM_OUTCOMES } from '../../src/providers/fcm/fcm-errors';

describe('FCM classification table', () => {
    const rows: [string, string, string, string][] = [
        // code, message, outcome, reason
        ['messaging/registration-token-not-registered', 'Requested entity was not found.', 'dead', 'messaging/registration-token-not-registered'],
        ['messaging/invalid-registration-token', 'Invalid registration', 'dead', 'messaging/invalid-registration-token'],
        ['messaging/invalid-argument', 'The registration token is not a valid FCM registration token', 'dead', 'messaging/invalid-argument:token'],
        ['messaging/invalid-argument', 'Invalid value at \'message.data\'', 'config_error', 'messaging/invalid-argument'],
        ['messaging/invalid-argument', 'Request contains an invalid argument.', 'config_error', 'messaging/invalid-argument'],
        ['messaging/third-party-auth-error', 'Auth error from APNS', 'config_error', 'messaging/third-party-auth-error'],
        ['messaging/mismatched-credential', 'SenderId mismatch', 'config_error', 'messaging/mismatched-credential'],
        ['messaging/authentication-error', 'Status code: 401.', 'config_error', 'messaging/authentication-error'],
        ['messaging/server-unavailable', 'unavailable', 'transient', 'messaging/server-unavailable'],
        ['messaging/internal-error', 'internal', 'transient', 'messaging/internal-error'],
        ['messaging/message-rate-exceeded', 'quota', 'transient', 'messaging/message-rate-exceeded'],
        ['messaging/unknown-error', 'Bad gateway Raw server response: "{"error":{"code":502}}"', 'transient', 'messaging/unknown-error'],
        ['messaging/unknown-error', 'Raw server response: "<html>". Status code: 504.', 'transient', 'messaging/unknown-error'],
        ['messaging/unknown-error', 'teapot Raw server response: "{"error":{"code":418}}"', 'config_error', 'messaging/unknown-error'],
        ['messaging/unknown-error', 'no status at all', 'config_error', 'messaging/unknown-error'],
        ['app/network-error', 'ECONNRESET', 'transient', 'app/network-error'],
        ['app/network-timeout', 'timeout', 'transient', 'app/network-timeout'],
        ['messaging/something-new', 'new', 'config_error', 'messaging/something-new'],
        ['weird code with spaces!', 'x', 'config_error', 'unknown']
    ];
    for (const [code, message, outcome, reason] of rows) {
        it(`${code} (${message.slice(0, 40)}) → ${outcome}`, () => {
            assert.deepEqual(classifyFcmError({ code, message }), { outcome, reason });
        });
    }
    it('every code in the table constant is covered above', () => {
        for (const code of Object.keys(FCM_OUTCOMES)) {
            assert.deepEqual(classifyFcmError({ code, message: '' }).outcome, FCM_OUTCOMES[code]);
        }
    });
    it('a missing error is a config_error, not a crash', () => {
        assert.equal(classifyFcmError(undefined).outcome, 'config_error');
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
