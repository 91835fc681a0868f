import { createHash } from 'node:crypto';
import type { PushMessage } from '../../push/message';
import { WEBPUSH_MAX_PLAINTEXT_BYTES } from '../../providers/webpush';
import type { WebPushPayloadOptions } from './apps-config';
import { DeviceDispatch, isPlainObject, MATRIX_MESSAGE_TYPE, pyTruthy, reject, skip } from './dispatch';
import type { MatrixDevice, MatrixNotification } from './notification';
import { codePointLength, jsonCharBytes, sliceCodePoints } from './text';

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
 * Differences from Sygnal, forced by RFC 8030 / RFC 8291 / the model:
 * - Size: one aes128gcm record holds at most WEBPUSH_MAX_PLAINTEXT_BYTES (3993) bytes of
 *   plaintext (RFC 8291 §4: push services need not take more than 4096 bytes). Sygnal sends
 *   a bigger payload anyway and the push service refuses it (413), so a long message in a
 *   room with a long name, or 1000 emoji, never notifies; here the longest display texts
 *   (`content.body`, `room_name`, `sender_display_name`) are shortened until it fits
 *   (`fitWebPushPayload`), as Sygnal does for APNs. Ids are never cut.

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
    const payload = fitWebPushPayload(webPushPayload(n, data), WEBPUSH_MAX_PLAINTEXT_BYTES);
    if (!payload) {
        return skip('payload_too_large');
    }
    const message: PushMessage = {
        type: MATRIX_MESSAGE_TYPE,
        priority: 'normal',
        ...(n.room_id && data.only_last_per_room === true ? { collapseKey: roomTopic(n.room_id) } : {}),
        webpush: { payload }
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

/** The display texts `fitWebPushPayload` may shorten: never an id the service worker looks the event up with. */
const CHOPPABLE_FIELDS = ['room_name', 'sender_display_name'] as const;

/**
 * The payload, fitted into `maxBytes` of JSON text (UTF-8, as the Web Push provider encrypts
 * `JSON.stringify(payload)`): while it is longer, the last character of the longest (in
 * bytes) of `content.body`, `room_name` and `sender_display_name` is removed, and each text
 * that was shortened ends in `…`. Only strings are shortened; a character is never split.
 *
 * @returns the payload itself when it fits; a shortened copy; or undefined when even with
 *   those texts empty it does not fit (a huge `default_payload`): the caller skips the device
 */
export function fitWebPushPayload(payload: Readonly<Record<string, unknown>>, maxBytes: number): Record<string, unknown> | undefined {
    let total = Buffer.byteLength(JSON.stringify(payload), 'utf8');
    if (total <= maxBytes) {
        return payload;
    }
    const out: Record<string, unknown> = { ...payload };
    const texts: { chars: string[]; bytes: number; chopped: boolean; put: (s: string) => void }[] = [];
    const add = (value: unknown, put: (s: string) => void): void => {
        if (typeof value === 'string' && value.length > 0) {
            texts.push({ chars: Array.from(value), bytes: Buffer.byteLength(value, 'utf8'), chopped: false, put });
        }
    };
    if (isPlainObject(out.content)) {
        const content: Record<string, unknown> = { ...out.content };
        out.content = content;
        add(content.body, (s) => {
            content.body = s;
        });
    }
    for (const field of CHOPPABLE_FIELDS) {
        add(out[field], (s) => {
            out[field] = s;
        });
    }
    const ellipsis = Buffer.byteLength('…', 'utf8');
    while (total > maxBytes) {
        let longest: (typeof texts)[number] | undefined;
        for (const t of texts) {
            if (t.chars.length > 0 && t.bytes > (longest?.bytes ?? 0)) {
                longest = t;
            }
        }
        if (!longest) {
            return undefined;
        }
        if (!longest.chopped) {
            longest.chopped = true;
            total += ellipsis;
        }
        const ch = longest.chars.pop() as string;
        longest.bytes -= Buffer.byteLength(ch, 'utf8');
        total -= jsonCharBytes(ch.codePointAt(0) as number);
    }
    for (const t of texts) {
        if (t.chopped) {
            t.put(`${t.chars.join('')}…`);
        }
    }
    return out;
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
