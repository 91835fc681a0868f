import { ProviderId, ProviderKind, TokenOutcome, TokenResult } from '../../push/provider';
import { SchemaError } from './request';

/**
 * The HTTP answers of the MongoosePush v3 front door, as MongoosePush gives them
 * (esl/MongoosePush `lib/mongoose_push/api/v3/response_encoder.ex`, its error handlers
 * `lib/mongoose_push/service/{apns,fcm}/error_handler.ex`) and as MongooseIM acts on them
 * (esl/MongooseIM `src/mod_push_service_mongoosepush.erl`, `http_notification/5`):
 * - 2xx: done. MongooseIM never retries anything, so a push we still retry is a 200.
 * - 410: MongooseIM disables the device's push registration. The only cleanup signal, so a
 *   dead token must get it, now or on its next request (the dead-token memory).
 * - any other 4xx: logged by MongooseIM as "Possible API mismatch"; 5xx: logged as an error.
 *   Both lose the notification and keep the registration.
 * Every body is JSON (`application/json`); a 200's is `null`, as MongoosePush's.
 */

/** The first answer for the device token, as the immediate sender reports it. */
export interface FirstAnswer {
    readonly outcome: FirstOutcome;
    /** The provider's code (TokenResult.reason), or ours for dead_held/pending/invalid. */
    readonly reason: string;
}

/**
 * - delivered, dead, config_error, transient: the provider's first answer (TokenResult);
 * - dead_held: the provider said dead, but the mass-deletion guard held it (not a 410);
 * - pending: no answer within `answerWithinMs` (the send goes on);
 * - invalid: the token failed its provider kind's syntax check (TokenSyntax); never sent.
 */
export type FirstOutcome = TokenOutcome | 'dead_held' | 'pending' | 'invalid';

/** `reason` values of MongoosePush v3 error bodies. */
export type V3Reason =
    | 'invalid_request' | 'invalid_notification' | 'no_matching_pool' | 'unregistered'
    | 'payload_too_large' | 'service_internal' | 'internal_config' | 'unspecified';

export type V3Body =
    | null
    | { readonly reason: V3Reason }
    | { readonly errors: readonly SchemaError[] };

/** What decided an answer: the `outcome` label of the front door's request metric (a fixed set). */
export type AnswerLabel = FirstOutcome | 'remembered_dead' | 'no_matching_pool' | 'schema_error' | 'bad_body' | 'unavailable';

export interface V3Answer {
    readonly status: number;
    readonly body: V3Body;
    readonly headers?: Readonly<Record<string, string>>;
    readonly label: AnswerLabel;
}

export const V3_CONTENT_TYPE = 'application/json; charset=utf-8';

/**
 * Provider codes of a `config_error` first answer (the provider refused our request) and the
 * MongoosePush answer for each: APNs reasons (Apple, "Handling notification responses from
 * APNs") and FCM v1 error codes (the FCM provider's reasons: `details[].errorCode`, else
 * `error.status`). Rows follow MongoosePush's error handlers; rows it lacks are
 * marked. A code not listed answers 500 unspecified, as MongoosePush's `{:generic, _}`.
 *
 * | code                                        | MongoosePush class      | answer |
 * |---------------------------------------------|-------------------------|--------|
 * | BadCollapseId, BadDeviceToken*, DeviceTokenNotForTopic, IdleTimeout, PayloadEmpty, TopicDisallowed, Forbidden | invalid_request | 400 invalid_request |
 * | PayloadTooLarge                             | payload_too_large       | 413 payload_too_large |
 * | BadMessageId, BadPriority, BadTopic, DuplicateHeaders, MissingDeviceToken, MethodNotAllowed, BadPath, MissingTopic, BadExpirationDate, InvalidPushType (not in MongoosePush) | internal_config | 503 internal_config |
 * | InvalidProviderToken, ExpiredProviderToken, MissingProviderToken, BadCertificate, BadCertificateEnvironment, UnrelatedKeyIdInToken, BadEnvironmentKeyInToken (last two not in MongoosePush) | auth (masked) | 503 service_internal |
 * | INVALID_ARGUMENT (FCM v1)                   | INVALID_ARGUMENT → invalid_request | 400 invalid_request |
 * | render-failed                               | refused before sending (Sparrow: invalid_notification) | 400 invalid_notification |
 * | SENDER_ID_MISMATCH, PERMISSION_DENIED, THIRD_PARTY_AUTH_ERROR, APNS_AUTH_ERROR, UNAUTHENTICATED, oauth-rejected | auth (masked) | 503 service_internal |
 * | NOT_FOUND (the project, not the token)      | internal_config | 503 internal_config |
 *
 * *BadDeviceToken is classified `dead` by the APNs provider, so it reaches this table only if
 * that policy changes; MongoosePush answers it 400 invalid_request.
 */
export const CONFIG_ERROR_ANSWERS: Readonly<Record<string, readonly [number, V3Reason]>> = {
    BadCollapseId: [400, 'invalid_request'],
    BadDeviceToken: [400, 'invalid_request'],
    DeviceTokenNotForTopic: [400, 'invalid_request'],
    IdleTimeout: [400, 'invalid_request'],
    PayloadEmpty: [400, 'invalid_request'],
    TopicDisallowed: [400, 'invalid_request'],
    Forbidden: [400, 'invalid_request'],
    PayloadTooLarge: [413, 'payload_too_large'],
    BadMessageId: [503, 'internal_config'],
    BadPriority: [503, 'internal_config'],
    BadTopic: [503, 'internal_config'],
    DuplicateHeaders: [503, 'internal_config'],
    MissingDeviceToken: [503, 'internal_config'],
    MethodNotAllowed: [503, 'internal_config'],
    BadPath: [503, 'internal_config'],
    MissingTopic: [503, 'internal_config'],
    BadExpirationDate: [503, 'internal_config'],
    InvalidPushType: [503, 'internal_config'],
    InvalidProviderToken: [503, 'service_internal'],
    ExpiredProviderToken: [503, 'service_internal'],
    MissingProviderToken: [503, 'service_internal'],
    BadCertificate: [503, 'service_internal'],
    BadCertificateEnvironment: [503, 'service_internal'],
    UnrelatedKeyIdInToken: [503, 'service_internal'],
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

const OK: V3Answer = { status: 200, body: null, label: 'delivered' };

/**
 * The answer for the token's first answer:
 * - delivered → 200; transient, pending → 200 too: we own the retries from here
 *   (MongooseIM has no retry of its own), and a dead token found later is answered 410 on
 *   its next request through the dead-token memory;
 * - dead (past the mass-deletion guard) → 410 {"reason":"unregistered"}, for every dead code
 *   (APNs Unregistered/ExpiredToken/BadDeviceToken, FCM UNREGISTERED/invalid token), as the
 *   providers' tables define dead. MongoosePush answers 410 only for Unregistered and
 *   UNREGISTERED, 400 invalid_request for BadDeviceToken and FCM INVALID_ARGUMENT;
 * - dead_held → 503 {"reason":"service_internal"}: the guard suspects our config (a wrong
 *   APNs environment makes every token look dead), so the device keeps its registration;
 * - config_error → CONFIG_ERROR_ANSWERS;
 * - invalid (fails the kind's token syntax, never sent) → 400 {"reason":"invalid_request"}:
 *   what MongoosePush answers when APNs says BadDeviceToken or FCM INVALID_ARGUMENT for it.
 *   Not 410: only a provider may call a token dead.
 */
export function answerFirst(first: FirstAnswer): V3Answer {
    switch (first.outcome) {
        case 'delivered':
            return OK;
        case 'transient':
        case 'pending':
            return { ...OK, label: first.outcome };
        case 'dead':
            return { status: 410, body: { reason: 'unregistered' }, label: 'dead' };
        case 'dead_held':
            return { status: 503, body: { reason: 'service_internal' }, label: 'dead_held' };
        case 'invalid':
            return { status: 400, body: { reason: 'invalid_request' }, label: 'invalid' };
        case 'config_error': {
            const [status, reason] = CONFIG_ERROR_ANSWERS[first.reason] ?? [500, 'unspecified'];
            return { status, body: { reason }, label: 'config_error' };
        }
    }
}

/**
 * The first answer from the immediate sender's report: its TokenResult (undefined when none
 * came within the deadline) and whether the mass-deletion guard held a dead one.
 */
export function firstAnswerOf(result: TokenResult | undefined, deadHeld = false): FirstAnswer {
    if (!result) {
        return { outcome: 'pending', reason: 'deadline' };
    }
    return { outcome: result.outcome === 'dead' && deadHeld ? 'dead_held' : result.outcome, reason: result.reason };
}

/** The token is in the dead-token memory: 410 without sending. */
export const REMEMBERED_DEAD: V3Answer = { status: 410, body: { reason: 'unregistered' }, label: 'remembered_dead' };

/** No configured route for (service, mode, tags): MongoosePush's `{:generic, :no_matching_pool}`. */
export const NO_MATCHING_POOL: V3Answer = { status: 400, body: { reason: 'no_matching_pool' }, label: 'no_matching_pool' };

/** Schema errors of the body or the device_id (request.ts): OpenApiSpex's 422. */
export function answerSchemaErrors(errors: readonly SchemaError[]): V3Answer {
    return { status: 422, body: { errors }, label: 'schema_error' };
}

/**
 * A body that cannot be read: not JSON → 400 invalid_request (MongoosePush's Plug.Parsers
 * refuses it before any of its own code); larger than max_body_size → 413 payload_too_large.
 */
export function answerBadBody(problem: 'not_json' | 'too_large'): V3Answer {
    return problem === 'too_large' ?
        { status: 413, body: { reason: 'payload_too_large' }, label: 'bad_body' } :
        { status: 400, body: { reason: 'invalid_request' }, label: 'bad_body' };
}

/**
 * We cannot take the push now (the immediate sender is full, or we are draining for
 * shutdown): 503 with Retry-After (seconds, at least 1). MongooseIM does not retry, but logs
 * the answer; another MongooseIM node or a load balancer may.
 */
export function answerUnavailable(retryAfterSeconds: number): V3Answer {
    return {
        status: 503,
        body: { reason: 'service_internal' },
        headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) },
        label: 'unavailable'
    };
}

/** One provider instance behind the front door, for GET /healthcheck. */
export interface InstanceHealth {
    readonly provider: ProviderId;
    readonly kind: ProviderKind;
    /** Can it send now (credentials loaded, not known broken)? The registry decides. */
    readonly usable: boolean;
    /** Why not, in words, when not usable (never a credential). */
    readonly detail?: string;
}

/** draft-inadarei-api-health-check, as MongoosePush's HealthcheckController shapes it. */
export interface HealthcheckBody {
    readonly status: 'pass' | 'warn' | 'fail';
    readonly version: string;
    readonly description: string;
    readonly checks: Readonly<Record<string, readonly HealthcheckEntry[]>>;
}

export interface HealthcheckEntry {
    readonly componentId: ProviderId;
    readonly componentType: ProviderKind;
    readonly status: 'pass' | 'fail';
    readonly time: string;
    readonly output?: string;
}

/**
 * GET /healthcheck: one check per provider instance the front door routes to, keyed
 * `provider:<id>` (MongoosePush: `pool:<name>`). Status pass when all are usable, fail when
 * none is, warn otherwise; HTTP 503 only when none is usable, as MongoosePush.
 */
export function healthcheckAnswer(instances: readonly InstanceHealth[], version: string,
    now: Date): { readonly status: 200 | 503; readonly body: HealthcheckBody } {
    const time = now.toISOString();
    const checks = Object.fromEntries(instances.map((i): [string, HealthcheckEntry[]] => [`provider:${i.provider}`, [{
        componentId: i.provider,
        componentType: i.kind,
        status: i.usable ? 'pass' : 'fail',
        time,
        ...(!i.usable && i.detail !== undefined && { output: i.detail })
    }]]));
    const usable = instances.filter((i) => i.usable).length;
    const status = usable === instances.length ? 'pass' : usable === 0 ? 'fail' : 'warn';
    return {
        status: usable === 0 ? 503 : 200,
        body: { status, version, description: 'Health of the push providers behind the MongoosePush API', checks }
    };
}
