/**
 * The neutral message: what every front door (Echo, Matrix, MongoosePush) turns a request
 * into, and what every provider kind (APNs, FCM, Web Push) renders to its own wire format.
 *
 * The shape follows FCM HTTP v1's own model: common fields that every platform understands,
 * plus per-platform blocks (`apns`, `fcm`, `webpush`) for what only one platform has or for
 * a front door that must control one platform's bytes exactly (Echo's checkEchoV1 payload,
 * Sygnal's APNs payloads). A provider reads the common fields, then applies its own block
 * on top; it ignores the other platforms' blocks.
 *
 * Nothing here is a device token: tokens travel beside the message (see batch.ts).
 */
export interface PushMessage {
    /**
     * The message type (Echo's `messageType`, e.g. 'checkEchoV1'; Matrix: 'matrix';
     * MongoosePush: 'mongoosepush'). Used for logs and grouping, never as a metric label
     * unless it comes from the configured `message_types`.
     */
    readonly type: string;
    /** A visible alert. Absent: a data-only (silent) message. */
    readonly alert?: PushAlert;
    /** App icon badge (APNs `aps.badge`; FCM `apns` block). */
    readonly badge?: number;
    /** Sound name (APNs `aps.sound`, FCM `android.notification.sound`). */
    readonly sound?: string;
    /**
     * App data. APNs: custom top-level payload keys; FCM: `message.data`, every value
     * a string (non-strings as JSON text); Web Push: the JSON plaintext.
     */
    readonly data?: Readonly<Record<string, unknown>>;
    /** Delivery priority: APNs `apns-priority` 10/5, FCM `android.priority`, Web Push `Urgency` high/normal. */
    readonly priority?: 'high' | 'normal';
    /** Seconds the push service may hold the message for an offline device (APNs `apns-expiration`, FCM `android.ttl`, Web Push `TTL`). */
    readonly ttlSeconds?: number;
    /**
     * Replace a pending, undelivered message with the same key: FCM `android.collapse_key`,
     * Web Push `Topic` (RFC 8030 §5.4). APNs' `apns-collapse-id` means something else (it
     * replaces a DISPLAYED notification), so it is only set through `apns.collapseId`.
     */
    readonly collapseKey?: string;
    /** APNs `aps.mutable-content: 1` (a notification service extension may rewrite it). */
    readonly mutableContent?: boolean;
    /** APNs `aps.content-available: 1` (wake the app in the background). */
    readonly contentAvailable?: boolean;
    readonly apns?: ApnsOptions;
    readonly fcm?: FcmOptions;
    readonly webpush?: WebPushOptions;
}

export interface PushAlert {
    readonly title?: string;
    readonly body?: string;
    /** Localisation key and arguments (APNs `loc-key`/`loc-args`, FCM `body_loc_key`/`body_loc_args`). */
    readonly locKey?: string;
    readonly locArgs?: readonly string[];
    readonly titleLocKey?: string;
    readonly titleLocArgs?: readonly string[];
    /** The action to run on tap: APNs `aps.category`, FCM `android.notification.click_action`. */
    readonly clickAction?: string;
    /** FCM `android.notification.tag` (replaces a notification with the same tag). */
    readonly tag?: string;
}

/** APNs `apns-push-type` values (Apple: "Sending notification requests to APNs"). */
export type ApnsPushType = 'alert' | 'background' | 'voip' | 'complication' | 'fileprovider' | 'mdm' | 'location' | 'liveactivity' | 'pushtotalk';

export interface ApnsOptions {
    /** `apns-topic` (bundle id); else the provider instance's `topic`. */
    readonly topic?: string;
    /** `apns-push-type`; default: 'background' for a content-available message without alert, else 'alert'. */
    readonly pushType?: ApnsPushType;
    /** `aps.alert` as a plain string (APNs shows it as the body); wins over `alert`. */
    readonly alertText?: string;
    /** `aps.thread-id`. */
    readonly threadId?: string;
    /** `apns-collapse-id`. */
    readonly collapseId?: string;
    /**
     * Custom top-level payload keys, used INSTEAD of `data` (Echo's iOS app reads
     * `data.type`; Sygnal merges `default_payload`). An `aps` key here is merged into the
     * `aps` built from the common fields, its keys winning.
     */
    readonly payload?: Readonly<Record<string, unknown>>;
}

export interface FcmOptions {
    /**
     * Merged (deeply, objects only; arrays and scalars replace) into the FCM v1 `message`
     * object built from the common fields, after the device token is set: Sygnal's
     * `fcm_options`, or anything the common fields cannot say.
     */
    readonly message?: Readonly<Record<string, unknown>>;
}

export interface WebPushOptions {
    /** The plaintext, JSON-encoded; default: `data` (or `{}`). */
    readonly payload?: unknown;
}

/** Where an accepted message came from; decides where its dead tokens go. */
export type MessageSource = 'echo' | 'matrix' | 'mongoosepush' | 'cli';

/** True for values FCM `message.data` accepts as they are. */
export function stringifyDataValue(v: unknown): string {
    return typeof v === 'string' ? v : JSON.stringify(v) ?? '';
}
