import { TokenOutcome } from '../push-provider';

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
 * | 403    | InvalidProviderToken, ExpiredProviderToken, MissingProviderToken, BadCertificate, BadCertificateEnvironment, Forbidden | config_error | our credentials are wrong |
 * | 413    | PayloadTooLarge                          | config_error | our payload |
 * | 404, 405 | BadPath, MethodNotAllowed              | config_error | our request |
 * | 429    | TooManyRequests, TooManyProviderTokenUpdates | transient | slow down |
 * | 500, 503 | InternalServerError, ServiceUnavailable, Shutdown | transient | Apple's side |
 * | other 5xx |                                        | transient    | Apple's side |
 * | none   | `error` instead of a status (timeout, connection lost, proxy refused) | transient | no answer |
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
