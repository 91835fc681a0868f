import { isAnswer, TokenResult } from '../../push/provider';
import { errorMessage } from '../../util/errors';
import { CHECK_MESSAGE, CheckLine, CheckTarget, sendOne } from '../provider-check';
import { FcmIdentity, FcmProvider } from './fcm-provider';

/**
 * A token FCM never issued (printable ASCII, so fcmTokenSyntax lets it through). FCM checks
 * the access token, then the project and the account's permission on it, and only then
 * the message: so `400 INVALID_ARGUMENT` "The registration token is not a valid FCM
 * registration token" for it, in a `validate_only` request, proves that the service
 * account's key and the project are accepted; nothing is sent to any device either way.
 */
export const FCM_CHECK_TOKEN = 'invalid-registration-token-for-push-notifications-check';

interface Verdict {
    readonly ok: boolean;
    readonly says: (id: FcmIdentity, r: TokenResult) => string;
}

const fcmSaid = (r: TokenResult): string => (r.detail ? `; ${r.detail}` : '');

/**
 * What each answer to the check's `validate_only` request means, by the provider's reason
 * (fcm-errors.ts FCM_ERROR_OUTCOMES; 'validated' is a 200). A reason not listed is a
 * failure, described from its outcome (see describeFcmAnswer).
 */
export const FCM_CHECK_ANSWERS: Readonly<Record<string, Verdict>> = {
    validated: { ok: true, says: (id) => `FCM accepted a validate_only message for project ${id.projectId} (nothing is delivered)` },
    'INVALID_ARGUMENT:token': {
        ok: true, says: (id) => `FCM accepted the credentials for project ${id.projectId}; the dummy token was refused, as expected (INVALID_ARGUMENT)`
    },
    UNREGISTERED: { ok: true, says: (id) => `FCM accepted the credentials for project ${id.projectId}; the dummy token was refused (UNREGISTERED)` },
    PERMISSION_DENIED: {
        ok: false,
        says: (id, r) => `${id.clientEmail} may not send messages for project ${id.projectId} (PERMISSION_DENIED): check project_id, that the Firebase Cloud Messaging API is enabled, and that the account has the role "Firebase Cloud Messaging API Admin"${fcmSaid(r)}`
    },
    SENDER_ID_MISMATCH: {
        ok: false, says: (id) => `project ${id.projectId} is not the project of these credentials (SENDER_ID_MISMATCH): set project_id to the service account's project`
    },
    NOT_FOUND: { ok: false, says: (id, r) => `FCM does not know project ${id.projectId} (NOT_FOUND): project_id is probably wrong${fcmSaid(r)}` },
    UNAUTHENTICATED: {
        ok: false,
        says: (id, r) => `FCM refused a freshly issued access token of ${id.clientEmail} (UNAUTHENTICATED): the account may be disabled, or the token endpoint is not Google's${fcmSaid(r)}`
    },
    THIRD_PARTY_AUTH_ERROR: {
        ok: false, says: (id) => `the APNs or Web Push credentials stored in Firebase project ${id.projectId} are wrong (THIRD_PARTY_AUTH_ERROR)`
    },
    APNS_AUTH_ERROR: { ok: false, says: (id) => `the APNs credentials stored in Firebase project ${id.projectId} are wrong (APNS_AUTH_ERROR)` },
    INVALID_ARGUMENT: { ok: false, says: (_id, r) => `FCM refused the check's message itself (INVALID_ARGUMENT)${fcmSaid(r)}` }
};

/** The OAuth line and the `validate_only` line for one result of the check's request. */
export function describeFcmResult(r: TokenResult, id: FcmIdentity): CheckLine[] {
    const account = `${id.clientEmail}${id.privateKeyId ? ` (key id ${id.privateKeyId})` : ''}`;
    if (r.reason === 'oauth-rejected') {
        return [{
            status: 'fail', step: 'OAuth',
            detail: `${id.tokenUri} refused the assertion signed by ${account} (${r.detail ?? 'rejected'}): the key was deleted or revoked, the file is not the account's current key, or this machine's clock is off`
        }];
    }
    if (r.reason === 'oauth-unavailable') {
        return [{ status: 'fail', step: 'OAuth', detail: `no access token from ${id.tokenUri}: ${r.detail ?? 'unavailable'}` }];
    }
    const oauth: CheckLine = { status: 'ok', step: 'OAuth', detail: `${id.tokenUri} issued an access token to ${account}` };
    if (!isAnswer(r)) {
        return [oauth, { status: 'fail', step: 'validate_only send', detail: `no answer from FCM: ${r.detail ?? r.reason}` }];
    }
    const verdict = FCM_CHECK_ANSWERS[r.reason];
    if (verdict) {
        return [oauth, { status: verdict.ok ? 'ok' : 'fail', step: 'validate_only send', detail: verdict.says(id, r) }];
    }
    const detail = r.outcome === 'transient'
        ? `FCM answered ${r.reason}: it is busy or down, so nothing was concluded; try again later`
        : `FCM refused the check's request (${r.reason})${fcmSaid(r)}`;
    return [oauth, { status: 'fail', step: 'validate_only send', detail }];
}

/**
 * Checks one FCM instance through its own provider: one `validate_only` request (a dry-run
 * batch) for FCM_CHECK_TOKEN, which first exchanges the service account's signed assertion
 * for an access token (the OAuth line), then asks FCM to validate the message (the
 * validate_only line, read with FCM_CHECK_ANSWERS).
 */
export async function checkFcmInstance(target: CheckTarget<'fcm'>): Promise<CheckLine[]> {
    if (!(target.provider instanceof FcmProvider)) {
        return [{ status: 'fail', step: 'service account', detail: errorMessage(target.buildError ?? 'the provider could not be built') }];
    }
    const id = target.provider.identity;
    const r = await sendOne(target.provider, FCM_CHECK_TOKEN, CHECK_MESSAGE, true);
    return [{ status: 'ok', step: 'service account', detail: `${id.clientEmail}, project ${id.projectId}` }, ...describeFcmResult(r, id)];
}
