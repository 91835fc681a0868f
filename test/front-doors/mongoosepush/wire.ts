import { apnsRequestParts } from '../../../src/providers/apns/apns-render';
import { renderFcmMessage } from '../../../src/providers/fcm/fcm-message';
import { PushMessage } from '../../../src/push/message';

/**
 * What the APNs and FCM providers put on the wire for a message: their own renderers, so
 * tests of the front door pin exact wire payloads without a provider or a fake; the
 * checkEchoV1 test in wire.test.ts pins them to the bytes the service sends.
 */

export interface ApnsWire {
    readonly headers: Readonly<Record<string, string>>;
    /** The JSON payload, byte for byte (key order matters: custom keys first, `aps` last). */
    readonly body: string;
}

/**
 * The APNs provider's own rendering (src/providers/apns/apns-render.ts), as header values and body.
 *
 * @param instanceTopic the APNs instance's configured topic
 * @param nowSeconds the clock, for `apns-expiration`
 */
export function renderApns(m: PushMessage, instanceTopic: string, nowSeconds = 0): ApnsWire {
    const parts = apnsRequestParts(m, nowSeconds * 1000);
    const headers: Record<string, string> = {
        'apns-topic': m.apns?.topic ?? instanceTopic,
        'apns-push-type': parts.pushType,
        'apns-priority': String(parts.priority)
    };
    if (parts.expiration !== undefined) {
        headers['apns-expiration'] = String(parts.expiration);
    }
    if (parts.collapseId !== undefined) {
        headers['apns-collapse-id'] = parts.collapseId;
    }
    return { headers, body: JSON.stringify(parts.payload) };
}

/** The FCM HTTP v1 `message` object for one token, as the FCM provider renders it (src/providers/fcm/fcm-message.ts). */
export function renderFcm(m: PushMessage, token: string): Record<string, unknown> {
    return { token, ...renderFcmMessage(m) };
}
