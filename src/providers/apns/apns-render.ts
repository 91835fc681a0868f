import * as apn from '@parse/node-apn';
import { ApnsPushType, PushMessage } from '../../push/message';

/**
 * How a PushMessage becomes an APNs request (Apple: "Generating a remote notification",
 * "Sending notification requests to APNs"). The rules every party relies on:
 *
 * Body (JSON): custom top-level keys first, `aps` last.
 * - custom keys = `apns.payload` without its `aps` when given, else `data`;
 * - `aps` from the common fields, in this key order: `alert` (`apns.alertText` as a plain
 *   string when given, else an object of `title`, `body`, `loc-key`, `loc-args`,
 *   `title-loc-key`, `title-loc-args` from `alert`; left out when empty), `badge`, `sound`,
 *   `content-available: 1`, `mutable-content: 1`, `category` (= alert.clickAction),
 *   `thread-id` (= apns.threadId); then `apns.payload.aps` merged over it (its keys win).
 *
 * Headers:
 * - `apns-topic`: apns.topic ?? the instance's topic (the caller resolves it);
 * - `apns-push-type`: apns.pushType ?? 'background' for content-available without an alert,
 *   else 'alert';
 * - `apns-priority`: 5 for priority 'normal', else 10 (Apple: 5 is required for background
 *   pushes; the message says so through `priority`);
 * - `apns-expiration`: now + ttlSeconds, in epoch seconds, only when ttlSeconds is set;
 * - `apns-collapse-id`: apns.collapseId (never collapseKey: APNs' collapse id replaces a
 *   displayed notification, FCM's collapse key a pending one).
 *
 * Echo's checkEchoV1 message renders to exactly the bytes the original service sent:
 * `{"data":{"type":"checkEchoV1"},"aps":{"alert":"checkEchoV1","mutable-content":1,"thread-id":"checkEchoV1"}}`
 * with apns-priority 10, apns-topic, apns-push-type alert (pinned by a test at the fake).
 */
export interface ApnsRequestParts {
    /** The JSON body's object (serialised with JSON.stringify, key order as built). */
    readonly payload: Record<string, unknown>;
    readonly pushType: ApnsPushType;
    readonly priority: 5 | 10;
    /** Epoch seconds, when the message has a ttl. */
    readonly expiration?: number;
    readonly collapseId?: string;
}

/** The body and header values for `message` (see the rules above). */
export function apnsRequestParts(message: PushMessage, nowMs: number = Date.now()): ApnsRequestParts {
    const a = message.apns;
    const custom = customKeys(message);
    const aps: Record<string, unknown> = {};
    const alert = a?.alertText !== undefined ? a.alertText : alertObject(message);
    if (alert !== undefined) {
        aps.alert = alert;
    }
    if (message.badge !== undefined) {
        aps.badge = message.badge;
    }
    if (message.sound !== undefined) {
        aps.sound = message.sound;
    }
    if (message.contentAvailable) {
        aps['content-available'] = 1;
    }
    if (message.mutableContent) {
        aps['mutable-content'] = 1;
    }
    if (message.alert?.clickAction !== undefined) {
        aps.category = message.alert.clickAction;
    }
    if (a?.threadId !== undefined) {
        aps['thread-id'] = a.threadId;
    }
    const extraAps = a?.payload?.aps;
    if (extraAps !== null && typeof extraAps === 'object' && !Array.isArray(extraAps)) {
        Object.assign(aps, extraAps);
    }
    const pushType: ApnsPushType = a?.pushType ?? (message.contentAvailable && aps.alert === undefined ? 'background' : 'alert');
    return {
        // Always an `aps`, even empty: Apple's payloads carry one (Sygnal's event_id_only
        // payload without a default_payload has none; the Matrix front door counts it in).
        payload: { ...custom, aps },
        pushType,
        priority: message.priority === 'normal' ? 5 : 10,
        ...(message.ttlSeconds !== undefined ? { expiration: Math.floor(nowMs / 1000) + message.ttlSeconds } : {}),
        ...(a?.collapseId !== undefined ? { collapseId: a.collapseId } : {})
    };
}

/**
 * A node-apn Notification carrying exactly the parts above: the body goes out as
 * `rawPayload` (node-apn serialises it as is), the headers through node-apn's own fields.
 * One per batch: node-apn caches the compiled body on the Notification.
 */
export function renderApnsNotification(message: PushMessage, topic: string, nowMs: number = Date.now()): apn.Notification {
    const parts = apnsRequestParts(message, nowMs);
    const note = new apn.Notification();
    note.rawPayload = parts.payload;
    note.topic = topic;
    note.pushType = parts.pushType;
    note.priority = parts.priority;
    if (parts.expiration !== undefined) {
        note.expiry = parts.expiration;
    }
    if (parts.collapseId !== undefined) {
        note.collapseId = parts.collapseId;
    }
    return note;
}

function customKeys(message: PushMessage): Record<string, unknown> {
    const payload = message.apns?.payload;
    if (payload !== undefined) {
        const rest: Record<string, unknown> = { ...payload };
        delete rest.aps;
        return rest;
    }
    // `aps` is Apple's; a data key of that name must not become (or clobber) it.
    const rest: Record<string, unknown> = { ...(message.data ?? {}) };
    delete rest.aps;
    return rest;
}

function alertObject(message: PushMessage): Record<string, unknown> | undefined {
    const al = message.alert;
    if (!al) {
        return undefined;
    }
    const o: Record<string, unknown> = {};
    if (al.title !== undefined) {
        o.title = al.title;
    }
    if (al.body !== undefined) {
        o.body = al.body;
    }
    if (al.locKey !== undefined) {
        o['loc-key'] = al.locKey;
    }
    if (al.locArgs !== undefined) {
        o['loc-args'] = al.locArgs;
    }
    if (al.titleLocKey !== undefined) {
        o['title-loc-key'] = al.titleLocKey;
    }
    if (al.titleLocArgs !== undefined) {
        o['title-loc-args'] = al.titleLocArgs;
    }
    return Object.keys(o).length > 0 ? o : undefined;
}
