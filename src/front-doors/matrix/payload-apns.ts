import type { ApnsPushType, PushMessage } from '../../push/message';
import type { TokenCheck } from '../../push/token-syntax';
import { truncateApnsPayload } from './apns-truncate';
import type { ApnsPayloadOptions } from './apps-config';
import { DeviceDispatch, effectiveDefaultPayload, isPlainObject, MATRIX_MESSAGE_TYPE, pyTruthy, reject, skip } from './dispatch';
import type { MatrixDevice, MatrixNotification } from './notification';
import { sliceCodePoints } from './text';

/**
 * The APNs payload Sygnal builds (sygnal/apnspushkin.py `_get_payload_full`,
 * `_get_payload_event_id_only`, `_dispatch_notification_unlimited`), as a PushMessage whose
 * `apns.payload` is the complete payload (custom keys and `aps`), so that the APNs provider
 * sends Sygnal's bytes (up to JSON whitespace and key order):
 *
 * - full notification (`type` set): `aps.alert` `{loc-key, loc-args}` chosen by event type
 *   (table in `alertFor`), `aps.badge` = `counts.unread + counts.missed_calls`, `room_id` and
 *   `event_id` at top level; the pusher's `default_payload` deep-merged underneath (its own
 *   loc-key/loc-args replaced, its other keys such as `aps.mutable-content` kept);
 * - `event_id_only` (an `event_id` and no `type`): `default_payload` (shallow) with `room_id`,
 *   `event_id`, `unread_count`, `missed_calls`: no `aps.badge`;
 * - badge-only (no `type`, no `event_id`): exactly `{"aps": {"badge": N}}` (default_payload ignored);
 * - nothing to say (no alert, no badge): skipped, as Sygnal does;
 * - cut to 4096 bytes by shortening the longest alert texts (apns-truncate.ts), measured with
 *   the `aps` the provider always sends (an empty one where Sygnal sends none);
 * - `apns-priority` 5 for `prio: low`, else 10; `apns-push-type` from the app's `push_type`.
 *
 * Where Sygnal is wrong, this is right (and says so):
 * - `tweaks.sound` becomes `aps.sound` whenever the payload shows an alert (Sygnal ignores it,
 *   sygnal#107);
 * - without `push_type`, Sygnal sends no `apns-push-type`; here it is 'background' for a
 *   payload with only `content-available` (then at priority 5, as Apple requires), else 'alert';
 * - a pushkey that is already hex (64+ hex digits) is not base64-decoded into garbage
 *   (sygnal#301); URL-safe base64 is read too; an undecodable one is rejected, not a 500;
 * - a `default_payload.aps.alert` that is a string is replaced by the loc-key alert (Sygnal
 *   crashes), and a `default_payload.aps` that is not an object rejects the pushkey.
 */
export function buildApnsDispatch(n: MatrixNotification, device: MatrixDevice, options: ApnsPayloadOptions,
    maxBytes = APNS_MAX_PAYLOAD_BYTES): DeviceDispatch {
    const defaultPayload = effectiveDefaultPayload(device.data, options.defaultPayload);
    if (defaultPayload === 'invalid' || ('aps' in defaultPayload && !isPlainObject(defaultPayload.aps))) {
        return reject('invalid_default_payload');
    }
    let payload = n.event_id && !n.type ?
        eventIdOnlyPayload(n, defaultPayload, options.sendBadgeCounts) :
        fullPayload(n, defaultPayload, options.sendBadgeCounts);
    if (!payload) {
        return skip('no_content');
    }
    const sound = device.tweaks?.sound;
    if (typeof sound === 'string' && isPlainObject(payload.aps) && payload.aps.alert !== undefined) {
        payload.aps = { ...payload.aps, sound };
    }
    if (!isPlainObject(payload.aps)) {
        // The APNs provider always sends an `aps` (Apple: the payload "must contain an aps
        // key"), `{}` when there is nothing to put in it; Sygnal sends none (event_id_only
        // without a default_payload). Measure what goes out, or a payload Sygnal's rule lets
        // through at 4096 bytes would reach Apple 9 bytes over (PayloadTooLarge).
        payload = { ...payload, aps: {} };
    }
    const shaved = truncateApnsPayload(payload, maxBytes);
    if (!shaved) {
        return skip('payload_too_large');
    }
    payload = shaved;
    const token = apnsDeviceToken(device.pushkey, options.convertDeviceTokenToHex);
    if (!token.ok) {
        return reject('invalid_token');
    }
    const pushType = options.pushType ?? derivePushType(payload.aps);
    const message: PushMessage = {
        type: MATRIX_MESSAGE_TYPE,
        // Sygnal: `prio = 5 if n.prio == "low" else 10`; Apple: background pushes must use 5.
        priority: n.prio === 'low' || (pushType === 'background' && !options.pushType) ? 'normal' : 'high',
        apns: { pushType, payload, ...(options.topic !== undefined ? { topic: options.topic } : {}) }
    };
    return { action: 'send', token: token.wire, message };
}

/** Sygnal's MAX_JSON_BODY_SIZE; Apple's limit for a regular (non-VoIP) notification is 4 KB. */
export const APNS_MAX_PAYLOAD_BYTES = 4096;
/** Sygnal's MAX_FIELD_LENGTH: sender and room names are cut to this many characters. */
export const APNS_MAX_FIELD_LENGTH = 1024;

type Payload = Record<string, unknown>;

/** `_get_payload_event_id_only`. */
function eventIdOnlyPayload(n: MatrixNotification, defaultPayload: Readonly<Payload>, sendBadgeCounts: boolean): Payload {
    const payload: Payload = { ...defaultPayload };
    if (n.room_id) {
        payload.room_id = n.room_id;
    }
    if (n.event_id) {
        payload.event_id = n.event_id;
    }
    if (sendBadgeCounts) {
        if (n.counts.unread !== undefined) {
            payload.unread_count = n.counts.unread;
        }
        if (n.counts.missed_calls !== undefined) {
            payload.missed_calls = n.counts.missed_calls;
        }
    }
    return payload;
}

/** `_get_payload_full`; undefined when there is neither an alert nor a badge. */
function fullPayload(n: MatrixNotification, defaultPayload: Readonly<Payload>, sendBadgeCounts: boolean): Payload | undefined {
    const alert = alertFor(n);
    let badge: number | undefined;
    if (sendBadgeCounts) {
        if (n.counts.unread !== undefined) {
            badge = n.counts.unread;
        }
        if (n.counts.missed_calls !== undefined) {
            badge = (badge ?? 0) + n.counts.missed_calls;
        }
    }
    if (!alert && badge === undefined) {
        return undefined;
    }
    // Sygnal deep-copies default_payload only for notifications with a type (so badge-only
    // pushes are exactly {"aps": {"badge": N}}).
    const payload: Payload = n.type ? structuredClone(defaultPayload) : {};
    const aps: Payload = isPlainObject(payload.aps) ? payload.aps : {};
    payload.aps = aps;
    if (alert) {
        const a = isPlainObject(aps.alert) ? aps.alert : {};
        a['loc-key'] = alert.locKey;
        a['loc-args'] = alert.locArgs;
        aps.alert = a;
    }
    if (badge !== undefined) {
        aps.badge = badge;
    }
    if (alert && n.room_id) {
        payload.room_id = n.room_id;
    }
    if (alert && n.event_id) {
        payload.event_id = n.event_id;
    }
    return payload;
}

/**
 * The loc-key table of `_get_payload_full` (the app's Localizable.strings hold the texts):
 *
 * | event | room name or alias | loc-key | loc-args |
 * |---|---|---|---|
 * | m.room.message / m.room.encrypted, msgtype m.image | yes | IMAGE_FROM_USER_IN_ROOM | from, body, room |
 * | ... with a body (m.text and any other msgtype) | yes | MSG_FROM_USER_IN_ROOM_WITH_CONTENT | from, room, body |
 * | ... m.emote | yes | ACTION_FROM_USER_IN_ROOM | room, from, body |
 * | ... no msgtype or no body (e.g. encrypted) | yes | MSG_FROM_USER_IN_ROOM | from, room |
 * | the same four | no | IMAGE_FROM_USER, MSG_FROM_USER_WITH_CONTENT, ACTION_FROM_USER, MSG_FROM_USER | from, body / from |
 * | m.call.invite, offer sdp with `m=video` | | VIDEO_CALL_FROM_USER | from |
 * | m.call.invite otherwise | | VOICE_CALL_FROM_USER | from |
 * | m.room.member, user_is_target, membership invite | yes / no | USER_INVITE_TO_NAMED_ROOM / USER_INVITE_TO_CHAT | from, room / from |
 * | m.room.member otherwise | | (none) | |
 * | any other type | | MSG_FROM_USER | from |
 *
 * `from` is the display name, else the sender id, else " ", cut to 1024 characters; the room
 * is the room name, else its alias, cut to 1024 characters.
 */
export function alertFor(n: MatrixNotification): { locKey: string; locArgs: unknown[] } | undefined {
    let from: string;
    if (!n.sender && !n.sender_display_name) {
        from = ' ';
    } else if (n.sender_display_name !== undefined) {
        from = n.sender_display_name;
    } else {
        from = n.sender as string;
    }
    from = sliceCodePoints(from, APNS_MAX_FIELD_LENGTH);
    const content = n.content;

    if (n.type === 'm.room.message' || n.type === 'm.room.encrypted') {
        let room: string | undefined;
        if (n.room_name) {
            room = sliceCodePoints(n.room_name, APNS_MAX_FIELD_LENGTH);
        } else if (n.room_alias) {
            room = sliceCodePoints(n.room_alias, APNS_MAX_FIELD_LENGTH);
        }
        // Sygnal passes the body on whatever its JSON type; so does this.
        let contentDisplay: unknown;
        let actionDisplay: unknown;
        let isImage = false;
        if (content && 'msgtype' in content && 'body' in content) {
            if (content.msgtype === 'm.text') {
                contentDisplay = content.body;
            } else if (content.msgtype === 'm.emote') {
                actionDisplay = content.body;
            } else {
                // "fallback: 'body' should always be user-visible text in an m.room.message"
                contentDisplay = content.body;
            }
            isImage = content.msgtype === 'm.image';
        }
        if (room) {
            if (isImage) {
                return { locKey: 'IMAGE_FROM_USER_IN_ROOM', locArgs: [from, contentDisplay ?? null, room] };
            }
            if (pyTruthy(contentDisplay)) {
                return { locKey: 'MSG_FROM_USER_IN_ROOM_WITH_CONTENT', locArgs: [from, room, contentDisplay] };
            }
            if (pyTruthy(actionDisplay)) {
                return { locKey: 'ACTION_FROM_USER_IN_ROOM', locArgs: [room, from, actionDisplay] };
            }
            return { locKey: 'MSG_FROM_USER_IN_ROOM', locArgs: [from, room] };
        }
        if (isImage) {
            return { locKey: 'IMAGE_FROM_USER', locArgs: [from, contentDisplay ?? null] };
        }
        if (pyTruthy(contentDisplay)) {
            return { locKey: 'MSG_FROM_USER_WITH_CONTENT', locArgs: [from, contentDisplay] };
        }
        if (pyTruthy(actionDisplay)) {
            return { locKey: 'ACTION_FROM_USER', locArgs: [from, actionDisplay] };
        }
        return { locKey: 'MSG_FROM_USER', locArgs: [from] };
    }
    if (n.type === 'm.call.invite') {
        // "This detection works only for hs that uses WebRTC for calls"
        const offer = content?.offer;
        const sdp = isPlainObject(offer) ? offer.sdp : undefined;
        const video = typeof sdp === 'string' && sdp.includes('m=video');
        return { locKey: video ? 'VIDEO_CALL_FROM_USER' : 'VOICE_CALL_FROM_USER', locArgs: [from] };
    }
    if (n.type === 'm.room.member') {
        if (n.user_is_target && n.membership === 'invite') {
            if (n.room_name) {
                return { locKey: 'USER_INVITE_TO_NAMED_ROOM', locArgs: [from, sliceCodePoints(n.room_name, APNS_MAX_FIELD_LENGTH)] };
            }
            if (n.room_alias) {
                return { locKey: 'USER_INVITE_TO_NAMED_ROOM', locArgs: [from, sliceCodePoints(n.room_alias, APNS_MAX_FIELD_LENGTH)] };
            }
            return { locKey: 'USER_INVITE_TO_CHAT', locArgs: [from] };
        }
        return undefined;
    }
    if (n.type) {
        // "A type of message was received that we don't know about but it was important
        // enough for a push to have got to us"
        return { locKey: 'MSG_FROM_USER', locArgs: [from] };
    }
    return undefined;
}

/**
 * `apns-push-type` when the app sets none (Apple, "Sending notification requests to APNs":
 * a notification that only wakes the app is 'background', one that alerts, badges or plays a
 * sound is 'alert').
 */
function derivePushType(aps: unknown): ApnsPushType {
    if (isPlainObject(aps) && aps['content-available'] === 1 &&
        aps.alert === undefined && aps.badge === undefined && aps.sound === undefined) {
        return 'background';
    }
    return 'alert';
}

/**
 * The APNs device token of a Matrix pushkey. iOS apps register the token base64-encoded, and
 * Sygnal sends `base64.b64decode(pushkey).hex()` unless `convert_device_token_to_hex: false`
 * (then the pushkey as it is). Here, with conversion on:
 * - a pushkey of 64 or more hex digits (even length) is already hex and kept (lower-cased):
 *   apps that register hex break under Sygnal (sygnal#301); a base64 APNs token is never all
 *   hex digits (32 bytes encode to 44 characters ending in '=');
 * - standard or URL-safe base64, padded or not, is decoded;
 * - anything else is not a token (`ok: false`).
 * `key` is the hex token (same device, same key).
 */
export function apnsDeviceToken(pushkey: string, convertToHex: boolean): TokenCheck {
    if (!convertToHex) {
        return pushkey ? { ok: true, wire: pushkey, key: pushkey.toLowerCase() } : { ok: false, reason: 'invalid_token' };
    }
    if (pushkey.length >= 64 && pushkey.length % 2 === 0 && /^[0-9a-fA-F]+$/.test(pushkey)) {
        const hex = pushkey.toLowerCase();
        return { ok: true, wire: hex, key: hex };
    }
    const b64 = pushkey.trim().replace(/-/g, '+').replace(/_/g, '/');
    const m = /^([A-Za-z0-9+/]+)(={0,2})$/.exec(b64);
    if (!m || m[1].length % 4 === 1 || (m[2] && b64.length % 4 !== 0)) {
        return { ok: false, reason: 'invalid_token' };
    }
    const hex = Buffer.from(m[1], 'base64').toString('hex');
    return { ok: true, wire: hex, key: hex };
}
