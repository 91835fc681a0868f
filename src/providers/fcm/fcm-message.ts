import { PushMessage, stringifyDataValue } from '../../push/message';

/**
 * Renders a PushMessage into the FCM HTTP v1 `message` object (FCM reference:
 * projects.messages, resource Message / AndroidConfig / ApnsConfig), without its target.
 * The rules (common.md, "How providers render a PushMessage"):
 * - `android.collapse_key` = collapseKey; `android.priority` = 'high' | 'normal' from priority;
 *   `android.ttl` = "<n>s" from ttlSeconds (a protobuf Duration in JSON form);
 * - `android.notification` {title, body, click_action, tag, sound, body_loc_key, body_loc_args,
 *   title_loc_key, title_loc_args} when there is an alert;
 * - an `apns` block {payload: {aps: {alert: {title, body}, badge, sound, 'mutable-content',
 *   'content-available'}}} when there is an alert or a badge, so iOS apps reached through FCM
 *   see it;
 * - `data` = data with every value a string (FCM `data` is map<string, string>; non-strings
 *   as JSON text);
 * - then `fcm.message` deep-merged over the whole message: objects merge, arrays and scalars
 *   replace. Its `token`, `topic` and `condition` are ignored: the target is the batch's
 *   token, set by the caller.
 * Keys come in firebase-admin's order (token, android, apns, data), so Echo's checkEchoV1
 * request keeps the exact bytes it had when firebase-admin built it:
 * `{"message":{"token":"…","android":{"collapse_key":"checkEchoV1"},"data":{"type":"checkEchoV1"}}}`.
 */
export function renderFcmMessage(m: PushMessage): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const android: Record<string, unknown> = {};
    if (m.collapseKey !== undefined) {
        android.collapse_key = m.collapseKey;
    }
    if (m.priority !== undefined) {
        android.priority = m.priority === 'high' ? 'high' : 'normal';
    }
    if (m.ttlSeconds !== undefined) {
        android.ttl = `${Math.max(0, Math.floor(m.ttlSeconds))}s`;
    }
    const a = m.alert;
    if (a) {
        android.notification = defined({
            title: a.title,
            body: a.body,
            click_action: a.clickAction,
            tag: a.tag,
            sound: m.sound,
            body_loc_key: a.locKey,
            body_loc_args: a.locArgs,
            title_loc_key: a.titleLocKey,
            title_loc_args: a.titleLocArgs
        });
    }
    if (Object.keys(android).length > 0) {
        out.android = android;
    }
    if (a || m.badge !== undefined) {
        const alert = a ? defined({ title: a.title, body: a.body }) : undefined;
        out.apns = {
            payload: {
                aps: defined({
                    alert,
                    badge: m.badge,
                    sound: m.sound,
                    'mutable-content': m.mutableContent ? 1 : undefined,
                    'content-available': m.contentAvailable ? 1 : undefined
                })
            }
        };
    }
    if (m.data !== undefined) {
        const data: Record<string, string> = {};
        for (const [k, v] of Object.entries(m.data)) {
            data[k] = stringifyDataValue(v);
        }
        out.data = data;
    }
    const extra = m.fcm?.message;
    if (extra) {
        for (const [k, v] of Object.entries(extra)) {
            if (k !== 'token' && k !== 'topic' && k !== 'condition') {
                setMerged(out, k, v);
            }
        }
    }
    return out;
}

/**
 * The request body for one token, in two constant parts around the JSON-encoded token:
 * `prefix + JSON.stringify(token) + suffix`. Built once per message and dryRun; `dryRun`
 * adds `"validate_only":true` (FCM checks the message and the token, nothing reaches the
 * device), after the message, as firebase-admin sent it.
 */
export interface FcmBodyTemplate {
    readonly prefix: string;
    readonly suffix: string;
    /** UTF-8 bytes of prefix + suffix (a token is ASCII: its JSON form adds its length). */
    readonly fixedBytes: number;
}

export function fcmBodyTemplate(m: PushMessage, dryRun: boolean): FcmBodyTemplate {
    const rest = JSON.stringify(renderFcmMessage(m));
    const prefix = '{"message":{"token":';
    const suffix = (rest === '{}' ? '}' : `,${rest.slice(1)}`) + (dryRun ? ',"validate_only":true}' : '}');
    return { prefix, suffix, fixedBytes: Buffer.byteLength(prefix) + Buffer.byteLength(suffix) };
}

/** Objects merge (recursively); arrays, scalars and null replace. `__proto__` is never set. */
function setMerged(target: Record<string, unknown>, key: string, value: unknown): void {
    if (key === '__proto__') {
        return;
    }
    const current = target[key];
    if (isPlainObject(current) && isPlainObject(value)) {
        const merged: Record<string, unknown> = { ...current };
        for (const [k, v] of Object.entries(value)) {
            setMerged(merged, k, v);
        }
        target[key] = merged;
    } else {
        target[key] = isPlainObject(value) ? copyObject(value) : value;
    }
}

function copyObject(value: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
        setMerged(out, k, v);
    }
    return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
    return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The object without its undefined members (JSON would drop them anyway; tests compare). */
function defined(o: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) {
        if (v !== undefined) {
            out[k] = v;
        }
    }
    return out;
}
