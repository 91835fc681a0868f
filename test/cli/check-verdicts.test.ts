import assert from 'node:assert/strict';
import { TokenOutcome, TokenResult } from '../../src/push/provider';
import { APNS_CHECK_ANSWERS, APNS_CHECK_TOKEN, ApnsCheckContext, apnsTokenHints, describeApnsAnswer } from '../../src/providers/apns/apns-check';
import { APNS_REASON_OUTCOMES } from '../../src/providers/apns/apns-errors';
import { apnsTokenSyntax } from '../../src/providers/apns/apns-token';
import { describeFcmResult, FCM_CHECK_ANSWERS, FCM_CHECK_TOKEN } from '../../src/providers/fcm/fcm-check';
import { FCM_ERROR_OUTCOMES } from '../../src/providers/fcm/fcm-errors';
import { fcmTokenSyntax } from '../../src/providers/fcm/fcm-token-syntax';
import { FcmIdentity } from '../../src/providers/fcm/fcm-provider';
import { summarize } from '../../src/cli/output';

const apnsCtx: ApnsCheckContext = {
    topic: 'org.example.app', production: true, endpoint: 'api.push.apple.com:443', auth: 'token',
    keyId: 'ABCDE12345', teamId: 'TEAM123456', keyFile: '/etc/secrets/AuthKey_ABCDE12345.p8'
};
const fcmId: FcmIdentity = { projectId: 'proj', clientEmail: 'sa@proj.iam.gserviceaccount.com', privateKeyId: 'k1', tokenUri: 'https://oauth2.googleapis.com/token' };

function result(outcome: TokenOutcome, reason: string, extra: Partial<TokenResult> = {}): TokenResult {
    return { token: 'x', outcome, reason, ...extra };
}

describe('check verdicts: what each provider answer to the dummy-token request means', () => {
    it('the dummy tokens pass their kind\'s token syntax (so the request is really made)', () => {
        assert.ok(apnsTokenSyntax(APNS_CHECK_TOKEN).ok);
        assert.ok(fcmTokenSyntax(FCM_CHECK_TOKEN).ok);
    });

    describe('APNS_CHECK_ANSWERS, every row', () => {
        const expectOk = new Set(['BadDeviceToken', 'Unregistered', 'ExpiredToken', 'ok']);
        for (const [reason, verdict] of Object.entries(APNS_CHECK_ANSWERS)) {
            it(`${reason} → ${verdict.ok ? 'ok' : 'fail'}`, () => {
                assert.equal(verdict.ok, expectOk.has(reason));
                const outcome: TokenOutcome = reason === 'ok' ? 'delivered' : APNS_REASON_OUTCOMES[reason] ?? 'config_error';
                const line = describeApnsAnswer(result(outcome, reason, { detail: `APNs 403 ${reason}` }), apnsCtx);
                assert.equal(line.status, verdict.ok ? 'ok' : 'fail');
                assert.equal(line.step, 'request');
                if (reason !== 'ok') {
                    assert.ok(line.detail.includes(`(${reason})`), line.detail);
                }
            });
        }
        it('names what to fix: key id and team id, the environment, the topic', () => {
            assert.match(describeApnsAnswer(result('config_error', 'InvalidProviderToken'), apnsCtx).detail, /key id ABCDE12345 and team id TEAM123456 do not belong together/);
            assert.match(describeApnsAnswer(result('config_error', 'BadEnvironmentKeyInToken'), apnsCtx).detail,
                /not enabled for the production environment that production: true sends to .*set production: false if the app's builds use sandbox/);
            assert.match(describeApnsAnswer(result('config_error', 'TopicDisallowed'), apnsCtx).detail, /team TEAM123456 push to topic org\.example\.app/);
            assert.match(describeApnsAnswer(result('config_error', 'TopicDisallowed'), { ...apnsCtx, auth: 'certificate' }).detail, /this certificate push to topic/);
        });
        it('an unlisted reason fails: a refusal with APNs\' words, a transient answer as "nothing was concluded"', () => {
            assert.deepEqual(describeApnsAnswer(result('config_error', 'BadPayload', { detail: 'APNs 400 BadPayload (topic t)' }), apnsCtx),
                { status: 'fail', step: 'request', detail: 'APNs refused the check\'s request (BadPayload): APNs 400 BadPayload (topic t)' });
            assert.deepEqual(describeApnsAnswer(result('transient', 'ServiceUnavailable'), apnsCtx),
                { status: 'fail', step: 'request', detail: 'APNs answered ServiceUnavailable: it is busy or down, so nothing was concluded; try again later' });
        });
        it('hints: key id and team id shapes, and a key file named for another key id', () => {
            assert.deepEqual(apnsTokenHints(apnsCtx), []);
            assert.deepEqual(apnsTokenHints({ keyId: 'abc', teamId: 'TEAM123456', keyFile: 'AuthKey_ZZZZZ99999.p8' }).map((l) => [l.status, l.detail]), [
                ['warn', 'key id "abc" is not 10 capital letters and digits, the form of Apple\'s key ids'],
                ['warn', 'the key file is named AuthKey_ZZZZZ99999.p8, but the key id is abc: Apple names the file after its key id']
            ]);
            assert.equal(apnsTokenHints({ keyId: 'ABCDE12345', teamId: 'team', keyFile: 'key.p8' })[0].detail,
                'team id "team" is not 10 capital letters and digits, the form of Apple\'s team ids');
        });
    });

    describe('FCM_CHECK_ANSWERS, every row', () => {
        const expectOk = new Set(['validated', 'INVALID_ARGUMENT:token', 'UNREGISTERED']);
        for (const [reason, verdict] of Object.entries(FCM_CHECK_ANSWERS)) {
            it(`${reason} → ${verdict.ok ? 'ok' : 'fail'}`, () => {
                assert.equal(verdict.ok, expectOk.has(reason));
                const outcome: TokenOutcome = reason === 'validated' ? 'delivered' : FCM_ERROR_OUTCOMES[reason];
                assert.ok(outcome, `${reason} is a reason the FCM provider gives`);
                const lines = describeFcmResult(result(outcome, reason, { detail: 'FCM 4xx: what FCM said' }), fcmId);
                assert.deepEqual(lines.map((l) => [l.step, l.status]), [['OAuth', 'ok'], ['validate_only send', verdict.ok ? 'ok' : 'fail']]);
                if (!verdict.ok) {
                    assert.ok(lines[1].detail.includes(`(${reason})`), lines[1].detail);
                }
            });
        }
        it('OAuth refused or unreachable: one failing OAuth line, no send line', () => {
            assert.deepEqual(describeFcmResult(result('config_error', 'oauth-rejected', { detail: 'OAuth token exchange answered 400: invalid_grant: Invalid JWT Signature.' }), fcmId), [{
                status: 'fail', step: 'OAuth',
                detail: 'https://oauth2.googleapis.com/token refused the assertion signed by sa@proj.iam.gserviceaccount.com (key id k1) (OAuth token exchange answered 400: invalid_grant: Invalid JWT Signature.): the key was deleted or revoked, the file is not the account\'s current key, or this machine\'s clock is off'
            }]);
            assert.deepEqual(describeFcmResult(result('transient', 'oauth-unavailable', { detail: 'OAuth token exchange failed: connect ECONNREFUSED 127.0.0.1:9' }), fcmId),
                [{ status: 'fail', step: 'OAuth', detail: 'no access token from https://oauth2.googleapis.com/token: OAuth token exchange failed: connect ECONNREFUSED 127.0.0.1:9' }]);
        });
        it('no answer from FCM, a transient answer, an unlisted refusal: the send line fails', () => {
            assert.equal(describeFcmResult(result('transient', 'timeout'), fcmId)[1].detail, 'no answer from FCM: timeout');
            assert.match(describeFcmResult(result('transient', 'UNAVAILABLE'), fcmId)[1].detail, /FCM answered UNAVAILABLE: it is busy or down/);
            assert.equal(describeFcmResult(result('config_error', 'http-418', { detail: 'FCM 418: teapot' }), fcmId)[1].detail,
                'FCM refused the check\'s request (http-418); FCM 418: teapot');
        });
    });

    it('the summary line counts each status', () => {
        const row = (status: 'ok' | 'fail' | 'warn' | 'skip') => ({ subject: 's', step: 'x', detail: '', status });
        assert.equal(summarize([row('ok'), row('ok'), row('skip')]), 'All checks passed (2 ok, 1 skipped).');
        assert.equal(summarize([row('ok'), row('warn')]), 'All checks passed (1 ok, 1 warning).');
        assert.equal(summarize([row('ok'), row('fail'), row('fail'), row('warn'), row('warn')]), '2 checks FAILED (1 ok, 2 warnings).');
    });
});
