import { TokenOutcome } from '../push-provider';

/**
 * How each firebase-admin messaging error code is acted on. This table is the policy: the
 * delivery layer deletes subscriptions for 'dead', never retries 'config_error', and retries
 * 'transient' with backoff. Codes are what firebase-admin 13 derives from the FCM v1 error's
 * `details[].errorCode` (falling back to `status`); see the library notes for the mapping.
 *
 * | code                                          | outcome      | why |
 * |-----------------------------------------------|--------------|-----|
 * | messaging/registration-token-not-registered   | dead         | UNREGISTERED / NOT_FOUND: app uninstalled or token rotated |
 * | messaging/invalid-registration-token          | dead         | malformed token (legacy InvalidRegistration) |
 * | messaging/invalid-argument (token is invalid) | dead         | FCM says "The registration token is not a valid FCM registration token" |
 * | messaging/invalid-argument (anything else)    | config_error | our payload is wrong; deleting would punish the user for our bug |
 * | messaging/third-party-auth-error              | config_error | APNs/Web Push credentials in the Firebase project are wrong |
 * | messaging/mismatched-credential               | config_error | SENDER_ID_MISMATCH / PERMISSION_DENIED: wrong project for the token or credential |
 * | messaging/authentication-error                | config_error | 401/403 without JSON: our OAuth token is refused |
 * | messaging/server-unavailable                  | transient    | UNAVAILABLE (503) |
 * | messaging/internal-error                      | transient    | INTERNAL (500) |
 * | messaging/message-rate-exceeded               | transient    | QUOTA_EXCEEDED / RESOURCE_EXHAUSTED (429) |
 * | messaging/unknown-error with a 5xx status     | transient    | a server error FCM did not name |
 * | messaging/unknown-error otherwise             | config_error | an unnamed 4xx is ours to fix, not to retry forever |
 * | messaging/invalid-payload                     | config_error | firebase-admin refused our message before sending it |
 * | app/network-error, app/network-timeout, ...   | transient    | the request never got an answer |
 * | anything not listed                           | config_error | unknown: log at error, never delete, never loop |
 *
 * A rejected `sendEachForMulticast` (session or network failure for the whole call) makes
 * every token of the batch transient; that is handled in the provider, not here.
 */
export const FCM_OUTCOMES: Readonly<Record<string, TokenOutcome>> = {
    'messaging/registration-token-not-registered': 'dead',
    'messaging/invalid-registration-token': 'dead',
    'messaging/third-party-auth-error': 'config_error',
    'messaging/mismatched-credential': 'config_error',
    'messaging/authentication-error': 'config_error',
    'messaging/invalid-payload': 'config_error',
    'messaging/server-unavailable': 'transient',
    'messaging/internal-error': 'transient',
    'messaging/message-rate-exceeded': 'transient',
    'app/network-error': 'transient',
    'app/network-timeout': 'transient',
    'messaging/app/network-error': 'transient'
};

/** The message FCM v1 uses for a syntactically invalid token under INVALID_ARGUMENT. */
const INVALID_TOKEN_MESSAGE = /registration token is not a valid FCM registration token|invalid registration token|registration[_ ]token.*(invalid|not valid)/i;

export interface FcmClassification {
    readonly outcome: TokenOutcome;
    /** A metric label: the error code (fixed set) or one of our own short reasons. */
    readonly reason: string;
}

interface ErrorLike {
    readonly code?: unknown;
    readonly message?: unknown;
}

/** Classifies one per-token error from a `SendResponse`. */
export function classifyFcmError(error: unknown): FcmClassification {
    const e = (error ?? {}) as ErrorLike;
    const code = typeof e.code === 'string' ? e.code : 'unknown';
    const message = typeof e.message === 'string' ? e.message : '';
    if (code === 'messaging/invalid-argument') {
        return INVALID_TOKEN_MESSAGE.test(message)
            ? { outcome: 'dead', reason: 'messaging/invalid-argument:token' }
            : { outcome: 'config_error', reason: code };
    }
    if (code === 'messaging/unknown-error') {
        const status = httpStatusIn(message);
        return { outcome: status !== undefined && status >= 500 ? 'transient' : 'config_error', reason: code };
    }
    const outcome = FCM_OUTCOMES[code];
    if (outcome) {
        return { outcome, reason: code };
    }
    return { outcome: 'config_error', reason: normaliseReason(code) };
}

/**
 * firebase-admin keeps no HTTP status on its errors; for unknown errors it appends the raw
 * response, from which the status can be read ("Status code: 502." or `"code":502`).
 */
export function httpStatusIn(message: string): number | undefined {
    const m = /Status code: (\d{3})/.exec(message) ?? /"code"\s*:\s*(\d{3})/.exec(message);
    return m ? Number(m[1]) : undefined;
}

/** Keeps metric label values to codes of a known shape. */
export function normaliseReason(code: string): string {
    return /^[a-z0-9/_-]{1,64}$/i.test(code) ? code : 'unknown';
}
