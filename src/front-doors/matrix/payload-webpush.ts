import { createHash } from 'node:crypto';
import type { PushMessage } from '../../push/message';
import type { WebPushPayloadOptions } from './apps-config';
import { DeviceDispatch, isPlainObject, MATRIX_MESSAGE_TYPE, pyTruthy, reject, skip } from './dispatch';
import type { MatrixDevice, MatrixNotification } from './notification';
import { codePointLength, sliceCodePoints } from './text';

/**
 * The Web Push message Sygnal sends (sygnal/webpushpushkin.py), as a PushMessage whose
 * `webpush.payload` is Sygnal's JSON plaintext, and the subscription our Web Push provider
 * takes as its token.
 *
 * The pusher: pushkey = the subscription's `p256dh` key; `data.endpoint` and `data.auth` the
 * rest of it (missing, or `data` not an object: the pushkey is rejected, as in Sygnal);
 * `data.events_only: true` skips notifications without an event (sygnal#186);
 * `data.only_last_per_room: true` sets a Topic per room, so the push service keeps only the
 * latest undelivered message of a room. An endpoint outside the app's `allowed_endpoints` is
 * skipped, not rejected (as in Sygnal).
 *
 * The payload: the pusher's `default_payload` (ignored unless an object), then the non-empty
 * `room_id`, `room_name`, `room_alias`, `membership`, `event_id`, `sender`,
 * `sender_display_name`, `user_is_target`, `type`; `unread` and `missed_calls` (zeros kept);
 * and `content` without `formatted_body`, its `body` cut to 1000 characters (999 and `…`),
 * its `ciphertext` dropped when over 2000 characters.
 *
 * Differences from Sygnal, both forced by RFC 8030 / the model:
 * - Topic: Sygnal sends base64url(blake2s-176(room_id)), 32 characters ending in `==`, which
 *   RFC 8030 §5.4's alphabet does not allow (and the web-push package refuses); here it is
 *   base64url(SHA-256(room_id)[0..24]), 32 characters without padding. Only its equality per
 *   room matters.
 * - Urgency: Sygnal sends `low` for `prio: low`, else `normal`. PushMessage can only say
 *   high or normal, so both are `normal` (RFC 8030 §5.3: normal is a chat message).
 * `tweaks.sound` has no Web Push field: the service worker shows the notification.
 */
export function buildWebPushDispatch(n: MatrixNotification, device: MatrixDevice, options: WebPushPayloadOptions): DeviceDispatch {
    const p256dh = device.pushkey;
    const data = device.data;
    if (!isPlainObject(data)) {
        return reject('invalid_subscription');
    }
    if (data.events_only === true && !n.event_id) {
        return skip('events_only');
    }
    const endpoint = data.endpoint;
    const auth = data.auth;
    if (!p256dh || typeof endpoint !== 'string' || typeof auth !== 'string') {
        return reject('invalid_subscription');
    }
    const netloc = endpointNetloc(endpoint);
    if (netloc === undefined) {
        return reject('invalid_subscription');
    }
    if (options.allowedEndpoints && !options.allowedEndpoints.some((re) => re.test(netloc))) {
        return skip('endpoint_not_allowed');
    }
    const message: PushMessage = {
        type: MATRIX_MESSAGE_TYPE,
        priority: 'normal',
        ...(n.room_id && data.only_last_per_room === true ? { collapseKey: roomTopic(n.room_id) } : {}),
        webpush: { payload: webPushPayload(n, data) }
    };
    return { action: 'send', token: webPushSubscription(endpoint, p256dh, auth), message };
}

/** Sygnal's MAX_BODY_LENGTH (characters) and MAX_CIPHERTEXT_LENGTH. */
export const WEBPUSH_MAX_BODY_LENGTH = 1000;
export const WEBPUSH_MAX_CIPHERTEXT_LENGTH = 2000;

const PAYLOAD_FIELDS = ['room_id', 'room_name', 'room_alias', 'membership', 'event_id', 'sender', 'sender_display_name',
    'user_is_target', 'type'] as const;

/** `_build_payload`. */
export function webPushPayload(n: MatrixNotification, data: Readonly<Record<string, unknown>>): Record<string, unknown> {
    const payload: Record<string, unknown> = {};
    if (pyTruthy(data) && isPlainObject(data.default_payload)) {
        Object.assign(payload, data.default_payload);
    }
    for (const attr of PAYLOAD_FIELDS) {
        const v = n[attr];
        if (pyTruthy(v)) {
            payload[attr] = v;
        }
    }
    for (const attr of ['unread', 'missed_calls'] as const) {
        if (n.counts[attr] !== undefined) {
            payload[attr] = n.counts[attr];
        }
    }
    if (pyTruthy(n.content)) {
        const content: Record<string, unknown> = { ...n.content };
        // "we can't show formatted_body in a notification anyway on web so remove it"
        delete content.formatted_body;
        const body = content.body;
        if (typeof body === 'string' && codePointLength(body) > WEBPUSH_MAX_BODY_LENGTH) {
            content.body = `${sliceCodePoints(body, WEBPUSH_MAX_BODY_LENGTH - 1)}…`;
        }
        const ciphertext = content.ciphertext;
        if (typeof ciphertext === 'string' && codePointLength(ciphertext) > WEBPUSH_MAX_CIPHERTEXT_LENGTH) {
            delete content.ciphertext;
        }
        payload.content = content;
    }
    return payload;
}

/**
 * The token our Web Push provider takes: the PushSubscription JSON (W3C Push API
 * `PushSubscription.toJSON()` shape), `{"endpoint": ..., "keys": {"p256dh": ..., "auth": ...}}`.
 */
export function webPushSubscription(endpoint: string, p256dh: string, auth: string): string {
    return JSON.stringify({ endpoint, keys: { p256dh, auth } });
}

/**
 * host[:port] of an http(s) endpoint, userinfo included, as written: what Python's
 * `urlparse(endpoint).netloc` gives and Sygnal matches `allowed_endpoints` against.
 * Undefined when the endpoint is not an http(s) URL.
 */
export function endpointNetloc(endpoint: string): string | undefined {
    const m = /^https?:\/\/([^/?#]*)/i.exec(endpoint);
    if (!m || !m[1]) {
        return undefined;
    }
    try {
        new URL(endpoint);
    } catch {
        return undefined;
    }
    return m[1];
}

/** RFC 8030 §5.4 Topic for a room: 32 characters of the URL-safe base64 alphabet. */
export function roomTopic(roomId: string): string {
    return createHash('sha256').update(roomId).digest().subarray(0, 24).toString('base64url');
}
