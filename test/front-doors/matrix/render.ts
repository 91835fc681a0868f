import type { PushMessage } from '../../../src/push/message';

/**
 * The provider rendering rules of the common brief ("How providers render a PushMessage"),
 * written out as small pure functions, so that the Matrix front door's messages can be
 * checked in their wire form without the real providers. One deliberate reading where the
 * rules are silent: an `aps` with no key at all is left out (Sygnal's event_id_only payload
 * without a default_payload has no `aps`).
 */

type Obj = Record<string, unknown>;

export interface RenderedApns {
    /** The JSON body as the provider sends it. */
    readonly body: string;
    readonly payload: Obj;
    readonly headers: Record<string, string>;
}

export function renderApns(m: PushMessage, instance: { topic?: string; nowSeconds?: number } = {}): RenderedApns {
    const custom: Obj = {};
    if (m.apns?.payload) {
        for (const [k, v] of Object.entries(m.apns.payload)) {
            if (k !== 'aps') {
                custom[k] = v;
            }
        }
    } else if (m.data) {
        Object.assign(custom, m.data);
    }
    const aps: Obj = {};
    if (m.apns?.alertText !== undefined) {
        aps.alert = m.apns.alertText;
    } else if (m.alert) {
        const a: Obj = {};
        const put = (k: string, v: unknown): void => {
            if (v !== undefined) {
                a[k] = v;
            }
        };
        put('title', m.alert.title);
        put('body', m.alert.body);
        put('loc-key', m.alert.locKey);
        put('loc-args', m.alert.locArgs);
        put('title-loc-key', m.alert.titleLocKey);
        put('title-loc-args', m.alert.titleLocArgs);
        aps.alert = a;
    }
    if (m.badge !== undefined) {
        aps.badge = m.badge;
    }
    if (m.sound !== undefined) {
        aps.sound = m.sound;
    }
    if (m.contentAvailable) {
        aps['content-available'] = 1;
    }
    if (m.mutableContent) {
        aps['mutable-content'] = 1;
    }
    if (m.alert?.clickAction !== undefined) {
        aps.category = m.alert.clickAction;
    }
    if (m.apns?.threadId !== undefined) {
        aps['thread-id'] = m.apns.threadId;
    }
    const over = m.apns?.payload?.aps;
    if (over && typeof over === 'object') {
        Object.assign(aps, over);
    }
    const payload: Obj = { ...custom };
    if (Object.keys(aps).length) {
        payload.aps = aps;
    }
    const headers: Record<string, string> = {};
    const topic = m.apns?.topic ?? instance.topic;
    if (topic !== undefined) {
        headers['apns-topic'] = topic;
    }
    headers['apns-push-type'] = m.apns?.pushType ?? (m.contentAvailable && !m.alert ? 'background' : 'alert');
    headers['apns-priority'] = m.priority === 'normal' ? '5' : '10';
    if (m.ttlSeconds !== undefined) {
        headers['apns-expiration'] = String((instance.nowSeconds ?? Math.floor(Date.now() / 1000)) + m.ttlSeconds);
    }
    if (m.apns?.collapseId !== undefined) {
        headers['apns-collapse-id'] = m.apns.collapseId;
    }
    return { body: JSON.stringify(payload), payload, headers };
}

/** The FCM HTTP v1 `message` object. */
export function renderFcm(m: PushMessage, token: string): Obj {
    const message: Obj = { token };
    if (m.data) {
        const data: Obj = {};
        for (const [k, v] of Object.entries(m.data)) {
            data[k] = typeof v === 'string' ? v : JSON.stringify(v) ?? '';
        }
        message.data = data;
    }
    const android: Obj = {};
    if (m.collapseKey !== undefined) {
        android.collapse_key = m.collapseKey;
    }
    if (m.priority !== undefined) {
        android.priority = m.priority;
    }
    if (m.ttlSeconds !== undefined) {
        android.ttl = `${m.ttlSeconds}s`;
    }
    if (m.alert) {
        const n: Obj = {};
        const put = (k: string, v: unknown): void => {
            if (v !== undefined) {
                n[k] = v;
            }
        };
        put('title', m.alert.title);
        put('body', m.alert.body);
        put('click_action', m.alert.clickAction);
        put('tag', m.alert.tag);
        put('sound', m.sound);
        put('body_loc_key', m.alert.locKey);
        put('body_loc_args', m.alert.locArgs);
        put('title_loc_key', m.alert.titleLocKey);
        put('title_loc_args', m.alert.titleLocArgs);
        android.notification = n;
    }
    if (Object.keys(android).length) {
        message.android = android;
    }
    if (m.alert || m.badge !== undefined) {
        const aps: Obj = {};
        if (m.alert) {
            aps.alert = { title: m.alert.title, body: m.alert.body };
        }
        if (m.badge !== undefined) {
            aps.badge = m.badge;
        }
        if (m.sound !== undefined) {
            aps.sound = m.sound;
        }
        if (m.mutableContent) {
            aps['mutable-content'] = 1;
        }
        if (m.contentAvailable) {
            aps['content-available'] = 1;
        }
        message.apns = { payload: { aps } };
    }
    return m.fcm?.message ? deepMerge(message, m.fcm.message) : message;
}

/** Objects merge; arrays and scalars replace. */
export function deepMerge(base: Obj, over: Readonly<Obj>): Obj {
    const out: Obj = { ...base };
    for (const [k, v] of Object.entries(over)) {
        const b = out[k];
        out[k] = isObj(b) && isObj(v) ? deepMerge(b, v) : structuredClone(v);
    }
    return out;
}

export interface RenderedWebPush {
    readonly plaintext: string;
    readonly headers: Record<string, string>;
}

export function renderWebPush(m: PushMessage, instance: { ttlSeconds: number; urgency?: string }): RenderedWebPush {
    const headers: Record<string, string> = { TTL: String(m.ttlSeconds ?? instance.ttlSeconds) };
    const urgency = m.priority ?? instance.urgency;
    if (urgency !== undefined) {
        headers.Urgency = urgency;
    }
    if (m.collapseKey !== undefined) {
        headers.Topic = m.collapseKey;
    }
    return { plaintext: JSON.stringify(m.webpush?.payload ?? m.data ?? {}), headers };
}

function isObj(v: unknown): v is Obj {
    return typeof v === 'object' && v !== null && !Array.isArray(v);
}
