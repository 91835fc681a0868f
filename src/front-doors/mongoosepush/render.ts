import { PushMessage } from '../../push/message';
import { V3Request } from './request';

/** `PushMessage.type` of every MongoosePush message (logs and grouping, never a metric label). */
export const MONGOOSEPUSH_MESSAGE_TYPE = 'mongoosepush';

/** FCM's longest `android.ttl`: 4 weeks (FCM HTTP v1 AndroidConfig.ttl). */
export const FCM_MAX_TTL_SECONDS = 28 * 24 * 3600;

/**
 * A v3 request as the neutral message, so that the providers' renderers (see
 * src/push/message.ts) put on the wire what MongoosePush does (esl/MongoosePush
 * `lib/mongoose_push/service/{apns,fcm}.ex`, through esl/sparrow 1.0.3), except where noted.
 *
 * APNs (`service: apns`):
 * - `aps.alert {title, body}`, `aps.badge`, `aps.sound`, `aps.category` = click_action,
 *   `aps.mutable-content: 1` when mutable_content; `data` keys at the top level beside `aps`
 *   (a `data.aps` key is dropped, as Sparrow's `Map.put("aps", ...)` overwrites it);
 * - silent (no alert): `aps.content-available: 1` and `apns-push-type: background`; an alert
 *   gets `apns-push-type: alert` (MongoosePush sends none; Apple requires it for watchOS and
 *   recommends it for all);
 * - `apns-priority` 10 for high, 5 for normal; none given: 10 for an alert (APNs' default,
 *   as MongoosePush sends no header) and **5 for a silent push**, whatever `priority` says:
 *   Apple requires 5 for background pushes ("Pushing background updates to your App").
 *   MongoosePush sends 10 for `silent + priority high` (MongooseIM's big tests do that).
 * - `apns-topic`: the request's `topic`, else `defaultTopic` (the mongoosepush route's), else
 *   the APNs instance's own topic. MongoosePush sends no topic on a silent push without one,
 *   which token-based auth refuses (MissingTopic).
 * - `time_to_live` is not used (no `apns-expiration`), as in MongoosePush and as MongooseIM
 *   documents it ("only applicable to FCM"); `tag` is FCM's only.
 *
 * FCM (`service: fcm`), HTTP v1:
 * - `android.notification {title, body, click_action, tag, sound}` for an alert,
 *   `android.priority` from priority (none given: none sent), `android.ttl "<n>s"` from
 *   time_to_live (capped at FCM_MAX_TTL_SECONDS, which FCM refuses to exceed);
 * - `message.data`, every value a string, nested values as JSON text. MongoosePush puts the
 *   data in `android.data` instead (an Android app sees both the same way) and answers 400
 *   invalid_notification for a nested value (Sparrow `to_string/1`); `null` becomes "null"
 *   here, "" there;
 * - an `apns` block for iOS apps reached through FCM: `aps.alert {title, body}`, `badge`,
 *   `sound`, `mutable-content` (from the common fields) and `category` = click_action (through
 *   `fcm.message`, which the common FCM rules have no field for). MongoosePush sends no
 *   `apns` block, so such an app shows nothing.
 *
 * @param defaultTopic the route's APNs topic (config), used when the request has none
 */
export function toPushMessage(request: V3Request, defaultTopic?: string): PushMessage {
    const { alert, data } = request;
    const apnsSilent = request.service === 'apns' && !alert;
    const topic = request.topic ?? defaultTopic;
    const apnsData = data && Object.hasOwn(data, 'aps') ? withoutAps(data) : undefined;
    const ttl = request.service === 'fcm' ? request.timeToLive : undefined;
    const priority = apnsSilent ? 'normal' : request.priority;
    return {
        type: MONGOOSEPUSH_MESSAGE_TYPE,
        ...(alert && {
            alert: {
                title: alert.title,
                body: alert.body,
                ...(alert.clickAction !== undefined && { clickAction: alert.clickAction }),
                ...(alert.tag !== undefined && { tag: alert.tag })
            }
        }),
        ...(alert?.badge !== undefined && { badge: alert.badge }),
        ...(alert?.sound !== undefined && { sound: alert.sound }),
        ...(data && { data }),
        ...(priority && { priority }),
        ...(ttl !== undefined && { ttlSeconds: Math.min(ttl, FCM_MAX_TTL_SECONDS) }),
        ...(request.mutableContent && { mutableContent: true }),
        ...(!alert && { contentAvailable: true }),
        ...((topic !== undefined || apnsData) && {
            apns: {
                ...(topic !== undefined && { topic }),
                ...(apnsData && { payload: apnsData })
            }
        }),
        ...(alert?.clickAction !== undefined && {
            fcm: { message: { apns: { payload: { aps: { category: alert.clickAction } } } } }
        })
    };
}

/** `data` without its `aps` key, as APNs custom keys (copied without touching prototypes). */
function withoutAps(data: Readonly<Record<string, unknown>>): Record<string, unknown> {
    return Object.fromEntries(Object.entries(data).filter(([k]) => k !== 'aps'));
}
