/**
 * What MongooseIM really sends to a MongoosePush v3 endpoint: a port of
 * `mod_push_service_mongoosepush:make_notification/2` and `push_notifications/3`
 * (esl/MongooseIM @475087c, `src/mod_push_service_mongoosepush.erl`), with the summary form
 * of `mod_event_pusher_push_plugin_defaults:push_content_fields/3` and the Jingle fields of
 * `mod_event_pusher_push_plugin_hints`.
 *
 * The JSON text is jiffy's: a map's keys in Erlang term order (atoms before binaries, each
 * sorted), no spaces. So `alert`/`data` and `service` (atoms) come before the forwarded
 * publish options (binaries), and inside `alert` badge, body, tag, title (atoms) before
 * click_action, sound (binaries).
 */

/** The client's XEP-0357 publish-options: every value a string (Push-notifications-client-side.md). */
export type PublishOptions = Readonly<Record<string, string>> & { readonly device_id: string; readonly service: string };

/** The `urn:xmpp:push:summary` form: every value a string as well. */
export type SummaryForm = Readonly<Record<string, string>>;

/** The form of a chat message (plugin_defaults): count, bare JID of the sender, body. */
export function chatSummary(sender: string, body: string, messageCount = 1): SummaryForm {
    return { 'message-count': String(messageCount), 'last-message-sender': sender, 'last-message-body': body };
}

/** The form of a bodiless Jingle message (plugin_hints); works only with silent=true. */
export function jingleSummary(sender: string, action: string, sessionId: string): SummaryForm {
    return { 'message-sender': sender, 'jingle-message': action, 'jingle-session-id': sessionId };
}

/** Keys `make_notification/2` forwards from the publish options (never `tags`). */
const FORWARDED_OPTIONS = ['mode', 'priority', 'topic', 'mutable_content', 'time_to_live'];
const ALERT_OPTIONS = ['click_action', 'sound'];

export interface MongooseImRequest {
    /** `<api_version>/notification/<device_id>`, the device id not URL-encoded. */
    readonly path: string;
    readonly deviceId: string;
    /** The body, byte for byte. */
    readonly json: string;
}

/**
 * The request for one notification form.
 *
 * @throws as `make_notification` crashes (make_notification_failed) when a non-silent push
 *   has no `last-message-body` or `message-count`
 */
export function mongooseImRequest(options: PublishOptions, form: SummaryForm): MongooseImRequest {
    // normalize_notification/1: message-count becomes an integer (binary_to_integer).
    const notification: Record<string, unknown> = { ...form };
    if (typeof form['message-count'] === 'string') {
        notification['message-count'] = binaryToInteger(form['message-count']);
    }
    const atoms: [string, unknown][] = [['service', options.service]];
    if (options.silent === 'true') {
        atoms.push(['data', ordered(Object.entries(notification))]);
    } else {
        const basic: [string, unknown][] = [
            ['body', required(notification, 'last-message-body')],
            ['title', required(notification, 'last-message-sender')],
            ['tag', required(notification, 'last-message-sender')],
            ['badge', required(notification, 'message-count')]
        ];
        const extra = ALERT_OPTIONS.filter((k) => k in options).map((k): [string, unknown] => [k, options[k]]);
        atoms.push(['alert', { ...ordered(basic), ...ordered(extra) }]);
    }
    const binaries = FORWARDED_OPTIONS.filter((k) => k in options).map((k): [string, unknown] => [k, options[k]]);
    const body = { ...ordered(atoms), ...ordered(binaries) };
    return { path: `v3/notification/${options.device_id}`, deviceId: options.device_id, json: JSON.stringify(body) };
}

function ordered(entries: [string, unknown][]): Record<string, unknown> {
    return Object.fromEntries([...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function required(map: Record<string, unknown>, key: string): unknown {
    if (!(key in map)) {
        throw new Error(`make_notification_failed: no ${key} (maps:get/2 badkey)`);
    }
    return map[key];
}

function binaryToInteger(s: string): number {
    if (!/^[+-]?[0-9]+$/.test(s)) {
        throw new Error(`make_notification_failed: binary_to_integer(${s}) badarg`);
    }
    return Number(s);
}
