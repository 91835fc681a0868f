import { createECDH, createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../config-error';

/**
 * The `webpush:` block (provider id `webpush`), and the settings of every
 * `providers: {<id>: {kind: webpush, ...}}` entry: Web Push (RFC 8030) with VAPID (RFC 8292)
 * and the aes128gcm message encryption (RFC 8291).
 *
 *     webpush:
 *       vapid:
 *         subject: mailto:push-admins@wikimedia.org     # or https://...
 *         publicKey: BExampleUncompressedP256PointBase64url...   # 65 bytes, base64url
 *         privateKeyFile: /etc/push-notifications/vapid.key    # 32 bytes base64url, or an EC PEM
 *       allowedEndpoints: [fcm.googleapis.com, updates.push.services.mozilla.com, '*.push.apple.com', '*.notify.windows.com']
 *       ttl: 86400
 *       urgency: normal
 */
export interface WebPushVapidConfig {
    /** RFC 8292 §2.1 `sub`: a `mailto:` address or an `https:` URL where the operator can be reached. */
    readonly subject: string;
    /** The application server key: base64url of the 65-byte uncompressed P-256 point (browsers' `applicationServerKey`). */
    readonly publicKey: string;
    /** The private half inline: base64url of the 32-byte P-256 scalar. Prefer `privateKeyFile`. */
    readonly privateKey?: string;
    /** Path of a file holding the private key: the 32-byte scalar in base64url, or an EC private key PEM (SEC1 or PKCS#8). */
    readonly privateKeyFile?: string;
}

/** RFC 8030 §5.3 urgency values. */
export const WEBPUSH_URGENCIES = ['very-low', 'low', 'normal', 'high'] as const;
export type WebPushUrgency = typeof WEBPUSH_URGENCIES[number];

/**
 * The push services of the four browser families (Chrome/FCM, Firefox/autopush, Safari/Apple,
 * Edge/WNS), the default `allowedEndpoints`. Same list as Sygnal's documentation example plus
 * Apple's.
 */
export const WEBPUSH_DEFAULT_ALLOWED_ENDPOINTS: readonly string[] = Object.freeze([
    'fcm.googleapis.com',
    'updates.push.services.mozilla.com',
    '*.push.apple.com',
    '*.notify.windows.com'
]);

export interface WebPushConfig {
    /** Development only: nothing is sent; every valid subscription is 'delivered'. */
    readonly mock: boolean;
    /** Required unless `mock` (mock mode makes a throwaway key pair when absent). */
    readonly vapid?: WebPushVapidConfig;
    /**
     * Host globs a subscription's endpoint must match (case-insensitive; `*` matches one or
     * more characters of a host name, dots included). The endpoint is chosen by the browser,
     * so this list is the SSRF guard together with https-on-443 and the public-address check.
     */
    readonly allowedEndpoints: readonly string[];
    /** RFC 8030 §5.2 `TTL`, seconds, when the message names none. */
    readonly ttl: number;
    /** RFC 8030 §5.3 `Urgency` when the message names no priority. */
    readonly urgency: WebPushUrgency;
    /**
     * Total deadline of one push request in milliseconds: DNS, connect (or proxy CONNECT), TLS,
     * the answer's headers and body. Hitting it makes the token transient.
     */
    readonly requestTimeoutMs: number;
    /** Keep-alive sockets, and so requests in flight, per push-service origin (HTTP/1.1). */
    readonly maxSocketsPerOrigin: number;
    /** Tests only: path of a CA bundle to trust besides the system store (the fakes' throwaway CA). */
    readonly ca?: string;
    /**
     * TESTS AND DEV MODE ONLY. `host:port` pairs on the loopback interface (`127.0.0.1:8443`,
     * `localhost:8443`, `[::1]:8443`) whose endpoints are exempt from the port-443 rule and
     * may resolve to loopback addresses, so the fake push service can be reached. Only
     * loopback hosts can be listed (the schema refuses anything else), so even if left set in
     * production it opens no private, link-local or metadata address; the provider logs a
     * warning at start when it is set, and start-up refuses it under NODE_ENV=production.
     */
    readonly testOnlyLoopbackEndpoints: readonly string[];
}

/** A host glob: lower-case host name characters and `*`. */
const HOST_GLOB_PATTERN = '^[a-z0-9*]([a-z0-9*.-]*[a-z0-9*])?$';
/** A loopback `host:port` (see testOnlyLoopbackEndpoints). */
const LOOPBACK_HOST_PORT_PATTERN = '^(127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}|localhost|\\[::1\\]):\\d{1,5}$';
/** base64url (or base64) characters, optional padding; lengths are checked by validateWebPushConfig. */
const BASE64URL_PATTERN = '^[A-Za-z0-9_+/-]+={0,2}$';

/** The JSON schema properties (ajv, draft-07), for the `webpush:` block and `providers.<id>` entries alike. */
export const webpushProperties = {
    mock: { type: 'boolean', default: false },
    vapid: {
        type: 'object',
        additionalProperties: false,
        required: ['subject', 'publicKey'],
        properties: {
            subject: { type: 'string', pattern: '^(mailto:[^@\\s]+@[^@\\s]+|https://[^\\s]+)$' },
            publicKey: { type: 'string', pattern: BASE64URL_PATTERN },
            privateKey: { type: 'string', pattern: BASE64URL_PATTERN },
            privateKeyFile: { type: 'string', minLength: 1 }
        }
    },
    allowedEndpoints: {
        type: 'array',
        items: { type: 'string', pattern: HOST_GLOB_PATTERN },
        default: [...WEBPUSH_DEFAULT_ALLOWED_ENDPOINTS]
    },
    // RFC 8030 puts no cap on TTL; autopush caps it at 30-60 days. Default: one day (Echo's
    // message only says "look for new notifications", and Topic replaces an older one).
    ttl: { type: 'integer', minimum: 0, maximum: 2592000, default: 86400 },
    urgency: { enum: [...WEBPUSH_URGENCIES], default: 'normal' },
    requestTimeoutMs: { type: 'integer', minimum: 100, maximum: 120000, default: 10000 },
    maxSocketsPerOrigin: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
    ca: { type: 'string', minLength: 1 },
    testOnlyLoopbackEndpoints: {
        type: 'array',
        items: { type: 'string', pattern: LOOPBACK_HOST_PORT_PATTERN },
        default: []
    }
} as const;

/** The `webpush:` block's schema (same shape as apnsSchema / fcmSchema). */
export const webpushSchema = {
    type: 'object',
    additionalProperties: false,
    default: {},
    properties: webpushProperties
} as const;

/** A VAPID key pair checked and ready to sign with (parsed once, at start-up). */
export interface VapidKeys {
    readonly subject: string;
    /** base64url (no padding) of the 65-byte public point: the `k=` parameter and the API's answer. */
    readonly publicKey: string;
    /** The raw 65-byte public point. */
    readonly publicKeyBytes: Buffer;
    /** The private key, for ES256 signing. */
    readonly privateKey: KeyObject;
}

export interface ValidateWebPushOptions {
    /** Key prefix for messages: 'webpush' (the default) or 'providers.<id>'. */
    readonly key?: string;
    /** Base directory for a relative `privateKeyFile`; default the process's working directory. */
    readonly baseDir?: string;
    /** Default process.env (NODE_ENV=production refuses testOnlyLoopbackEndpoints). */
    readonly env?: NodeJS.ProcessEnv;
    /** Default readFileSync (tests). */
    readonly readFile?: (file: string) => Buffer;
}

/**
 * Checks a `webpush` settings block beyond its schema and loads the VAPID key pair, once at
 * start-up: better to refuse to start than to send every message with a key the push services
 * reject (web-push #679 "invalid JWT signature" is a mismatched pair).
 *
 * Checks (RFC 8292 §3.2 keys; Apple's `BadJwtToken` rules for `sub`):
 * - exactly one of `vapid.privateKey` and `vapid.privateKeyFile`; the file is readable;
 * - `vapid.publicKey` decodes to a 65-byte uncompressed point on P-256;
 * - the private key decodes to 32 bytes (or is an EC P-256 PEM) and is a valid scalar;
 * - the public key is the private key's own (derived and compared);
 * - `vapid.subject` is `mailto:` or `https:` and not localhost (Apple refuses those);
 * - `testOnlyLoopbackEndpoints` is empty under NODE_ENV=production.
 * Mock mode without `vapid` gets a throwaway pair (so the public-key route still answers).
 *
 * @returns the keys, ready for signing
 * @throws ConfigError naming the key, e.g. `webpush.vapid.privateKey: does not match webpush.vapid.publicKey`
 */
export function validateWebPushConfig(config: WebPushConfig, options: ValidateWebPushOptions = {}): VapidKeys {
    const key = options.key ?? 'webpush';
    const env = options.env ?? process.env;
    if (config.testOnlyLoopbackEndpoints.length > 0 && env.NODE_ENV === 'production') {
        throw new ConfigError(`${key}.testOnlyLoopbackEndpoints`, 'is for tests and dev mode only, and NODE_ENV is production');
    }
    const v = config.vapid;
    if (!v) {
        if (config.mock) {
            return throwawayVapidKeys();
        }
        throw new ConfigError(`${key}.vapid`, 'is required (subject, publicKey, and privateKey or privateKeyFile)');
    }
    checkSubject(`${key}.vapid.subject`, v.subject);

    const publicKeyBytes = decodeBase64url(v.publicKey);
    if (publicKeyBytes.length !== 65 || publicKeyBytes[0] !== 0x04) {
        throw new ConfigError(`${key}.vapid.publicKey`,
            `must be base64url of a 65-byte uncompressed P-256 point (starting 0x04); got ${publicKeyBytes.length} bytes`);
    }
    let publicKey: KeyObject;
    try {
        publicKey = createPublicKey({ key: publicJwk(publicKeyBytes), format: 'jwk' });
    } catch {
        throw new ConfigError(`${key}.vapid.publicKey`, 'is not a point on the P-256 curve');
    }

    if ((v.privateKey === undefined) === (v.privateKeyFile === undefined)) {
        throw new ConfigError(`${key}.vapid.privateKey`, 'set exactly one of privateKey and privateKeyFile');
    }
    const privateKeyName = v.privateKey !== undefined ? `${key}.vapid.privateKey` : `${key}.vapid.privateKeyFile`;
    let privateText: string;
    if (v.privateKey !== undefined) {
        privateText = v.privateKey;
    } else {
        const file = path.resolve(options.baseDir ?? process.cwd(), v.privateKeyFile as string);
        try {
            privateText = (options.readFile ?? readFileSync)(file).toString('utf8').trim();
        } catch (e) {
            throw new ConfigError(privateKeyName, `cannot read ${v.privateKeyFile}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
        }
    }
    const privateKey = loadPrivateKey(privateKeyName, privateText);
    // Derived public point of the private key, compared with the configured one.
    const derived = publicPointOf(createPublicKey(privateKey));
    if (!derived.equals(publicPointOf(publicKey))) {
        throw new ConfigError(privateKeyName, `does not match ${key}.vapid.publicKey`);
    }
    return { subject: v.subject, publicKey: publicKeyBytes.toString('base64url'), publicKeyBytes, privateKey };
}

function checkSubject(name: string, subject: string): void {
    let url: URL;
    try {
        url = new URL(subject);
    } catch {
        throw new ConfigError(name, 'must be a mailto: address or an https: URL');
    }
    if (url.protocol === 'mailto:') {
        const domain = url.pathname.split('@')[1] ?? '';
        if (!domain || /^localhost$|\.localhost$/i.test(domain)) {
            throw new ConfigError(name, 'must be a reachable mailto: address (Apple refuses @localhost)');
        }
    } else if (url.protocol === 'https:') {
        if (url.hostname === 'localhost' || url.hostname.endsWith('.localhost')) {
            throw new ConfigError(name, 'must not point at localhost (Apple refuses it)');
        }
    } else {
        throw new ConfigError(name, 'must be a mailto: address or an https: URL');
    }
}

function loadPrivateKey(name: string, text: string): KeyObject {
    if (text.startsWith('-----BEGIN')) {
        let k: KeyObject;
        try {
            k = createPrivateKey({ key: text, format: 'pem' });
        } catch {
            throw new ConfigError(name, 'is not a readable PEM private key');
        }
        if (k.asymmetricKeyType !== 'ec' || k.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
            throw new ConfigError(name, 'must be an EC key on P-256');
        }
        return k;
    }
    if (!new RegExp(BASE64URL_PATTERN).test(text)) {
        throw new ConfigError(name, 'must be base64url of the 32-byte private key, or a PEM');
    }
    const d = decodeBase64url(text);
    if (d.length !== 32) {
        throw new ConfigError(name, `must be base64url of a 32-byte P-256 private key; got ${d.length} bytes`);
    }
    let point: Buffer;
    try {
        // Derives the public point from the scalar (refuses 0 and values >= the group order).
        const ecdh = createECDH('prime256v1');
        ecdh.setPrivateKey(d);
        point = ecdh.getPublicKey();
    } catch {
        throw new ConfigError(name, 'is not a valid P-256 private key');
    }
    return createPrivateKey({ key: { ...publicJwk(point), d: d.toString('base64url') }, format: 'jwk' });
}

/** A throwaway key pair for mock mode without `vapid`. */
function throwawayVapidKeys(): VapidKeys {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const publicKeyBytes = publicPointOf(publicKey);
    return { subject: 'mailto:mock@example.org', publicKey: publicKeyBytes.toString('base64url'), publicKeyBytes, privateKey };
}

/** The 65-byte uncompressed point of an EC public (or private) key. */
export function publicPointOf(key: KeyObject): Buffer {
    const jwk = key.export({ format: 'jwk' });
    return Buffer.concat([Buffer.from([0x04]), Buffer.from(jwk.x as string, 'base64url'), Buffer.from(jwk.y as string, 'base64url')]);
}

function publicJwk(point: Buffer): { kty: 'EC'; crv: 'P-256'; x: string; y: string } {
    return { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33, 65).toString('base64url') };
}

/** base64url or base64, padded or not (Node's base64url decoder reads both alphabets). */
function decodeBase64url(s: string): Buffer {
    return Buffer.from(s.replace(/=+$/, ''), 'base64url');
}
