import { sign } from 'node:crypto';
import { VapidKeys } from '../../config/sections/webpush';

/**
 * VAPID (RFC 8292): the application server's identity, sent with every push as
 * `Authorization: vapid t=<JWT>, k=<public key>` (§3). The JWT is ES256 (JWS `alg` ES256,
 * signature the raw 64-byte r‖s, RFC 7518 §3.4) over `{aud, exp, sub}`:
 * - `aud`: the push resource's origin, e.g. `https://fcm.googleapis.com` (§2);
 * - `exp`: at most 24 hours ahead (§2); we sign for 12 hours, like web-push and pywebpush;
 * - `sub`: the operator's `mailto:` or `https:` contact (§2.1).
 * One JWT serves every endpoint of an origin until it expires (§2), so it is cached per origin
 * and re-signed once less than half of its life remains: a JWT is never used within 6 hours of
 * its `exp`, which absorbs any plausible clock skew at the push service.
 */
export const VAPID_JWT_LIFETIME_SECONDS = 12 * 3600;
/** Re-sign once fewer than this many seconds of the JWT's life remain. */
export const VAPID_JWT_RENEW_REMAINING_SECONDS = 6 * 3600;
/**
 * A JWT re-signed because the push service refused the previous one counts as "fresh" for this
 * long: a refusal of a fresh JWT is a configuration error, not a stale credential.
 */
export const VAPID_FRESH_REFRESH_MS = 10 * 60_000;
/** Origins whose JWT is kept (least recently used dropped first). */
export const VAPID_CACHE_MAX_ORIGINS = 1024;

export interface VapidCredential {
    /** The `Authorization` header value: `vapid t=<jwt>, k=<publicKey>`. */
    readonly authorization: string;
    readonly origin: string;
    /** Epoch ms it was signed. */
    readonly signedAt: number;
    /** The JWT's `exp`, epoch seconds. */
    readonly exp: number;
    /** Signed because the push service refused the previous JWT of this origin. */
    readonly refresh: boolean;
}

const JWT_HEADER = Buffer.from(JSON.stringify({ typ: 'JWT', alg: 'ES256' })).toString('base64url');

/** Signs one VAPID JWT (RFC 8292 §2) with the configured key. */
export function signVapidJwt(keys: VapidKeys, aud: string, exp: number): string {
    const claims = Buffer.from(JSON.stringify({ aud, exp, sub: keys.subject })).toString('base64url');
    const input = `${JWT_HEADER}.${claims}`;
    const signature = sign('sha256', Buffer.from(input), { key: keys.privateKey, dsaEncoding: 'ieee-p1363' });
    return `${input}.${signature.toString('base64url')}`;
}

/**
 * The VAPID credential per push-service origin: signed on first use, re-signed before it
 * expires, and re-signed once when the push service refuses it (issue 11 §2: a credential the
 * provider calls expired or invalid is refreshed and the token retried at once; only a repeat
 * after a fresh credential is a configuration error).
 */
export class VapidJwtCache {
    private readonly byOrigin = new Map<string, VapidCredential>();

    constructor(private readonly keys: VapidKeys, private readonly now: () => number = Date.now) {}

    /** The credential to send to `origin` now (cached, or freshly signed). */
    get(origin: string): VapidCredential {
        const cached = this.byOrigin.get(origin);
        if (cached && cached.exp - this.now() / 1000 > VAPID_JWT_RENEW_REMAINING_SECONDS) {
            // Least recently used goes first: move to the end.
            this.byOrigin.delete(origin);
            this.byOrigin.set(origin, cached);
            return cached;
        }
        return this.store(origin, false);
    }

    /**
     * `origin` answered 401/403 to `used`. Returns the credential to retry with at once (a
     * newer one already cached, or one signed now: `resigned`), or undefined when `used` was
     * itself a fresh re-signing: then the refusal is our configuration, not a stale JWT.
     */
    refreshAfterRefusal(origin: string, used: VapidCredential): { credential: VapidCredential; resigned: boolean } | undefined {
        if (used.refresh && this.now() - used.signedAt < VAPID_FRESH_REFRESH_MS) {
            return undefined;
        }
        const current = this.byOrigin.get(origin);
        if (current && current !== used && current.signedAt >= used.signedAt) {
            return { credential: current, resigned: false };
        }
        return { credential: this.store(origin, true), resigned: true };
    }

    /** Number of origins cached (tests). */
    get size(): number {
        return this.byOrigin.size;
    }

    private store(origin: string, refresh: boolean): VapidCredential {
        const signedAt = this.now();
        const exp = Math.floor(signedAt / 1000) + VAPID_JWT_LIFETIME_SECONDS;
        const jwt = signVapidJwt(this.keys, origin, exp);
        const credential: VapidCredential = {
            authorization: `vapid t=${jwt}, k=${this.keys.publicKey}`,
            origin, signedAt, exp, refresh
        };
        this.byOrigin.delete(origin);
        this.byOrigin.set(origin, credential);
        if (this.byOrigin.size > VAPID_CACHE_MAX_ORIGINS) {
            const oldest = this.byOrigin.keys().next().value as string;
            this.byOrigin.delete(oldest);
        }
        return credential;
    }
}
