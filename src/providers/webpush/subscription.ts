import { ECDH } from 'node:crypto';
import { TokenCheck, TokenSyntax } from '../../push/token-syntax';

/**
 * A Web Push subscription as the browser hands it out (`PushSubscription.toJSON()`, W3C Push
 * API) and as Echo stores it: the device token of the `webpush` kind is this object,
 * JSON-encoded:
 *
 *     {"endpoint":"https://fcm.googleapis.com/fcm/send/…","expirationTime":null,
 *      "keys":{"p256dh":"<base64url, 65-byte P-256 point>","auth":"<base64url, 16 bytes>"}}
 */
export interface WebPushSubscription {
    /** The push resource URL (RFC 8030 §5), parsed. */
    readonly endpoint: URL;
    /** The user agent's ECDH public key (RFC 8291 §3.1 `ua_public`): 65-byte uncompressed P-256 point. */
    readonly p256dh: Buffer;
    /** The authentication secret (RFC 8291 §3.2 `auth_secret`): 16 bytes. */
    readonly auth: Buffer;
}

/** Metric label of a token that is not a valid subscription (dead: never sent, deleted at the wiki). */
export const INVALID_SUBSCRIPTION = 'invalid_subscription';

/** Why a token is not a valid subscription (for tests and debug logs; never a metric label). */
export type SubscriptionProblem =
    | 'not_json' | 'not_object' | 'endpoint_missing' | 'endpoint_not_url' | 'endpoint_not_https'
    | 'keys_missing' | 'p256dh_invalid' | 'auth_invalid';

export type ParsedSubscription =
    | { readonly ok: true; readonly subscription: WebPushSubscription }
    | { readonly ok: false; readonly problem: SubscriptionProblem };

/** base64url or base64 characters, optionally padded (RFC 4648 §5 and §4). */
const BASE64ISH = /^[A-Za-z0-9_+/-]*={0,2}$/;

/**
 * Parses a JSON-encoded PushSubscription. Rules (W3C Push API; RFC 8291 §3 key sizes):
 * - JSON object with a string `endpoint` that parses as an `https:` URL;
 * - `keys.p256dh`: base64url of a 65-byte uncompressed point (0x04 ‖ x ‖ y) on P-256;
 * - `keys.auth`: base64url of exactly 16 bytes.
 * Padding and the standard base64 alphabet are tolerated (some stores keep them): a
 * deliverable subscription must never be called invalid, since invalid means deleted.
 * Other fields (`expirationTime`, ...) are ignored. Port, host and address rules are the
 * endpoint policy's (endpoint-policy.ts), not the syntax's: a refused endpoint is not deleted.
 */
export function parseSubscription(token: string): ParsedSubscription {
    let raw: unknown;
    try {
        raw = JSON.parse(token);
    } catch {
        return { ok: false, problem: 'not_json' };
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
        return { ok: false, problem: 'not_object' };
    }
    const o = raw as { endpoint?: unknown; keys?: unknown };
    if (typeof o.endpoint !== 'string' || o.endpoint === '') {
        return { ok: false, problem: 'endpoint_missing' };
    }
    let endpoint: URL;
    try {
        endpoint = new URL(o.endpoint);
    } catch {
        return { ok: false, problem: 'endpoint_not_url' };
    }
    if (endpoint.protocol !== 'https:' || endpoint.hostname === '') {
        return { ok: false, problem: 'endpoint_not_https' };
    }
    if (typeof o.keys !== 'object' || o.keys === null) {
        return { ok: false, problem: 'keys_missing' };
    }
    const keys = o.keys as { p256dh?: unknown; auth?: unknown };
    const p256dh = decodeKey(keys.p256dh);
    if (!p256dh || p256dh.length !== 65 || p256dh[0] !== 0x04 || !onCurve(p256dh)) {
        return { ok: false, problem: 'p256dh_invalid' };
    }
    const auth = decodeKey(keys.auth);
    if (!auth || auth.length !== 16) {
        return { ok: false, problem: 'auth_invalid' };
    }
    return { ok: true, subscription: { endpoint, p256dh, auth } };
}

function decodeKey(v: unknown): Buffer | undefined {
    if (typeof v !== 'string' || !BASE64ISH.test(v)) {
        return undefined;
    }
    return Buffer.from(v.replace(/=+$/, ''), 'base64url');
}

/** True when the 65 bytes are a point on P-256 (ECDH.convertKey decodes and checks it). */
function onCurve(point: Buffer): boolean {
    try {
        ECDH.convertKey(point, 'prime256v1', undefined, undefined, 'compressed');
        return true;
    } catch {
        return false;
    }
}

/**
 * The `webpush` kind's TokenSyntax (checked per token at the front door):
 * - ok: `wire` = the subscription re-serialised canonically
 *   (`{"endpoint":…,"keys":{"p256dh":…,"auth":…}}`, keys in unpadded base64url), `key` = the
 *   endpoint URL (one push resource, one subscription: the de-duplication key);
 * - not ok: reason `invalid_subscription` (not JSON, missing or wrong-length keys, endpoint not
 *   https), which the caller treats as dead: never sent, deleted at the wiki.
 */
export const webPushTokenSyntax: TokenSyntax = (token: string): TokenCheck => {
    const parsed = parseSubscription(token);
    if (!parsed.ok) {
        return { ok: false, reason: INVALID_SUBSCRIPTION };
    }
    const s = parsed.subscription;
    return {
        ok: true,
        key: s.endpoint.href,
        wire: JSON.stringify({ endpoint: s.endpoint.href, keys: { p256dh: s.p256dh.toString('base64url'), auth: s.auth.toString('base64url') } })
    };
};
