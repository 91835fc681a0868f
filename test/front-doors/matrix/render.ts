import { apnsRequestParts } from '../../../src/providers/apns/apns-render';
import { renderFcmMessage } from '../../../src/providers/fcm/fcm-message';
import type { PushMessage } from '../../../src/push/message';
import type { WebPushUrgency } from '../../../src/config/sections/webpush';
import { renderWebPushMessage } from '../../../src/providers/webpush/webpush-provider';

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

/** The APNs provider's own rendering (src/providers/apns/apns-render.ts), as body and headers. */
export function renderApns(m: PushMessage, instance: { topic?: string; nowSeconds?: number } = {}): RenderedApns {
    const parts = apnsRequestParts(m, (instance.nowSeconds ?? Math.floor(Date.now() / 1000)) * 1000);
    const headers: Record<string, string> = {};
    const topic = m.apns?.topic ?? instance.topic;
    if (topic !== undefined) {
        headers['apns-topic'] = topic;
    }
    headers['apns-push-type'] = parts.pushType;
    headers['apns-priority'] = String(parts.priority);
    if (parts.expiration !== undefined) {
        headers['apns-expiration'] = String(parts.expiration);
    }
    if (parts.collapseId !== undefined) {
        headers['apns-collapse-id'] = parts.collapseId;
    }
    return { body: JSON.stringify(parts.payload), payload: parts.payload, headers };
}

/** The FCM HTTP v1 `message` object, as the FCM provider renders it (src/providers/fcm/fcm-message.ts). */
export function renderFcm(m: PushMessage, token: string): Obj {
    return { token, ...renderFcmMessage(m) };
}

export interface RenderedWebPush {
    readonly plaintext: string;
    readonly headers: Record<string, string>;
}

/** The Web Push provider's own rendering (src/providers/webpush/webpush-provider.ts): plaintext, TTL, Urgency, Topic. */
export function renderWebPush(m: PushMessage, instance: { ttlSeconds: number; urgency?: string }): RenderedWebPush {
    const r = renderWebPushMessage(m, { ttl: instance.ttlSeconds, urgency: (instance.urgency ?? 'normal') as WebPushUrgency, userAgent: 'test' });
    const headers: Record<string, string> = {};
    for (const name of ['TTL', 'Urgency', 'Topic']) {
        const v = Object.entries(r.headers).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
        if (v !== undefined) {
            headers[name] = v;
        }
    }
    return { plaintext: r.plaintext.toString('utf8'), headers };
}
