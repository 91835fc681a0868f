import type { ErrorObject, ValidateFunction } from 'ajv';
import { describeValidationErrors } from '../../http/api-spec';

/**
 * The body of `POST /_matrix/push/v1/notify` (Matrix spec, Push Gateway API v1.x,
 * `data/api/push-gateway/push_notifier.yaml`), as a homeserver sends it.
 *
 * What Synapse sends (synapse/push/httppusher.py) comes in three shapes, all valid here:
 * - full: `event_id`, `room_id`, `type`, `sender`, `prio`, `counts`, `content`, ... and the
 *   device's `tweaks`;
 * - `event_id_only` (pusher data `format`): only `event_id`, `room_id`, `prio`, `counts`;
 * - badge-only (on read receipts): `{"id": "", "type": null, "sender": "", "counts": {...}}`.
 *
 * In the typed form below, `null` (as in the badge-only `"type": null`) reads as absent, as
 * Sygnal's `dict.get` does. Unknown properties are allowed and ignored: homeservers add some
 * (Synapse's deprecated `id`), and the spec grows.
 */
export interface MatrixNotification {
    readonly event_id?: string;
    readonly room_id?: string;
    /** Event type; absent for event_id_only and badge-only notifications. */
    readonly type?: string;
    readonly sender?: string;
    readonly sender_display_name?: string;
    readonly room_name?: string;
    readonly room_alias?: string;
    /** True when the user is the `state_key` of a member event (an invite to them). */
    readonly user_is_target?: boolean;
    /** Membership of a member event (`invite`, `join`, ...). Synapse sends it; not in the spec's table. */
    readonly membership?: string;
    /** 'high' when absent (spec). Synapse: 'high' for encrypted, highlighted or sounding events, else 'low'. */
    readonly prio?: 'high' | 'low';
    /** The event content (may be omitted by the homeserver). */
    readonly content?: Readonly<Record<string, unknown>>;
    /** Always present here (`{}` when the body had none). */
    readonly counts: MatrixCounts;
    /** At least one. Synapse sends exactly one. */
    readonly devices: readonly MatrixDevice[];
}

export interface MatrixCounts {
    /** Unread notifications (the app badge). */
    readonly unread?: number;
    readonly missed_calls?: number;
}

export interface MatrixDevice {
    readonly app_id: string;
    /** The pusher's pushkey, exactly as registered: what `rejected` must echo. */
    readonly pushkey: string;
    /** When the pushkey was last updated, seconds since the epoch. */
    readonly pushkey_ts?: number;
    /**
     * The pusher's `data` minus `url` (Synapse): `format`, `default_payload`, and for Web Push
     * `endpoint`, `auth`, `events_only`, `only_last_per_room`. Kept as sent (no null
     * normalisation): a `default_payload: null` must be seen as the mistake it is.
     */
    readonly data?: Readonly<Record<string, unknown>>;
    readonly tweaks?: MatrixTweaks;
}

export interface MatrixTweaks {
    /** A sound to play ('default' or a sound name). Honoured (Sygnal ignores it; sygnal#107). */
    readonly sound?: string;
    readonly highlight?: unknown;
    readonly [tweak: string]: unknown;
}

/**
 * A Matrix standard error body (Matrix spec, "Standard error response"). The notify endpoint
 * answers 400 with `M_NOT_JSON` (the body is not JSON) or `M_BAD_JSON` (JSON, but not a
 * notification); unknown `/_matrix/` paths and wrong methods answer `M_UNRECOGNIZED`.
 */
export interface MatrixError {
    readonly errcode: 'M_NOT_JSON' | 'M_BAD_JSON' | 'M_UNRECOGNIZED';
    readonly error: string;
}

export type NotifyParse =
    | { readonly ok: true; readonly notification: MatrixNotification }
    | { readonly ok: false; readonly error: MatrixError };

/** The three shapes Synapse sends, for logs and metrics (a fixed set of labels). */
export type NotificationShape = 'full' | 'event_id_only' | 'badge_only';

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads a raw request body as JSON. Not UTF-8 or not JSON (a `NaN` or `Infinity` is not
 * JSON either) gives `M_NOT_JSON`, as Synapse answers its own clients and as Sygnal's
 * "Expected JSON request body" means. A JSON value that is not an object is left to
 * {@link createNotifyValidator}, which answers `M_BAD_JSON`.
 */
export function parseNotifyJson(raw: Buffer | Uint8Array | string):
    { readonly ok: true; readonly body: unknown } | { readonly ok: false; readonly error: MatrixError } {
    let text: string;
    try {
        text = typeof raw === 'string' ? raw : UTF8.decode(raw);
    } catch {
        return { ok: false, error: { errcode: 'M_NOT_JSON', error: 'Expected a JSON request body: the body is not UTF-8' } };
    }
    try {
        return { ok: true, body: JSON.parse(text) as unknown };
    } catch {
        return { ok: false, error: { errcode: 'M_NOT_JSON', error: 'Expected a JSON request body' } };
    }
}

/**
 * Builds the notify-body check from the request schema in spec.yaml (compiled by the
 * service's ApiSpec: `spec.requestValidator('/_matrix/push/v1/notify', 'post')`), so the
 * schema is written once, in the spec. The check answers a typed notification, or the
 * `M_BAD_JSON` error naming what is wrong:
 * - the body is not an object, has no `notification` object;
 * - `devices` missing, not a list, or empty;
 * - a device without a string `app_id` or `pushkey`; `pushkey_ts` not an integer; `data`
 *   or `tweaks` not an object; `tweaks.sound` not a string;
 * - a known field of the wrong type (`counts.unread` not an integer, `prio` not high|low,
 *   `content` not an object, a name not a string, ...).
 * These are Sygnal's 400s (notifications.py, http.py), plus the types Sygnal left unchecked
 * and then failed on with a 500. `null` is accepted wherever a field is optional.
 */
export function createNotifyValidator(validate: ValidateFunction): (body: unknown) => NotifyParse {
    return (body) => {
        if (!validate(body)) {
            return { ok: false, error: { errcode: 'M_BAD_JSON', error: describe(validate.errors ?? []) } };
        }
        return { ok: true, notification: toNotification((body as { notification: RawNotification }).notification) };
    };
}

function describe(errors: readonly ErrorObject[]): string {
    return `Invalid notification: ${describeValidationErrors(errors).join('; ')}`;
}

/** Which of Synapse's three shapes this is (Sygnal's test, apnspushkin.py: `event_id and not type`). */
export function notificationShape(n: MatrixNotification): NotificationShape {
    if (n.type) {
        return 'full';
    }
    return n.event_id ? 'event_id_only' : 'badge_only';
}

type RawNotification = Record<string, unknown> & { devices: Record<string, unknown>[]; counts?: Record<string, unknown> | null };

const OPTIONAL_FIELDS = ['event_id', 'room_id', 'type', 'sender', 'sender_display_name', 'room_name', 'room_alias',
    'user_is_target', 'membership', 'prio', 'content'] as const;

/** The schema has already checked every type; this only drops nulls and copies the known fields. */
function toNotification(raw: RawNotification): MatrixNotification {
    const out: Record<string, unknown> = {};
    for (const key of OPTIONAL_FIELDS) {
        const v = raw[key];
        if (v !== undefined && v !== null) {
            out[key] = v;
        }
    }
    const counts: Record<string, number> = {};
    for (const key of ['unread', 'missed_calls'] as const) {
        const v = raw.counts?.[key];
        if (typeof v === 'number') {
            counts[key] = v;
        }
    }
    out.counts = counts;
    out.devices = raw.devices.map(toDevice);
    return out as unknown as MatrixNotification;
}

function toDevice(raw: Record<string, unknown>): MatrixDevice {
    const d: Record<string, unknown> = { app_id: raw.app_id, pushkey: raw.pushkey };
    if (typeof raw.pushkey_ts === 'number') {
        d.pushkey_ts = raw.pushkey_ts;
    }
    if (raw.data !== undefined && raw.data !== null) {
        d.data = raw.data;
    }
    if (raw.tweaks !== undefined && raw.tweaks !== null) {
        const tweaks = { ...(raw.tweaks as Record<string, unknown>) };
        if (tweaks.sound === null) {
            delete tweaks.sound;
        }
        d.tweaks = tweaks;
    }
    return d as unknown as MatrixDevice;
}
