import { TokenOutcome } from '../../push/provider';
import { tokenFingerprint } from '../../logging/redact';
import { parseRetryAfter } from '../../util/retry-after';

/**
 * How each FCM HTTP v1 error answer is acted on. This table is the policy: the delivery layer
 * deletes subscriptions for 'dead', never retries 'config_error' (beyond its configured
 * attempts) and retries 'transient' after Retry-After or with backoff.
 *
 * The key is FCM's own code: `error.details[].errorCode` of the
 * `type.googleapis.com/google.firebase.fcm.v1.FcmError` detail (FCM enum ErrorCode), else the
 * google.rpc `error.status` (FCM "REST error codes for the HTTP v1 API",
 * https://firebase.google.com/docs/cloud-messaging/error-codes). The key is also the `reason`.
 *
 * | key (reason)             | HTTP | outcome      | why |
 * |--------------------------|------|--------------|-----|
 * | UNREGISTERED             | 404  | dead         | the app was uninstalled or the token expired or was rotated |
 * | INVALID_ARGUMENT:token   | 400  | dead         | FCM says the token itself is not a valid FCM registration token (see below) |
 * | INVALID_ARGUMENT         | 400  | config_error | any other invalid argument: our payload (bad TTL, data key, too big); deleting would punish the user for our bug |
 * | SENDER_ID_MISMATCH       | 403  | config_error | the token belongs to another Firebase project than our credentials |
 * | PERMISSION_DENIED        | 403  | config_error | the service account lacks cloudmessaging.messages.create on the project |
 * | THIRD_PARTY_AUTH_ERROR   | 401  | config_error | the APNs certificate or key (or Web Push auth) in the Firebase project is wrong |
 * | APNS_AUTH_ERROR          | 401  | config_error | the deprecated name of THIRD_PARTY_AUTH_ERROR |
 * | UNAUTHENTICATED          | 401  | config_error | our access token is refused. The provider first refreshes it and retries the token once (issue 11 §2: it expired or was revoked on Google's side); only a 401 with the fresh token lands here |
 * | NOT_FOUND                | 404  | config_error | a 404 that is not UNREGISTERED: wrong project or URL (never a reason to delete) |
 * | QUOTA_EXCEEDED           | 429  | transient    | project, device or topic message rate exceeded; Retry-After honoured |
 * | RESOURCE_EXHAUSTED       | 429  | transient    | the same without an FcmError detail |
 * | UNAVAILABLE              | 503  | transient    | FCM overloaded; Retry-After honoured |
 * | INTERNAL                 | 500  | transient    | FCM internal error |
 *
 * Answers without a key in this table go by HTTP status: 5xx, 408 and 429 are transient,
 * any other status is config_error (an unnamed 4xx is ours to fix, not to retry forever).
 * Their reason is the key when it has the shape of a google.rpc / FCM code (A_Z), else
 * `http-<status>` (a proxy's HTML error page, a non-JSON body). A 401 is always first handled
 * as UNAUTHENTICATED unless its errorCode is THIRD_PARTY_AUTH_ERROR / APNS_AUTH_ERROR.
 *
 * When is an INVALID_ARGUMENT about the token? FCM's documented answer for an invalid
 * registration token (error-codes page, example 2) is HTTP 400, status INVALID_ARGUMENT,
 * `message` "The registration token is not a valid FCM registration token", and a single
 * FcmError detail with errorCode INVALID_ARGUMENT; an invalid payload instead carries a
 * `google.rpc.BadRequest` detail whose `fieldViolations[].field` names the field
 * ('message.data[0].value', 'message.android.ttl'). So INVALID_ARGUMENT is `dead` only when
 * no field violation names anything other than `message.token`, and either a violation names
 * `message.token` or the message is FCM's sentence above. Everything else is config_error.
 *
 * Requests that got no answer are not classified here: the provider makes them transient
 * ('timeout' past fcm.requestTimeoutMs, 'connection-error' otherwise), and a failed OAuth
 * exchange makes the call's tokens 'oauth-rejected' (config_error) or 'oauth-unavailable'
 * (transient).
 */
export const FCM_ERROR_OUTCOMES: Readonly<Record<string, TokenOutcome>> = Object.freeze({
    UNREGISTERED: 'dead',
    'INVALID_ARGUMENT:token': 'dead',
    INVALID_ARGUMENT: 'config_error',
    SENDER_ID_MISMATCH: 'config_error',
    PERMISSION_DENIED: 'config_error',
    THIRD_PARTY_AUTH_ERROR: 'config_error',
    APNS_AUTH_ERROR: 'config_error',
    UNAUTHENTICATED: 'config_error',
    NOT_FOUND: 'config_error',
    QUOTA_EXCEEDED: 'transient',
    RESOURCE_EXHAUSTED: 'transient',
    UNAVAILABLE: 'transient',
    INTERNAL: 'transient'
});

/** FCM's sentence for an invalid registration token (FCM error-codes page, example 2). */
const INVALID_TOKEN_MESSAGE = /The registration token is not a valid FCM registration token/i;
const FCM_ERROR_TYPE = 'type.googleapis.com/google.firebase.fcm.v1.FcmError';
const BAD_REQUEST_TYPE = 'type.googleapis.com/google.rpc.BadRequest';
const CODE_SHAPE = /^[A-Z][A-Z_]{0,39}$/;
/** Longest `detail` kept for the error line. */
const DETAIL_MAX = 300;

export interface FcmClassification {
    readonly outcome: TokenOutcome;
    /** A metric label: a key of FCM_ERROR_OUTCOMES, another A_Z code, or `http-<status>`. */
    readonly reason: string;
    /** Transient only: Retry-After of this answer, in ms (both forms, RFC 9110 §10.2.3). */
    readonly retryAfterMs?: number;
    /** What FCM said (`error.message`, or the start of a non-JSON body), the token redacted. */
    readonly detail?: string;
    /** A 401 about our access token: refresh it and retry the token once (the provider does). */
    readonly refreshCredential?: boolean;
}

interface GoogleError {
    readonly code?: unknown;
    readonly message?: unknown;
    readonly status?: unknown;
    readonly details?: unknown;
}

/**
 * Classifies one non-2xx answer of `POST /v1/projects/{project}/messages:send`.
 * @param status the HTTP status
 * @param body the response body as text (JSON `{error: {code, message, status, details}}` or not)
 * @param retryAfter the Retry-After header, if any
 * @param token the token sent (wire form), only to redact it from `detail`
 * @param now epoch ms the answer arrived (for an HTTP-date Retry-After)
 */
export function classifyFcmError(status: number, body: string, retryAfter?: string | readonly string[],
    token?: string, now: number = Date.now()): FcmClassification {
    const error = parseGoogleError(body);
    const details = Array.isArray(error?.details) ? (error.details as unknown[]) : [];
    const errorCode = fcmErrorCode(details);
    const rpcStatus = typeof error?.status === 'string' ? error.status : undefined;
    let key = errorCode ?? rpcStatus;
    const message = typeof error?.message === 'string' ? error.message : error ? '' : body;
    if (status === 401 && key !== 'THIRD_PARTY_AUTH_ERROR' && key !== 'APNS_AUTH_ERROR') {
        key = 'UNAUTHENTICATED';
    } else if (key === 'INVALID_ARGUMENT' && saysTokenInvalid(details, message)) {
        key = 'INVALID_ARGUMENT:token';
    }
    const known = key !== undefined ? FCM_ERROR_OUTCOMES[key] : undefined;
    const outcome: TokenOutcome = known ?? (status >= 500 || status === 408 || status === 429 ? 'transient' : 'config_error');
    const reason = key !== undefined && CODE_SHAPE.test(key.replace(':token', '')) ? key : `http-${status}`;
    const detail = redact(message, token);
    const result: FcmClassification = { outcome, reason, ...(detail ? { detail } : {}) };
    if (key === 'UNAUTHENTICATED') {
        return { ...result, refreshCredential: true };
    }
    if (outcome === 'transient') {
        const retryAfterMs = parseRetryAfter(retryAfter, now);
        return retryAfterMs !== undefined ? { ...result, retryAfterMs } : result;
    }
    return result;
}

function parseGoogleError(body: string): GoogleError | undefined {
    if (!body || body[0] !== '{') {
        return undefined;
    }
    try {
        const parsed = JSON.parse(body) as { error?: unknown };
        return typeof parsed.error === 'object' && parsed.error !== null ? parsed.error : undefined;
    } catch {
        return undefined;
    }
}

function fcmErrorCode(details: unknown[]): string | undefined {
    for (const d of details) {
        const o = d as { '@type'?: unknown; errorCode?: unknown };
        if (o?.['@type'] === FCM_ERROR_TYPE && typeof o.errorCode === 'string') {
            return o.errorCode;
        }
    }
    return undefined;
}

function saysTokenInvalid(details: unknown[], message: string): boolean {
    const fields: string[] = [];
    for (const d of details) {
        const o = d as { '@type'?: unknown; fieldViolations?: unknown };
        if (o?.['@type'] === BAD_REQUEST_TYPE && Array.isArray(o.fieldViolations)) {
            for (const v of o.fieldViolations as { field?: unknown }[]) {
                fields.push(typeof v?.field === 'string' ? v.field : '');
            }
        }
    }
    if (fields.some((f) => f !== 'message.token')) {
        return false;
    }
    return fields.length > 0 || INVALID_TOKEN_MESSAGE.test(message);
}

function redact(text: string, token: string | undefined): string {
    const safe = token && text.includes(token) ? text.split(token).join(tokenFingerprint(token)) : text;
    return safe.length > DETAIL_MAX ? `${safe.slice(0, DETAIL_MAX)}…` : safe;
}
