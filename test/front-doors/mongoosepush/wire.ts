import { PushMessage, stringifyDataValue } from '../../../src/push/message';

/**
 * The provider rendering rules of the common brief ("How providers render a PushMessage"),
 * as pure functions: what the APNs and FCM providers put on the wire for a message. Tests of
 * a front door use them to pin exact wire payloads without a provider or a fake; the
 * checkEchoV1 test in wire.test.ts pins them to the bytes the service sends today.
 */

export interface ApnsWire {
    readonly headers: Readonly<Record<string, string>>;
    /** The JSON payload, byte for byte (key order matters: custom keys first, `aps` last). */
    readonly body: string;
}

/**
 * @param instanceTopic the APNs instance's configured topic
 * @param nowSeconds the clock, for `apns-expiration`
 */
export function renderApns(m: PushMessage, instanceTopic: string, nowSeconds = 0): ApnsWire {
    const custom = without(m.apns?.payload ?? m.data ?? {}, 'aps');
    const alert = m.apns?.alertText ?? (m.alert && defined({
        title: m.alert.title,
        body: m.alert.body,
        'loc-key': m.alert.locKey,
        'loc-args': m.alert.locArgs,
        'title-loc-key': m.alert.titleLocKey,
        'title-loc-args': m.alert.titleLocArgs
    }));
    const aps = {
        ...defined({
            alert,
            badge: m.badge,
            sound: m.sound,
            'content-available': m.contentAvailable ? 1 : undefined,
            'mutable-content': m.mutableContent ? 1 : undefined,
            category: m.alert?.clickAction,
            'thread-id': m.apns?.threadId
        }),
        ...(m.apns?.payload?.aps as Record<string, unknown> | undefined)
    };
    const headers = defined({
        'apns-topic': m.apns?.topic ?? instanceTopic,
        'apns-push-type': m.apns?.pushType ?? (m.contentAvailable && alert === undefined ? 'background' : 'alert'),
        'apns-priority': m.priority === 'normal' ? '5' : '10',
        'apns-expiration': m.ttlSeconds !== undefined ? String(nowSeconds + m.ttlSeconds) : undefined,
        'apns-collapse-id': m.apns?.collapseId
    }) as Record<string, string>;
    return { headers, body: JSON.stringify({ ...custom, aps }) };
}

/** The FCM HTTP v1 `message` object for one token. */
export function renderFcm(m: PushMessage, token: string): Record<string, unknown> {
    const android = defined({
        collapse_key: m.collapseKey,
        priority: m.priority,
        ttl: m.ttlSeconds !== undefined ? `${m.ttlSeconds}s` : undefined,
        notification: m.alert && defined({
            title: m.alert.title,
            body: m.alert.body,
            click_action: m.alert.clickAction,
            tag: m.alert.tag,
            sound: m.sound,
            body_loc_key: m.alert.locKey,
            body_loc_args: m.alert.locArgs,
            title_loc_key: m.alert.titleLocKey,
            title_loc_args: m.alert.titleLocArgs
        })
    });
    const apns = m.alert || m.badge !== undefined ? {
        payload: {
            aps: defined({
                alert: m.alert && defined({ title: m.alert.title, body: m.alert.body }),
                badge: m.badge,
                sound: m.sound,
                'mutable-content': m.mutableContent ? 1 : undefined,
                'content-available': m.contentAvailable ? 1 : undefined
            })
        }
    } : undefined;
    const message = defined({
        token,
        data: m.data && Object.fromEntries(Object.entries(m.data).map(([k, v]) => [k, stringifyDataValue(v)])),
        android: Object.keys(android).length > 0 ? android : undefined,
        apns
    });
    return m.fcm?.message ? deepMerge(message, m.fcm.message) : message;
}

/** Objects merge; arrays and scalars replace. */
export function deepMerge(base: Record<string, unknown>, over: Readonly<Record<string, unknown>>): Record<string, unknown> {
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(over)) {
        const b = out[k];
        out[k] = isPlainObject(v) && isPlainObject(b) ? deepMerge(b, v) : v;
    }
    return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
    return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function defined(o: Record<string, unknown>): Record<string, unknown> {
    return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

function without(o: Readonly<Record<string, unknown>>, key: string): Record<string, unknown> {
    return Object.fromEntries(Object.entries(o).filter(([k]) => k !== key));
}
