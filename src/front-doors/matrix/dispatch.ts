import type { PushMessage } from '../../push/message';

/**
 * What to do with one device of a notification, as a payload builder decides it from the
 * notification, the device and its app's settings (Sygnal's pushkins, before any network):
 * - `send`: give `message` to the app's provider with `token` (the provider's token string:
 *   the APNs hex token, the FCM registration token, or the Web Push subscription JSON); the
 *   pushkey (what `rejected` must echo) stays with the caller;
 * - `skip`: nothing to send; answer without rejecting the pushkey (Sygnal returns `[]`);
 * - `reject`: the pusher's own data can never work; Sygnal lists the pushkey in `rejected`
 *   (its tests pin this: test_misconfigured_payload_is_rejected, test_misformed_default_payload_rejected;
 *   webpushpushkin.py for an incomplete subscription). The caller applies its own guard.
 * `reason` is a metric label from the small fixed sets below.
 */
export type DeviceDispatch =
    | { readonly action: 'send'; readonly token: string; readonly message: PushMessage }
    | { readonly action: 'skip'; readonly reason: SkipReason }
    | { readonly action: 'reject'; readonly reason: RejectReason };

export type SkipReason =
    /** Nothing to say: APNs without alert or badge, FCM without room, event or counts (Sygnal: "Nothing to do"). */
    | 'no_content'
    /** Web Push pusher with `events_only: true` and a notification without event (sygnal#186). */
    | 'events_only'
    /** Web Push endpoint outside `allowed_endpoints` (Sygnal drops it, and so do we: a wrong list must not delete pushers). */
    | 'endpoint_not_allowed'
    /** The APNs payload cannot be cut to 4096 bytes (Sygnal: BodyTooLongException, a 500). */
    | 'payload_too_large';

export type RejectReason =
    /** `default_payload` (or its `aps`) is not an object. */
    | 'invalid_default_payload'
    /** Web Push pusher data without a string `endpoint` (an http(s) URL) and `auth`, or not an object. */
    | 'invalid_subscription'
    /** An APNs pushkey that is neither base64 nor hex (Sygnal crashes with a 500 on it). */
    | 'invalid_token';

export function skip(reason: SkipReason): DeviceDispatch {
    return { action: 'skip', reason };
}

export function reject(reason: RejectReason): DeviceDispatch {
    return { action: 'reject', reason };
}

/** The `type` of every message the Matrix front door builds (PushMessage.type). */
export const MATRIX_MESSAGE_TYPE = 'matrix';

/** Python truthiness of a JSON value, for porting Sygnal's `if value:` tests exactly. */
export function pyTruthy(v: unknown): boolean {
    if (v === undefined || v === null || v === false || v === 0 || v === '') {
        return false;
    }
    if (Array.isArray(v)) {
        return v.length > 0;
    }
    if (typeof v === 'object') {
        return Object.keys(v).length > 0;
    }
    return true;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
    return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The `default_payload` that applies: the pusher's (`data.default_payload`, when its data is
 * non-empty and has the key: Sygnal's `if device.data: device.data.get("default_payload", {})`),
 * else the app's configured one (our addition), else `{}`. `invalid` when the pusher's is not
 * an object (Sygnal rejects the pushkey).
 */
export function effectiveDefaultPayload(data: Readonly<Record<string, unknown>> | undefined,
    appDefault: Readonly<Record<string, unknown>> | undefined): Readonly<Record<string, unknown>> | 'invalid' {
    if (pyTruthy(data) && Object.prototype.hasOwnProperty.call(data, 'default_payload')) {
        const dp = data!.default_payload;
        return isPlainObject(dp) ? dp : 'invalid';
    }
    return appDefault ?? {};
}
