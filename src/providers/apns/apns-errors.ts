import { TokenOutcome } from '../../push/provider';
import { ApnsDeadlineError } from './apns-connection';

/**
 * How each APNs answer is acted on (Apple: "Handling notification responses from APNs").
 * This table is the policy: 'dead' deletes the subscription, 'config_error' is logged at
 * error level and never retried or deleted, 'transient' is retried with backoff.
 *
 * | status | reason                                   | outcome      | why |
 * |--------|------------------------------------------|--------------|-----|
 * | 410    | Unregistered, ExpiredToken (any reason)  | dead         | the token is no longer valid for the topic |
 * | 400    | BadDeviceToken                           | dead         | the token is malformed or for the other environment* |
 * | 400    | DeviceTokenNotForTopic, TopicDisallowed, BadTopic, MissingTopic | config_error | our topic is wrong |
 * | 400    | any other reason (BadPayload, PayloadEmpty, BadPushType, ...)   | config_error | our request is wrong |
 * | 403    | ExpiredProviderToken                     | retried at once, once; a repeat is config_error | the JWT went stale (clock skew, a long-lived connection); node-apn signs a fresh one on this answer |
 * | 403    | InvalidProviderToken, MissingProviderToken, BadCertificate, BadCertificateEnvironment, Forbidden | config_error | our credentials are wrong (node-apn does not re-sign on InvalidProviderToken: a wrong key or key id stays wrong) |
 * | 413    | PayloadTooLarge                          | config_error | our payload |
 * | 404, 405 | BadPath, MethodNotAllowed              | config_error | our request |
 * | 429    | TooManyRequests, TooManyProviderTokenUpdates | transient | slow down |
 * | 500, 503 | InternalServerError, ServiceUnavailable, Shutdown | transient | Apple's side |
 * | other 5xx |                                        | transient    | Apple's side |
 * | none   | a deadline passed (connect, proxy CONNECT, TLS handshake, request) | transient `timeout` | no answer in time |
 * | none   | `error` instead of a status (connection refused or lost, proxy refused) | transient `connection-error` | no answer |
 * | not sent | the token is not hex of 32..100 bytes (apnsTokenSyntax) | dead `invalid_token` | it cannot be a device token |
 *
 * *A production build's token sent to the sandbox (or the reverse) is BadDeviceToken too:
 * a wrong `apns.production` makes every token look dead, which the delivery layer's
 * mass-deletion guard exists to catch.
 */
export const APNS_REASON_OUTCOMES: Readonly<Record<string, TokenOutcome>> = {
    Unregistered: 'dead',
    ExpiredToken: 'dead',
    BadDeviceToken: 'dead',
    DeviceTokenNotForTopic: 'config_error',
    TopicDisallowed: 'config_error',
    BadTopic: 'config_error',
    MissingTopic: 'config_error',
    InvalidProviderToken: 'config_error',
    ExpiredProviderToken: 'config_error',
    MissingProviderToken: 'config_error',
    BadCertificate: 'config_error',
    BadCertificateEnvironment: 'config_error',
    Forbidden: 'config_error',
    TooManyRequests: 'transient',
    TooManyProviderTokenUpdates: 'transient',
    InternalServerError: 'transient',
    ServiceUnavailable: 'transient',
    Shutdown: 'transient'
};

export interface ApnsClassification {
    readonly outcome: TokenOutcome;
    readonly reason: string;
}

/** Classifies one node-apn failure: `{status, response: {reason}}` or `{error}`. */
export function classifyApnsFailure(status: number | undefined, reason: string | undefined): ApnsClassification {
    if (status === undefined) {
        return { outcome: 'transient', reason: 'connection-error' };
    }
    const r = reason && /^[A-Za-z]{1,64}$/.test(reason) ? reason : `http-${status}`;
    if (status === 410) {
        return { outcome: 'dead', reason: r };
    }
    if (status === 429 || status >= 500) {
        return { outcome: 'transient', reason: r };
    }
    // Known reasons decide (BadDeviceToken is dead); every other 4xx is ours to fix.
    const known = reason !== undefined ? APNS_REASON_OUTCOMES[reason] : undefined;
    if (known === 'dead' && status === 400) {
        return { outcome: 'dead', reason: r };
    }
    return { outcome: 'config_error', reason: r };
}

/** What node-apn reports for one failed token (`Provider.send` → `failed[i]`). */
export interface NodeApnFailure {
    readonly status?: number | string;
    readonly response?: { readonly reason?: string };
    readonly error?: Error;
}

export interface ApnsFailure extends ApnsClassification {
    /** The HTTP status, when APNs answered. */
    readonly status?: number;
    /** No answer because a deadline passed (reason 'timeout'). */
    readonly deadline?: ApnsDeadlineError | 'request';
    /** 403 ExpiredProviderToken: node-apn has signed a fresh JWT; worth one immediate retry. */
    readonly staleJwt: boolean;
    /** node-apn's error text, for the one log line (never contains a token). */
    readonly error?: string;
}

/**
 * Classifies one node-apn failure. node-apn reports three shapes: `{status, response:
 * {reason}}` for an APNs answer with a body; `{status, error}` where it turned the answer into
 * its own error (403 ExpiredProviderToken, 500 InternalServerError: the error's message is the
 * reason or a sentence); `{error}` with no status when no answer came (its request timeout:
 * 'apn write timeout'; a stream or session error: 'apn write failed: <cause>'; an answer with
 * an empty body: 'stream ended unexpectedly with status N and empty body').
 */
export function classifyNodeApnFailure(f: NodeApnFailure): ApnsFailure {
    let status = typeof f.status === 'number' ? f.status : Number(f.status) || undefined;
    const message = f.error?.message;
    if (status === undefined && message) {
        const m = /with status (\d{3}) and empty body/.exec(message);
        status = m ? Number(m[1]) : undefined;
    }
    if (status === undefined) {
        const deadline = deadlineOf(f.error);
        return deadline ?
            { outcome: 'transient', reason: 'timeout', deadline, staleJwt: false, error: message } :
            { outcome: 'transient', reason: 'connection-error', staleJwt: false, error: message };
    }
    // node-apn hides some reasons in its error: a bare word is the reason.
    const reason = f.response?.reason ?? (message && /^[A-Za-z]+$/.test(message) ? message : undefined);
    const c = classifyApnsFailure(status, reason);
    return { ...c, status, staleJwt: status === 403 && reason === 'ExpiredProviderToken' };
}

/** The deadline behind an error (our connect deadline anywhere in its cause chain, or node-apn's request timeout). */
function deadlineOf(e: Error | undefined): ApnsDeadlineError | 'request' | undefined {
    for (let cur: unknown = e, depth = 0; cur instanceof Error && depth < 5; depth++) {
        if (cur instanceof ApnsDeadlineError) {
            return cur;
        }
        cur = (cur as { jse_cause?: unknown }).jse_cause ?? cur.cause;
    }
    return e?.message === 'apn write timeout' ? 'request' : undefined;
}
