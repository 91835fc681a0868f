import { createECDH, createPrivateKey, KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../../config/config-error';
import type { ApnsTokenAuth } from '../../config/sections/providers';
import type { ApnsPushType } from '../../push/message';
import type { ProviderId, ProviderKind } from '../../push/provider';
import { globToRegExp, isGlob } from './text';

/**
 * `matrix.apps`: Sygnal's `apps:` block, taken unchanged so that a Sygnal operator can paste
 * it (sygnal.yaml.sample, docs/applications.md). Each key is an app id, or a glob of app ids
 * (`*` any run of characters, `?` one character; case-sensitive); a device's `app_id` picks
 * the app whose key equals it, else the one glob that matches it (none: unknown; two or more:
 * ambiguous), as Sygnal's `find_pushkins` does (sygnal/http.py).
 *
 * Each app is either
 * - `type: apns | gcm | webpush` with Sygnal's keys for that pushkin: the service then
 *   creates a provider instance for the app from them (see `MatrixApp.create`); or
 * - `provider: <id>`: an instance of the provider registry (its kind decides which payload
 *   keys apply; credentials come from the instance).
 * Every app may add `scheduling: immediate | batched` (default immediate: chat and calls need
 * it; batched sends through the privacy batching queue).
 *
 * As in Sygnal, keys it does not know are warned about (returned as strings), never fatal:
 * operators paste real Sygnal configs. A key of the wrong type, a missing required key, or a
 * file that cannot be read is a ConfigError naming `matrix.apps.<app>.<key>`.
 */

export type MatrixScheduling = 'immediate' | 'batched';

/** What the APNs payload builder needs (apnspushkin.py). */
export interface ApnsPayloadOptions {
    /** Pushkeys are base64; send them as hex (Sygnal's default: true). Pushkeys that are already hex are kept. */
    readonly convertDeviceTokenToHex: boolean;
    /** `aps.badge`, `unread_count`, `missed_calls` (default true; sygnal#421). */
    readonly sendBadgeCounts: boolean;
    /** `apns-push-type` (Sygnal's `push_type`); absent: derived from the payload. */
    readonly pushType?: ApnsPushType;
    /** Used when a pusher's data has no `default_payload` (our addition; Sygnal reads only the pusher's). */
    readonly defaultPayload?: Readonly<Record<string, unknown>>;
    /**
     * `apns-topic` for a `provider:` app that names its own `topic` (one token-auth key serves
     * all of a team's bundle ids); absent: the provider instance's topic.
     */
    readonly topic?: string;
}

/** What the FCM payload builder needs (gcmpushkin.py, FCM HTTP v1 only). */
export interface FcmPayloadOptions {
    readonly sendBadgeCounts: boolean;
    /** Sygnal's `fcm_options`: the base of every FCM v1 `message` (e.g. an `apns` or `android.notification` block). */
    readonly fcmOptions: Readonly<Record<string, unknown>>;
    /** As for APNs: used when a pusher's data has no `default_payload` (our addition). */
    readonly defaultPayload?: Readonly<Record<string, unknown>>;
}

/** What the Web Push payload builder needs (webpushpushkin.py). */
export interface WebPushPayloadOptions {
    /**
     * Sygnal's `allowed_endpoints`: globs, case-insensitive, matched against the endpoint's
     * host[:port] (userinfo included, as Python's `urlparse().netloc`). Absent: any endpoint.
     */
    readonly allowedEndpoints?: readonly RegExp[];
}

/** An APNs instance to create, in the terms of our `apns` config block (ApnsConfig). */
export interface MatrixApnsInstance {
    readonly kind: 'apns';
    /** Sygnal `platform`: production (default, also 'prod') or sandbox. */
    readonly production: boolean;
    /** Sygnal `keyfile` (absolute path of the .p8 key), `key_id`, `team_id`. */
    readonly token?: ApnsTokenAuth;
    /**
     * Sygnal `certfile`: absolute path of a PEM file holding the client certificate AND its
     * private key (aioapns loads it with `load_cert_chain`). Our ApnsConfig.cert is PKCS#12;
     * node-apn takes this file as both `cert` and `key`.
     */
    readonly certPemFile?: string;
    /** `apns-topic`: for certfile, the certificate's UID (the bundle id) as aioapns takes it, else `topic`; for keyfile, `topic`. */
    readonly topic: string;
    /** For certificate auth: when it expires, ms since the epoch (Sygnal's sygnal_client_cert_expiry). */
    readonly certNotAfterMs?: number;
}

/** An FCM instance to create, in the terms of our `fcm` config block (FcmConfig). */
export interface MatrixFcmInstance {
    readonly kind: 'fcm';
    /** Sygnal `service_account_file`, absolute. */
    readonly service_account: string;
    /** Sygnal `project_id` (required, as in Sygnal). */
    readonly project_id: string;
    /** Sygnal `max_connections` (FcmConfig.max_sockets), when given. */
    readonly max_sockets?: number;
}

/** A Web Push instance to create: our `vapid` block, with Sygnal's TTL. */
export interface MatrixWebPushInstance {
    readonly kind: 'webpush';
    readonly vapid: {
        /** `mailto:<vapid_contact_email>` (an address that already starts with mailto: or https: is kept). */
        readonly subject: string;
        /** base64url (no padding) of the 65-byte uncompressed P-256 public key, derived from the private key. */
        readonly publicKey: string;
        /** base64url (no padding) of the 32-byte private scalar, read from Sygnal's `vapid_private_key` file. */
        readonly privateKey: string;
    };
    /** Sygnal `ttl`, seconds (default 900, Sygnal's DEFAULT_TTL). */
    readonly ttlSeconds: number;
}

export type MatrixProviderInstance = MatrixApnsInstance | MatrixFcmInstance | MatrixWebPushInstance;

interface MatrixAppBase {
    /** The config key: an exact app id or a glob. */
    readonly name: string;
    readonly scheduling: MatrixScheduling;
    /**
     * The provider instance to send through: the registry id for `provider:` apps; for
     * `type:` apps, `matrix/<name>`, the id under which the service creates `create`.
     */
    readonly providerId: ProviderId;
}

export type MatrixApp =
    | (MatrixAppBase & { readonly kind: 'apns'; readonly payload: ApnsPayloadOptions; readonly create?: MatrixApnsInstance })
    | (MatrixAppBase & { readonly kind: 'fcm'; readonly payload: FcmPayloadOptions; readonly create?: MatrixFcmInstance })
    | (MatrixAppBase & { readonly kind: 'webpush'; readonly payload: WebPushPayloadOptions; readonly create?: MatrixWebPushInstance });

export interface MatrixApps {
    readonly apps: readonly MatrixApp[];
    /** One line per ignored or ineffective key, for the start-up log (Sygnal logs them as warnings). */
    readonly warnings: readonly string[];
    /** The app for a device's `app_id`: exact name first, then the single matching glob. */
    findApp(appId: string): MatrixApp | 'unknown' | 'ambiguous';
}

export interface MatrixAppsOptions {
    /** Directory relative file paths are resolved against (the service's config base). */
    readonly baseDir: string;
    /** The provider registry's instances and their kinds, for `provider:` apps. */
    readonly providers?: ReadonlyMap<ProviderId, ProviderKind>;
}

/** The prefix of the provider ids created for `type:` apps. */
export const MATRIX_PROVIDER_PREFIX = 'matrix/';

/** Sygnal's DEFAULT_TTL for Web Push, seconds (webpushpushkin.py). */
export const DEFAULT_WEBPUSH_TTL_SECONDS = 15 * 60;

const APNS_PUSH_TYPES: readonly ApnsPushType[] = ['alert', 'background', 'voip', 'complication', 'fileprovider', 'mdm',
    'location', 'liveactivity', 'pushtotalk'];

/** Top-level fields of an FCM HTTP v1 `Message` (projects.messages resource). */
const FCM_V1_MESSAGE_FIELDS = new Set(['name', 'data', 'notification', 'android', 'webpush', 'apns', 'fcm_options', 'token', 'topic', 'condition']);

/** Keys every app may carry. `inflight_request_limit` is Sygnal's (ConcurrencyLimitedPushkin). */
const COMMON_KEYS = ['type', 'provider', 'scheduling', 'inflight_request_limit'];
/** Per kind: keys that shape payloads (allowed with `provider:` too), then credential keys (type apps only). */
const PAYLOAD_KEYS: Record<ProviderKind, readonly string[]> = {
    apns: ['push_type', 'convert_device_token_to_hex', 'send_badge_counts', 'default_payload'],
    fcm: ['fcm_options', 'send_badge_counts', 'default_payload'],
    webpush: ['allowed_endpoints']
};
const INSTANCE_KEYS: Record<ProviderKind, readonly string[]> = {
    apns: ['platform', 'certfile', 'keyfile', 'key_id', 'team_id', 'topic'],
    fcm: ['api_version', 'api_key', 'project_id', 'service_account_file', 'max_connections'],
    webpush: ['vapid_private_key', 'vapid_contact_email', 'ttl', 'max_connections']
};
/** Sygnal's pushkin names (`type:`) and our provider kinds. */
const SYGNAL_TYPES: ReadonlyMap<string, ProviderKind> = new Map([['apns', 'apns'], ['gcm', 'fcm'], ['webpush', 'webpush']]);

/**
 * Parses and checks `matrix.apps`.
 *
 * @param raw the `apps` mapping as loaded from YAML
 * @throws ConfigError naming `matrix.apps.<app>.<key>` for the first wrong type, missing
 *   required key, unreadable or invalid file, unknown `type`/`provider`; or `matrix.apps`
 *   itself when it is not a non-empty mapping (an empty one would reject every pushkey, and
 *   Synapse would delete every pusher, so it is refused as Sygnal refuses it)
 */
export function parseMatrixApps(raw: unknown, options: MatrixAppsOptions): MatrixApps {
    if (!isObject(raw)) {
        throw new ConfigError('matrix.apps', 'must be a mapping of app ids (or globs) to app settings');
    }
    const names = Object.keys(raw);
    if (names.length === 0) {
        throw new ConfigError('matrix.apps', 'no app is configured (every pushkey would be rejected)');
    }
    const warnings: string[] = [];
    const apps = names.map((name) => parseApp(name, raw[name], options, warnings));
    return { apps, warnings, findApp: appFinder(apps) };
}

/**
 * The resolver of Sygnal's `find_pushkins`: an app whose name equals the app id wins; else
 * every app whose name, as a glob, matches it: exactly one is the app, none is 'unknown',
 * more is 'ambiguous' (both make Sygnal reject the pushkey).
 */
export function appFinder(apps: readonly MatrixApp[]): (appId: string) => MatrixApp | 'unknown' | 'ambiguous' {
    const exact = new Map(apps.map((a) => [a.name, a]));
    const globs = apps.filter((a) => isGlob(a.name)).map((a) => ({ app: a, re: globToRegExp(a.name, false) }));
    return (appId) => {
        const hit = exact.get(appId);
        if (hit) {
            return hit;
        }
        let found: MatrixApp | undefined;
        for (const g of globs) {
            if (g.re.test(appId)) {
                if (found) {
                    return 'ambiguous';
                }
                found = g.app;
            }
        }
        return found ?? 'unknown';
    };
}

type Raw = Record<string, unknown>;

function parseApp(name: string, value: unknown, options: MatrixAppsOptions, warnings: string[]): MatrixApp {
    const at = (key?: string): string => (key ? `matrix.apps.${name}.${key}` : `matrix.apps.${name}`);
    if (!isObject(value)) {
        throw new ConfigError(at(), 'must be a mapping (type: apns|gcm|webpush, or provider: <id>)');
    }
    const c = new Reader(value, at);
    const type = c.string('type');
    const providerId = c.string('provider');
    const kind = appKind(type, providerId, options, at);
    const scheduling = c.oneOf('scheduling', ['immediate', 'batched'] as const) ?? 'immediate';
    if (c.integer('inflight_request_limit', 1) !== undefined) {
        warnings.push(`${at('inflight_request_limit')}: has no effect here (the provider instance's limits apply)`);
    }

    const known = new Set([...COMMON_KEYS, ...PAYLOAD_KEYS[kind], ...INSTANCE_KEYS[kind]]);
    for (const key of Object.keys(value)) {
        if (!known.has(key)) {
            warnings.push(`${at(key)}: not understood (ignored)`);
        }
    }
    if (providerId !== undefined) {
        for (const key of INSTANCE_KEYS[kind]) {
            // An APNs topic stays meaningful: one token-auth key serves every app of a team.
            if (key in value && !(kind === 'apns' && key === 'topic')) {
                warnings.push(`${at(key)}: ignored: the app sends through provider '${providerId}', with its settings`);
            }
        }
    }
    const base = { name, scheduling, providerId: providerId ?? `${MATRIX_PROVIDER_PREFIX}${name}` };
    const file = (p: string): string => path.resolve(options.baseDir, p);

    switch (kind) {
        case 'apns': {
            const payload: ApnsPayloadOptions = {
                convertDeviceTokenToHex: c.boolean('convert_device_token_to_hex') ?? true,
                sendBadgeCounts: c.boolean('send_badge_counts') ?? true,
                pushType: c.oneOf('push_type', APNS_PUSH_TYPES),
                defaultPayload: c.object('default_payload'),
                // For `provider:` apps only: a `type:` app's topic is its instance's.
                topic: providerId !== undefined ? c.string('topic') : undefined
            };
            return { ...base, kind, payload, create: providerId === undefined ? apnsInstance(c, at, file, warnings) : undefined };
        }
        case 'fcm': {
            const fcmOptions = c.object('fcm_options') ?? {};
            for (const key of Object.keys(fcmOptions)) {
                if (key === 'data' || key === 'token') {
                    warnings.push(`${at(`fcm_options.${key}`)}: ignored: the notification sets message.${key} (as in Sygnal)`);
                } else if (!FCM_V1_MESSAGE_FIELDS.has(key)) {
                    warnings.push(`${at(`fcm_options.${key}`)}: not a field of an FCM v1 message (a legacy API option?); FCM will refuse every message`);
                }
            }
            const payload: FcmPayloadOptions = {
                sendBadgeCounts: c.boolean('send_badge_counts') ?? true,
                fcmOptions,
                defaultPayload: c.object('default_payload')
            };
            return { ...base, kind, payload, create: providerId === undefined ? fcmInstance(c, at, file, warnings) : undefined };
        }
        case 'webpush': {
            const allowed = c.stringList('allowed_endpoints');
            const payload: WebPushPayloadOptions = {
                // Sygnal: an empty list allows every endpoint (`if self.allowed_endpoints:`).
                allowedEndpoints: allowed && allowed.length ? allowed.map((g) => globToRegExp(g, true)) : undefined
            };
            return { ...base, kind, payload, create: providerId === undefined ? webPushInstance(c, at, file, warnings) : undefined };
        }
    }
}

/** The kind from `type` (Sygnal's pushkin name) and/or `provider` (the registry instance's kind), which must agree. */
function appKind(type: string | undefined, providerId: string | undefined, options: MatrixAppsOptions,
    at: (key?: string) => string): ProviderKind {
    let fromType: ProviderKind | undefined;
    if (type !== undefined) {
        if (type.includes('.')) {
            throw new ConfigError(at('type'), `custom pushkin classes are not supported ('${type}'); use apns, gcm or webpush`);
        }
        fromType = SYGNAL_TYPES.get(type);
        if (!fromType) {
            throw new ConfigError(at('type'), `must be apns, gcm or webpush, not '${type}'`);
        }
    }
    if (providerId === undefined) {
        if (!fromType) {
            throw new ConfigError(at('type'), 'missing: set type (apns, gcm or webpush) or provider (a provider instance id)');
        }
        return fromType;
    }
    const fromProvider = options.providers?.get(providerId);
    if (!fromProvider) {
        throw new ConfigError(at('provider'), `no provider instance '${providerId}' is configured`);
    }
    if (fromType && fromType !== fromProvider) {
        throw new ConfigError(at('provider'), `'${providerId}' is a ${fromProvider} provider, but type is ${type}`);
    }
    return fromProvider;
}

function apnsInstance(c: Reader, at: (key?: string) => string, file: (p: string) => string,
    warnings: string[]): MatrixApnsInstance {
    const platform = c.string('platform');
    let production: boolean;
    if (platform === undefined || platform === '' || platform === 'production' || platform === 'prod') {
        production = true;
    } else if (platform === 'sandbox') {
        production = false;
    } else {
        throw new ConfigError(at('platform'), `must be production or sandbox, not '${platform}'`);
    }
    const certfile = c.string('certfile');
    const keyfile = c.string('keyfile');
    const keyId = c.string('key_id');
    const teamId = c.string('team_id');
    const topic = c.string('topic');
    if (certfile) {
        // Sygnal: a certfile wins over a keyfile (`if certfile: ... elif keyfile:`).
        if (keyfile) {
            warnings.push(`${at('keyfile')}: ignored: certfile is set, and wins (as in Sygnal)`);
        }
        const certPemFile = file(certfile);
        const pem = readText(at('certfile'), certPemFile, 'APNs certificate');
        // The file may hold the key first, and `openssl pkcs12 -nodes` "Bag Attributes" lines.
        const certBlock = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/.exec(pem)?.[0];
        let cert: X509Certificate;
        try {
            cert = new X509Certificate(certBlock ?? '');
        } catch {
            throw new ConfigError(at('certfile'), `${certfile} holds no PEM certificate`);
        }
        if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
            throw new ConfigError(at('certfile'), `${certfile} has no private key: it must hold the certificate and its key, as for Sygnal`);
        }
        const uid = /^UID=(.+)$/m.exec(cert.subject)?.[1];
        // aioapns (Sygnal) takes the topic from the certificate's UID; `topic` is not passed to it.
        const effectiveTopic = uid ?? topic;
        if (uid && topic && topic !== uid) {
            warnings.push(`${at('topic')}: ignored: with certfile the topic is the certificate's UID, '${uid}' (as in Sygnal)`);
        }
        if (!effectiveTopic) {
            throw new ConfigError(at('topic'), 'missing: the certificate names no bundle id (UID); set topic');
        }
        return { kind: 'apns', production, certPemFile, topic: effectiveTopic, certNotAfterMs: Date.parse(cert.validTo) };
    }
    if (!keyfile) {
        throw new ConfigError(at('certfile'), 'missing: set certfile (a PEM file with certificate and key), or keyfile with key_id, team_id and topic');
    }
    const keyPath = file(keyfile);
    try {
        createPrivateKey(readText(at('keyfile'), keyPath, 'APNs signing key'));
    } catch (e) {
        throw e instanceof ConfigError ? e : new ConfigError(at('keyfile'), `${keyfile} is not a PEM private key (an AuthKey_<key id>.p8 file)`);
    }
    for (const [key, v] of [['key_id', keyId], ['team_id', teamId], ['topic', topic]] as const) {
        if (!v) {
            throw new ConfigError(at(key), 'missing: token auth (keyfile) needs key_id, team_id and topic');
        }
    }
    return { kind: 'apns', production, token: { key: keyPath, keyId: keyId!, teamId: teamId! }, topic: topic! };
}

function fcmInstance(c: Reader, at: (key?: string) => string, file: (p: string) => string,
    warnings: string[]): MatrixFcmInstance {
    const apiVersion = c.string('api_version');
    const apiKey = c.string('api_key');
    if (apiVersion === 'legacy' || (apiVersion === undefined && apiKey !== undefined && !('project_id' in c.raw))) {
        throw new ConfigError(at('api_version'), 'the legacy FCM API is shut down (June 2024); set api_version: v1, project_id and service_account_file');
    }
    if (apiVersion === undefined) {
        warnings.push(`${at('api_version')}: not set; using v1 (Sygnal would default to the shut-down legacy API)`);
    } else if (apiVersion !== 'v1') {
        throw new ConfigError(at('api_version'), `must be v1, not '${apiVersion}'`);
    }
    if (apiKey !== undefined) {
        warnings.push(`${at('api_key')}: ignored: FCM v1 authenticates with service_account_file`);
    }
    const projectId = c.string('project_id');
    if (!projectId) {
        throw new ConfigError(at('project_id'), 'missing: FCM v1 needs project_id');
    }
    const saFile = c.string('service_account_file');
    if (!saFile) {
        throw new ConfigError(at('service_account_file'), 'missing: FCM v1 needs service_account_file');
    }
    const saPath = file(saFile);
    let sa: unknown;
    try {
        sa = JSON.parse(readText(at('service_account_file'), saPath, 'service account file'));
    } catch (e) {
        throw e instanceof ConfigError ? e : new ConfigError(at('service_account_file'), `${saFile} is not valid JSON`);
    }
    if (!isObject(sa) || typeof sa.client_email !== 'string' || typeof sa.private_key !== 'string') {
        throw new ConfigError(at('service_account_file'), `${saFile} is not a service-account file (needs client_email and private_key)`);
    }
    const maxConnections = c.integer('max_connections', 1);
    return {
        kind: 'fcm',
        service_account: saPath,
        project_id: projectId,
        ...(maxConnections !== undefined ? { max_sockets: maxConnections } : {})
    };
}

function webPushInstance(c: Reader, at: (key?: string) => string, file: (p: string) => string,
    warnings: string[]): MatrixWebPushInstance {
    const keyFile = c.string('vapid_private_key');
    if (!keyFile) {
        throw new ConfigError(at('vapid_private_key'), 'missing: the path of the VAPID private key (PEM) file');
    }
    const keys = readVapidKey(at('vapid_private_key'), readText(at('vapid_private_key'), file(keyFile), 'VAPID key file'), keyFile);
    const email = c.string('vapid_contact_email');
    if (!email) {
        throw new ConfigError(at('vapid_contact_email'), 'missing: a contact address for the push services (VAPID sub)');
    }
    const subject = /^(mailto|https):/i.test(email) ? email : `mailto:${email}`;
    if (/^mailto:/i.test(subject) && !/^mailto:[^@\s]+@[^@\s]+$/i.test(subject)) {
        throw new ConfigError(at('vapid_contact_email'), `'${email}' is not an email address`);
    }
    if (/@localhost$/i.test(subject)) {
        warnings.push(`${at('vapid_contact_email')}: Apple's push service refuses a localhost address (BadJwtToken)`);
    }
    if (c.integer('max_connections', 1) !== undefined) {
        warnings.push(`${at('max_connections')}: has no effect here (the Web Push provider's limits apply)`);
    }
    return {
        kind: 'webpush',
        vapid: { subject, publicKey: keys.publicKey, privateKey: keys.privateKey },
        ttlSeconds: c.integer('ttl', 0) ?? DEFAULT_WEBPUSH_TTL_SECONDS
    };
}

/**
 * The raw VAPID key pair (base64url, RFC 8292 §3.2 / the `web-push` package's form) from the
 * file Sygnal reads with py_vapid's `Vapid.from_file`: a PEM (PKCS#8 "PRIVATE KEY" or SEC1
 * "EC PRIVATE KEY", as `vapid --gen` writes), else base64url DER (PKCS#8 or SEC1), else the
 * base64url raw 32-byte private key. The key must be on P-256.
 */
export function readVapidKey(key: string, text: string, fileName: string): { publicKey: string; privateKey: string } {
    let d: Buffer | undefined;
    const trimmed = text.trim();
    const fromKeyObject = (k: KeyObject): Buffer => {
        if (k.asymmetricKeyType !== 'ec' || k.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
            throw new ConfigError(key, `${fileName} is not a P-256 (prime256v1) EC private key`);
        }
        return Buffer.from(k.export({ format: 'jwk' }).d as string, 'base64url');
    };
    if (trimmed.includes('-----BEGIN')) {
        let k: KeyObject;
        try {
            k = createPrivateKey(trimmed);
        } catch {
            throw new ConfigError(key, `${fileName} is not a readable PEM private key`);
        }
        d = fromKeyObject(k);
    } else {
        const der = Buffer.from(trimmed, 'base64url');
        for (const type of ['pkcs8', 'sec1'] as const) {
            try {
                d = fromKeyObject(createPrivateKey({ key: der, format: 'der', type }));
                break;
            } catch (e) {
                if (e instanceof ConfigError) {
                    throw e;
                }
            }
        }
        if (!d && der.length === 32) {
            d = der;
        }
        if (!d) {
            throw new ConfigError(key, `${fileName} is not a VAPID private key (PEM, base64url DER, or raw base64url)`);
        }
    }
    const ecdh = createECDH('prime256v1');
    try {
        ecdh.setPrivateKey(d);
    } catch {
        throw new ConfigError(key, `${fileName} holds an invalid P-256 private key`);
    }
    return { publicKey: ecdh.getPublicKey().toString('base64url'), privateKey: d.toString('base64url') };
}

function readText(key: string, file: string, what: string): string {
    try {
        return readFileSync(file, 'utf8');
    } catch (e) {
        throw new ConfigError(key, `cannot read the ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
}

/** Typed reads of one app's keys, each error naming `matrix.apps.<app>.<key>`. */
class Reader {
    constructor(readonly raw: Raw, private readonly at: (key?: string) => string) {}

    string(key: string): string | undefined {
        const v = this.raw[key];
        if (v === undefined || v === null) {
            return undefined;
        }
        if (typeof v !== 'string') {
            throw new ConfigError(this.at(key), `must be a string, not ${describeType(v)}`);
        }
        return v;
    }

    boolean(key: string): boolean | undefined {
        const v = this.raw[key];
        if (v === undefined || v === null) {
            return undefined;
        }
        if (typeof v !== 'boolean') {
            throw new ConfigError(this.at(key), `must be true or false, not ${describeType(v)}`);
        }
        return v;
    }

    integer(key: string, min: number): number | undefined {
        const v = this.raw[key];
        if (v === undefined || v === null) {
            return undefined;
        }
        if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
            throw new ConfigError(this.at(key), `must be an integer >= ${min}, not ${describeType(v)}`);
        }
        return v;
    }

    object(key: string): Readonly<Record<string, unknown>> | undefined {
        const v = this.raw[key];
        if (v === undefined || v === null) {
            return undefined;
        }
        if (!isObject(v)) {
            throw new ConfigError(this.at(key), `must be a mapping, not ${describeType(v)}`);
        }
        return v;
    }

    stringList(key: string): string[] | undefined {
        const v = this.raw[key];
        if (v === undefined || v === null) {
            return undefined;
        }
        if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
            throw new ConfigError(this.at(key), 'must be a list of strings');
        }
        return v as string[];
    }

    oneOf<T extends string>(key: string, allowed: readonly T[]): T | undefined {
        const v = this.string(key);
        if (v === undefined) {
            return undefined;
        }
        if (!(allowed as readonly string[]).includes(v)) {
            throw new ConfigError(this.at(key), `must be one of ${allowed.join(', ')}, not '${v}'`);
        }
        return v as T;
    }
}

function isObject(v: unknown): v is Raw {
    return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describeType(v: unknown): string {
    if (Array.isArray(v)) {
        return 'a list';
    }
    if (v === null) {
        return 'null';
    }
    return typeof v === 'object' ? 'a mapping' : `${typeof v} ${JSON.stringify(v)}`;
}
