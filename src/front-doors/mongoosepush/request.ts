/**
 * The MongoosePush v3 request (`POST /v3/notification/{device_id}`): parse, validate and
 * normalise the JSON body and the `device_id` path segment, answering schema failures in
 * MongoosePush's own 422 format.
 *
 * Sources:
 * - esl/MongoosePush `lib/mongoose_push_web/schemas/request/send_notification/deep*.ex` (the
 *   fields and types), `lib/mongoose_push_web/plugs/cast_and_validate.ex` (which of the three
 *   shapes a failing body is checked against) and `test/support/controllers_helper.ex` (the
 *   422 bodies);
 * - open-api-spex 3.21.2 (MongoosePush's pinned version): `lib/open_api_spex/cast/*.ex` (the
 *   casting rules: numeric strings are integers, "true"/"false" are booleans; the order in
 *   which errors are found) and `cast/error.ex` (the messages, word for word);
 * - esl/MongooseIM `src/mod_push_service_mongoosepush.erl` (`make_notification/2`: every
 *   publish option arrives as a string, `message-count` as an integer inside `data`).
 *
 * How a body is checked, as OpenApiSpex does it for MongoosePush:
 * 1. A body that has `alert` and `data` is checked as the Mixed shape, one with only `data`
 *    as Silent, anything else as Alert (so `{}` misses `service` and `alert`).
 * 2. In an object, the first unknown field (in key order) is the only error reported.
 * 3. Else every missing required field is reported (`service`, then `alert`/`data`).
 * 4. Else every field is cast, in key order, and every failure is reported (nested ones too).
 *
 * Deliberate differences from MongoosePush, each a 422 where MongoosePush would pass the value
 * on to the provider and answer 400 (or break the header) later:
 * - `time_to_live` must be >= 0 (FCM refuses a negative `ttl`);
 * - `topic` must look like a bundle id (it becomes the `apns-topic` header);
 * - a body that is not a JSON object gets "Invalid object. Got: <type>" at `/` (MongoosePush,
 *   through Phoenix's `_json` wrapping, says "Unexpected field: _json");
 * - pointers escape `~` and `/` in field names (RFC 6901); MongoosePush joins them raw;
 * - at most MAX_SCHEMA_ERRORS errors are listed (a body of 10 000 bad tags gives 10).
 */

/** FCM or APNs: which push service MongoosePush's client wants (`service`). */
export const V3_SERVICES = ['fcm', 'apns'] as const;
export type V3Service = typeof V3_SERVICES[number];
/** Production or development (APNs sandbox) pool (`mode`). */
export const V3_MODES = ['prod', 'dev'] as const;
export type V3Mode = typeof V3_MODES[number];
export const V3_PRIORITIES = ['normal', 'high'] as const;
export type V3Priority = typeof V3_PRIORITIES[number];

/** `alert`: what the device shows. */
export interface V3Alert {
    readonly title: string;
    readonly body: string;
    /** `badge`: APNs `aps.badge` (int32). */
    readonly badge?: number;
    /** `click_action`: APNs `aps.category`, FCM `android.notification.click_action`. */
    readonly clickAction?: string;
    /** `tag`: FCM `android.notification.tag` (MongooseIM sends the sender's JID). */
    readonly tag?: string;
    /** `sound`: APNs `aps.sound`, FCM `android.notification.sound`. */
    readonly sound?: string;
}

/** A valid v3 body, normalised (numeric strings made numbers, defaults applied). */
export interface V3Request {
    readonly service: V3Service;
    /** `mode`, default 'prod'. */
    readonly mode: V3Mode;
    readonly priority?: V3Priority;
    /** `time_to_live`, seconds (0 .. 2^31-1). */
    readonly timeToLive?: number;
    /** `mutable_content`, default false. */
    readonly mutableContent: boolean;
    /** `tags` (MongoosePush pool selection), default []. */
    readonly tags: readonly string[];
    /** `topic`: the APNs `apns-topic` (bundle id). */
    readonly topic?: string;
    /** Absent: a silent (data-only) push. */
    readonly alert?: V3Alert;
    /** Any JSON object; values of any type. */
    readonly data?: Readonly<Record<string, unknown>>;
}

/** One entry of MongoosePush's 422 body (OpenApiSpex JsonRenderError). */
export interface SchemaError {
    readonly title: 'Invalid value';
    readonly source: { readonly pointer: string };
    readonly message: string;
}

export type Parsed<T> =
    | { readonly ok: true; readonly value: T }
    | { readonly ok: false; readonly errors: readonly SchemaError[] };

/** Most schema errors listed in one answer. */
export const MAX_SCHEMA_ERRORS = 10;

/** Highest int32 OpenApiSpex accepts (its range is symmetric: ±(2^31-1)). */
const INT32_MAX = 2_147_483_647;
/** What `Integer.parse/1` reads completely: an optional sign and decimal digits. */
const INTEGER_STRING = /^[+-]?[0-9]+$/;
/** `topic`: an app bundle id, with APNs' suffixes (.voip, .complication, ...). */
export const TOPIC_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;
/** `device_id`: printable ASCII, no spaces; each provider kind then checks its own syntax. */
export const DEVICE_ID_PATTERN = /^[!-~]+$/;
export const DEVICE_ID_MAX_LENGTH = 4096;

type FieldSpec =
    | { readonly type: 'string'; readonly enum?: readonly string[]; readonly pattern?: RegExp }
    /** int32; numeric strings are read as integers (OpenApiSpex Cast.Integer). */
    | { readonly type: 'integer'; readonly minimum?: number }
    /** true/false; also the strings "true"/"false" (OpenApiSpex Cast.Primitive). */
    | { readonly type: 'boolean' }
    | { readonly type: 'array'; readonly items: FieldSpec }
    /** An object with any keys and values (`data`). */
    | { readonly type: 'object' }
    | { readonly type: 'object'; readonly properties: Readonly<Record<string, FieldSpec>>; readonly required: readonly string[] };

type ObjectSpec = Extract<FieldSpec, { properties: unknown }>;

const ALERT: ObjectSpec = {
    type: 'object',
    properties: {
        body: { type: 'string' },
        title: { type: 'string' },
        badge: { type: 'integer' },
        click_action: { type: 'string' },
        tag: { type: 'string' },
        sound: { type: 'string' }
    },
    required: ['body', 'title']
};

const BASE: Readonly<Record<string, FieldSpec>> = {
    service: { type: 'string', enum: V3_SERVICES },
    mode: { type: 'string', enum: V3_MODES },
    priority: { type: 'string', enum: V3_PRIORITIES },
    time_to_live: { type: 'integer', minimum: 0 },
    mutable_content: { type: 'boolean' },
    tags: { type: 'array', items: { type: 'string' } },
    topic: { type: 'string', pattern: TOPIC_PATTERN }
};

/** MongoosePush's three body shapes (Deep.AlertNotification, .SilentNotification, .MixedNotification). */
const SHAPES = {
    alert: { type: 'object', properties: { ...BASE, alert: ALERT }, required: ['service', 'alert'] },
    silent: { type: 'object', properties: { ...BASE, data: { type: 'object' } }, required: ['service', 'data'] },
    mixed: { type: 'object', properties: { ...BASE, alert: ALERT, data: { type: 'object' } }, required: ['service', 'alert', 'data'] }
} as const satisfies Record<string, ObjectSpec>;

/**
 * Parses a v3 body (already JSON-decoded).
 *
 * @returns the normalised request, or the schema errors for a 422 (see answers.ts)
 */
export function parseV3Body(body: unknown): Parsed<V3Request> {
    const errors = new ErrorList();
    if (!isObject(body)) {
        cast(body, SHAPES.alert, [], errors);
        return { ok: false, errors: errors.list };
    }
    const shape = Object.hasOwn(body, 'data') ? (Object.hasOwn(body, 'alert') ? SHAPES.mixed : SHAPES.silent) : SHAPES.alert;
    const value = castObject(body, shape, [], errors);
    if (errors.list.length > 0 || !isObject(value)) {
        return { ok: false, errors: errors.list };
    }
    return { ok: true, value: toRequest(value) };
}

/**
 * Checks the `device_id` path segment: percent-decodes it (MongooseIM does not encode it;
 * other clients may), then requires 1 to 4096 printable ASCII characters without spaces.
 * Which tokens a provider kind accepts is its own TokenSyntax's business, checked after this.
 *
 * @param rawSegment the segment exactly as it appears in the request path
 */
export function parseDeviceId(rawSegment: string): Parsed<string> {
    let deviceId: string;
    try {
        deviceId = decodeURIComponent(rawSegment);
    } catch {
        return deviceIdError(`Invalid format. Expected ${inspectRegex(DEVICE_ID_PATTERN)}`);
    }
    if (deviceId.length > DEVICE_ID_MAX_LENGTH) {
        return deviceIdError(`String length is larger than maxLength: ${DEVICE_ID_MAX_LENGTH}`);
    }
    if (!DEVICE_ID_PATTERN.test(deviceId)) {
        return deviceIdError(`Invalid format. Expected ${inspectRegex(DEVICE_ID_PATTERN)}`);
    }
    return { ok: true, value: deviceId };
}

function deviceIdError(message: string): Parsed<string> {
    // OpenApiSpex names a path parameter's errors by the parameter: /device_id.
    return { ok: false, errors: [{ title: 'Invalid value', source: { pointer: '/device_id' }, message }] };
}

class ErrorList {
    readonly list: SchemaError[] = [];

    add(path: readonly (string | number)[], message: string): void {
        if (this.list.length < MAX_SCHEMA_ERRORS) {
            this.list.push({ title: 'Invalid value', source: { pointer: pointer(path) }, message });
        }
    }
}

/** Returns the cast value, or undefined after adding errors. */
function cast(value: unknown, spec: FieldSpec, path: (string | number)[], errors: ErrorList): unknown {
    if (value === null) {
        errors.add(path, `null value where ${spec.type} expected`);
        return undefined;
    }
    switch (spec.type) {
        case 'string':
            return castString(value, spec, path, errors);
        case 'integer':
            return castInteger(value, spec.minimum, path, errors);
        case 'boolean':
            if (typeof value === 'boolean') {
                return value;
            }
            if (value === 'true' || value === 'false') {
                return value === 'true';
            }
            errors.add(path, castMessage(value, 'boolean'));
            return undefined;
        case 'array':
            return castArray(value, spec.items, path, errors);
        case 'object':
            if (!isObject(value)) {
                errors.add(path, castMessage(value, 'object'));
                return undefined;
            }
            return 'properties' in spec ? castObject(value, spec, path, errors) : value;
    }
}

function castString(value: unknown, spec: Extract<FieldSpec, { type: 'string' }>, path: (string | number)[], errors: ErrorList): unknown {
    if (typeof value !== 'string') {
        errors.add(path, castMessage(value, 'string'));
        return undefined;
    }
    if (spec.enum && !spec.enum.includes(value)) {
        errors.add(path, 'Invalid value for enum');
        return undefined;
    }
    if (spec.pattern && !spec.pattern.test(value)) {
        errors.add(path, `Invalid format. Expected ${inspectRegex(spec.pattern)}`);
        return undefined;
    }
    return value;
}

function castInteger(value: unknown, minimum: number | undefined, path: (string | number)[], errors: ErrorList): unknown {
    let n: number;
    if (typeof value === 'number' && Number.isInteger(value)) {
        n = value;
    } else if (typeof value === 'string' && INTEGER_STRING.test(value)) {
        n = Number(value);
    } else {
        errors.add(path, castMessage(value, 'integer'));
        return undefined;
    }
    if (Math.abs(n) > INT32_MAX) {
        errors.add(path, 'Invalid format. Expected :int32');
        return undefined;
    }
    if (minimum !== undefined && n < minimum) {
        errors.add(path, `${n} is smaller than inclusive minimum ${minimum}`);
        return undefined;
    }
    return n;
}

function castArray(value: unknown, items: FieldSpec, path: (string | number)[], errors: ErrorList): unknown {
    if (!Array.isArray(value)) {
        errors.add(path, castMessage(value, 'array'));
        return undefined;
    }
    const before = errors.list.length;
    const out = value.map((item, i) => cast(item, items, [...path, i], errors));
    return errors.list.length === before ? out : undefined;
}

/** OpenApiSpex Cast.Object: unknown field, then required fields, then each property. */
function castObject(value: Readonly<Record<string, unknown>>, spec: ObjectSpec, path: (string | number)[], errors: ErrorList): unknown {
    const keys = Object.keys(value).sort();
    const unknown = keys.find((k) => !Object.hasOwn(spec.properties, k));
    if (unknown !== undefined) {
        // Only the first, and the message shows at most 40 characters of the name.
        errors.add([...path, unknown], `Unexpected field: ${unknown.slice(0, 40)}`);
        return undefined;
    }
    const missing = spec.required.filter((k) => !Object.hasOwn(value, k));
    if (missing.length > 0) {
        for (const k of missing) {
            errors.add([...path, k], `Missing field: ${k}`);
        }
        return undefined;
    }
    const before = errors.list.length;
    const out = Object.fromEntries(keys.map((k) => [k, cast(value[k], spec.properties[k], [...path, k], errors)]));
    return errors.list.length === before ? out : undefined;
}

function toRequest(v: Readonly<Record<string, unknown>>): V3Request {
    const alert = v.alert as Readonly<Record<string, unknown>> | undefined;
    return {
        service: v.service as V3Service,
        mode: (v.mode as V3Mode | undefined) ?? 'prod',
        ...(v.priority !== undefined && { priority: v.priority as V3Priority }),
        ...(v.time_to_live !== undefined && { timeToLive: v.time_to_live as number }),
        mutableContent: (v.mutable_content as boolean | undefined) ?? false,
        tags: (v.tags as string[] | undefined) ?? [],
        ...(v.topic !== undefined && { topic: v.topic as string }),
        ...(alert && {
            alert: {
                title: alert.title as string,
                body: alert.body as string,
                ...(alert.badge !== undefined && { badge: alert.badge as number }),
                ...(alert.click_action !== undefined && { clickAction: alert.click_action as string }),
                ...(alert.tag !== undefined && { tag: alert.tag as string }),
                ...(alert.sound !== undefined && { sound: alert.sound as string })
            }
        }),
        ...(v.data !== undefined && { data: v.data as Readonly<Record<string, unknown>> })
    };
}

function isObject(v: unknown): v is Readonly<Record<string, unknown>> {
    return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** OpenApiSpex's "Invalid <expected>. Got: <TermType of the value>". */
function castMessage(value: unknown, expected: string): string {
    return `Invalid ${expected}. Got: ${termType(value)}`;
}

/** OpenApiSpex.TermType.type/1 for a decoded JSON value (nil prints as ""). */
function termType(v: unknown): string {
    if (v === null) {
        return '';
    }
    if (Array.isArray(v)) {
        return 'array';
    }
    if (typeof v === 'number') {
        return Number.isInteger(v) ? 'integer' : 'number';
    }
    return typeof v === 'object' ? 'object' : typeof v;
}

/** How Elixir's `inspect/1` shows a regex, as OpenApiSpex's invalid_format message does. */
function inspectRegex(re: RegExp): string {
    return `~r/${re.source}/`;
}

/** A JSON Pointer (RFC 6901) to a field of the body; `/` is the body itself. */
function pointer(path: readonly (string | number)[]): string {
    return `/${path.map((s) => String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('/')}`;
}
