import { TokenCheck, TokenSyntax } from '../../push/token-syntax';

/**
 * APNs device-token lengths, in bytes. Apple's devices give 32-byte tokens today; Apple says
 * their length may change ("Don't hard-code the size of device tokens", Registering your app
 * with APNs), and the legacy binary interface allowed up to 100 bytes. Shorter than 32 bytes
 * has never been a device token.
 */
export const APNS_TOKEN_MIN_BYTES = 32;
export const APNS_TOKEN_MAX_BYTES = 100;

/** Lower-case hex of a plausible length: the common case, accepted as is (no copy). */
const CANONICAL = /^[0-9a-f]{64,200}$/;
/** After normalising: hex only. */
const HEX = /^[0-9a-f]+$/;

/**
 * APNs token syntax (issue 11 §1). A device token is the hex of 32 to 100 bytes. What is
 * unambiguous is normalised into `wire` (what goes into the `/3/device/<wire>` path) and
 * `key` (what de-duplicates; the same here):
 * - surrounding whitespace (a stored token with a trailing newline) is removed;
 * - the old printed form of an NSData, `<01234567 89abcdef … >`, loses its angle brackets
 *   (only as a pair around the whole token) and the spaces between its groups;
 * - upper-case hex is lower-cased, so `ABCD…` and `abcd…` are one token.
 * Anything else (other characters, an odd number of digits, fewer than 64 or more than 200
 * digits) is `{ok: false, reason: 'invalid_token'}`: never sent, so nothing but hex ever
 * reaches the request path.
 *
 * @param token the string as the front door accepted it
 */
export const apnsTokenSyntax: TokenSyntax = (token: string): TokenCheck => {
    if (CANONICAL.test(token)) {
        return (token.length & 1) === 0 ? { ok: true, wire: token, key: token } : INVALID;
    }
    let t = token.trim();
    if (t.startsWith('<') && t.endsWith('>')) {
        t = t.slice(1, -1);
    }
    // Spaces between the groups of the printed form (and tabs, for the same reason).
    t = t.replace(/[ \t]+/g, '').toLowerCase();
    const bytes = t.length / 2;
    if (!HEX.test(t) || (t.length & 1) !== 0 || bytes < APNS_TOKEN_MIN_BYTES || bytes > APNS_TOKEN_MAX_BYTES) {
        return INVALID;
    }
    return { ok: true, wire: t, key: t };
};

const INVALID: TokenCheck = Object.freeze({ ok: false, reason: 'invalid_token' });
