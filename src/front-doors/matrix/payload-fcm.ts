import { PushMessage, stringifyDataValue } from '../../push/message';
import type { FcmPayloadOptions } from './apps-config';
import { DeviceDispatch, effectiveDefaultPayload, isPlainObject, MATRIX_MESSAGE_TYPE, pyTruthy, reject, skip } from './dispatch';
import type { MatrixDevice, MatrixNotification } from './notification';
import { truncateUtf8 } from './text';

/**
 * The FCM HTTP v1 message Sygnal builds (sygnal/gcmpushkin.py `_build_data` and
 * `_dispatch_notification_unlimited`, api_version v1), as a PushMessage that the FCM provider
 * renders to exactly Sygnal's `message`:
 * - `data`: the pusher's `default_payload`, then `event_id`, `type`, `sender`, `room_name`,
 *   `room_alias`, `membership`, `sender_display_name`, `room_id` (each string cut to 1024
 *   UTF-8 bytes, ending in `…`, never inside a character), the string values of `content` as
 *   `content_<key>` (cut the same way; other content values dropped), `prio` ("high", or
 *   "normal" for `prio: low`), and `unread` / `missed_calls` as strings when non-zero and
 *   `send_badge_counts` is on;
 * - `android.priority`: "high" or "normal" likewise;
 * - the app's `fcm_options` underneath everything (Sygnal: the base of the request body);
 *   its `data` and `token` are replaced, its `android` gets the priority;
 * - no FCM `notification` block: data-only, as Sygnal sends it.
 * Skipped, as Sygnal does, when there is no room, no event and no count to send (a badge-only
 * push with a zero count, or with badge counts off). A `default_payload` that is not an
 * object rejects the pushkey (Sygnal's test_misformed_default_payload_rejected).
 *
 * Where Sygnal is wrong, this is right: every `data` value is a string (FCM v1 refuses
 * others; Sygnal passes a `default_payload` object through and FCM answers 400); and
 * `tweaks.sound` is honoured where the message shows a notification: it becomes
 * `android.notification.sound` when `fcm_options` gives an `android.notification` block, and
 * `apns.payload.aps.sound` when `fcm_options` gives an `aps` with an alert text.
 */
export function buildFcmDispatch(n: MatrixNotification, device: MatrixDevice, options: FcmPayloadOptions): DeviceDispatch {
    const data = fcmData(n, device, options);
    if (data === 'invalid') {
        return reject('invalid_default_payload');
    }
    if (!data) {
        return skip('no_content');
    }
    const priority = n.prio === 'low' ? 'normal' : 'high';
    // Sygnal: body = fcm_options; body["data"] = data; ...; body["token"] = pushkey.
    const base = structuredClone(options.fcmOptions) as Record<string, unknown>;
    delete base.data;
    delete base.token;
    const android: Record<string, unknown> = isPlainObject(base.android) ? base.android : {};
    android.priority = priority;
    base.android = android;
    const sound = device.tweaks?.sound;
    if (typeof sound === 'string' && n.event_id) {
        if (isPlainObject(android.notification)) {
            android.notification.sound = sound;
        }
        const aps = isPlainObject(base.apns) && isPlainObject(base.apns.payload) ? base.apns.payload.aps : undefined;
        if (isPlainObject(aps) && pyTruthy(aps.alert)) {
            aps.sound = sound;
        }
    }
    const message: PushMessage = {
        type: MATRIX_MESSAGE_TYPE,
        priority,
        data,
        fcm: { message: base }
    };
    return { action: 'send', token: device.pushkey, message };
}

/** Sygnal's MAX_BYTES_PER_FIELD. */
export const FCM_MAX_BYTES_PER_FIELD = 1024;

const DATA_FIELDS = ['event_id', 'type', 'sender', 'room_name', 'room_alias', 'membership', 'sender_display_name', 'content', 'room_id'] as const;

/** `_build_data` for v1: the `data` map (all strings), undefined when empty, 'invalid' for a bad default_payload. */
function fcmData(n: MatrixNotification, device: MatrixDevice, options: FcmPayloadOptions): Record<string, string> | undefined | 'invalid' {
    const defaultPayload = effectiveDefaultPayload(device.data, options.defaultPayload);
    if (defaultPayload === 'invalid') {
        return 'invalid';
    }
    const data: Record<string, unknown> = { ...defaultPayload };
    for (const attr of DATA_FIELDS) {
        const v = n[attr];
        if (v === undefined) {
            continue;
        }
        if (typeof v === 'string') {
            data[attr] = truncateUtf8(v, FCM_MAX_BYTES_PER_FIELD).value;
        } else if (attr === 'content') {
            data.content = v;
        }
    }
    const content = data.content;
    if (isPlainObject(content)) {
        for (const [key, value] of Object.entries(content)) {
            if (typeof value === 'string') {
                data[`content_${key}`] = truncateUtf8(value, FCM_MAX_BYTES_PER_FIELD).value;
            }
        }
        delete data.content;
    }
    data.prio = n.prio === 'low' ? 'normal' : 'high';
    const counts: Record<string, string> = {};
    if (options.sendBadgeCounts) {
        if (n.counts.unread) {
            counts.unread = String(n.counts.unread);
        }
        if (n.counts.missed_calls) {
            counts.missed_calls = String(n.counts.missed_calls);
        }
    }
    if (!pyTruthy(data.room_id) && !pyTruthy(data.event_id) && Object.keys(counts).length === 0) {
        return undefined;
    }
    Object.assign(data, counts);
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(data)) {
        out[k] = stringifyDataValue(v);
    }
    return out;
}
