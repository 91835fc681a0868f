import { MessageTypeOptions } from '../../config/sections/http';
import { PushMessage } from '../../push/message';
import { ProviderKind } from '../../push/provider';

/**
 * Echo's messages: one neutral PushMessage per (message type, provider kind, APNs topic),
 * built once and reused, so that requests for the same type share provider calls (the
 * schedulers group by message identity).
 *
 * The message carries no content: it tells the app to "phone home" for its notifications.
 * For a type without options (checkEchoV1), the wire payloads are exactly the original
 * service's: APNs `{"data":{"type":T},"aps":{"alert":T,"mutable-content":1,"thread-id":T}}`
 * with apns-push-type alert and apns-priority 10 (the iOS app's notification service
 * extension replaces the alert); FCM `data: {type: T}` with `android.collapse_key: T` (only
 * the newest message of a type waits for an offline device); Web Push plaintext
 * `{"type":T}` with `Topic: T`.
 *
 * A phase-3 type may carry options (config `message_types: [{name, priority, ttlSeconds,
 * delivery}]`): `delivery: background` makes it a silent wake-up (APNs content-available,
 * push type background, priority 5, as Apple requires for background pushes); priority and
 * ttlSeconds go to every platform.
 */
export class EchoMessages {
    private readonly cache = new Map<string, PushMessage>();

    constructor(private readonly options: Readonly<Record<string, MessageTypeOptions>>) {}

    /**
     * @param topic the request's APNs topic (bundle id); ignored for other kinds, so their
     *   requests with and without one still share calls
     */
    get(type: string, kind: ProviderKind, topic: string | undefined): PushMessage {
        const t = kind === 'apns' ? topic : undefined;
        const key = `${type}\u0000${kind}\u0000${t ?? ''}`;
        let m = this.cache.get(key);
        if (!m) {
            m = Object.freeze(this.build(type, t));
            this.cache.set(key, m);
        }
        return m;
    }

    private build(type: string, topic: string | undefined): PushMessage {
        const o = this.options[type] ?? {};
        const background = o.delivery === 'background';
        return {
            type,
            data: { type },
            collapseKey: type,
            ...(background ? { contentAvailable: true, priority: o.priority ?? 'normal' } : { mutableContent: true }),
            ...(o.priority && !background ? { priority: o.priority } : {}),
            ...(o.ttlSeconds !== undefined ? { ttlSeconds: o.ttlSeconds } : {}),
            apns: {
                ...(topic !== undefined ? { topic } : {}),
                ...(background ? { pushType: 'background' as const } : { alertText: type, threadId: type, pushType: 'alert' as const }),
                payload: { data: { type } }
            }
        };
    }
}
