import { TokenOutcome } from '../../push/provider';

/**
 * How each push service answer is acted on (RFC 8030 §5, §7; RFC 8292 §4.2; vendors' docs as
 * collected in shared/reference/peers-matrix-mongoosepush-webpush.md §3.2). This table is the
 * policy: 'dead' deletes the subscription at the wiki, 'config_error' is never deleted and never
 * retried forever, 'transient' is retried with backoff and Retry-After (both forms).
 *
 * | status        | outcome      | reason   | why |
 * |---------------|--------------|----------|-----|
 * | 201, any 2xx  | delivered    | ok       | RFC 8030 §5: 201 Created, the message is accepted (some services answer 200/202) |
 * | 404           | dead         | http-404 | RFC 8030 §7.3: "expired push message subscription"; autopush errno 102 |
 * | 410           | dead         | http-410 | autopush 103/105/106, FCM "unsubscribed or expired", Apple "expired": the subscription is gone |
 * | 429           | transient    | http-429 | rate limited; Retry-After honoured (autopush: "honor the value") |
 * | 5xx           | transient    | http-5xx | server or bridge error; Retry-After honoured when given |
 * | 400           | config_error | http-400 | our request is malformed (autopush errno 101, 110-113: crypto keys, TTL, Topic) |
 * | 401           | config_error | http-401 | VAPID missing or invalid (RFC 8292 §4.2), after one re-signed retry |
 * | 403           | config_error | http-403 | VAPID invalid or not the subscription's key; Apple BadJwtToken; after one re-signed retry |
 * | 413           | config_error | http-413 | payload too large (RFC 8030 §7.2): our size guard is wrong |
 * | 3xx           | config_error | http-3xx | redirects are never followed (SSRF); the endpoint is not a push resource |
 * | other 4xx     | config_error | http-4xx | ours to look at; never delete, never loop |
 * | anything else | config_error | http-other | not HTTP as a push service speaks it |
 *
 * 401 and 403 first go through the VAPID refresh (vapid.ts): a refused JWT from the cache is
 * re-signed and the token retried at once; only a refusal of a freshly signed JWT lands here.
 */
export interface WebPushStatusRule {
    /** An exact status, or a class ('2xx', '3xx', '4xx', '5xx'), or 'other'. */
    readonly status: number | '2xx' | '3xx' | '4xx' | '5xx' | 'other';
    readonly outcome: TokenOutcome;
    /** Metric label (fixed set). */
    readonly reason: string;
    /** Honour Retry-After. */
    readonly retryAfter?: boolean;
}

export const WEBPUSH_STATUS_TABLE: readonly WebPushStatusRule[] = Object.freeze([
    { status: '2xx', outcome: 'delivered', reason: 'ok' },
    { status: 404, outcome: 'dead', reason: 'http-404' },
    { status: 410, outcome: 'dead', reason: 'http-410' },
    { status: 429, outcome: 'transient', reason: 'http-429', retryAfter: true },
    { status: '5xx', outcome: 'transient', reason: 'http-5xx', retryAfter: true },
    { status: 400, outcome: 'config_error', reason: 'http-400' },
    { status: 401, outcome: 'config_error', reason: 'http-401' },
    { status: 403, outcome: 'config_error', reason: 'http-403' },
    { status: 413, outcome: 'config_error', reason: 'http-413' },
    { status: '3xx', outcome: 'config_error', reason: 'http-3xx' },
    { status: '4xx', outcome: 'config_error', reason: 'http-4xx' },
    { status: 'other', outcome: 'config_error', reason: 'http-other' }
] as const);

/** The statuses that mean "this VAPID JWT is refused" (RFC 8292 §4.2). */
export const VAPID_REFUSED_STATUSES: ReadonlySet<number> = new Set([401, 403]);

/**
 * Outcomes decided without (or instead of) a push service answer.
 *
 * | condition             | outcome      | why |
 * |-----------------------|--------------|-----|
 * | invalid_subscription  | dead         | not a subscription (issue 12): can never be delivered; never sent |
 * | endpoint_not_allowed  | config_error | SSRF policy refused it: never contacted, never deleted (our list may be too narrow), never retried forever |
 * | payload_too_large     | config_error | the plaintext does not fit one 4096-byte record (RFC 8291 §4): our message is wrong |
 * | timeout               | transient    | the request's total deadline passed (issue 11 §3) |
 * | network_error         | transient    | connection refused or reset, TLS failure, DNS failure |
 * | closed                | transient    | the provider was closed (shutdown) before the token was sent |
 * | internal_error        | config_error | a bug of ours (rendering, encryption threw): never delete, never loop |
 */
export const WEBPUSH_LOCAL_OUTCOMES = Object.freeze({
    invalid_subscription: 'dead',
    endpoint_not_allowed: 'config_error',
    payload_too_large: 'config_error',
    timeout: 'transient',
    network_error: 'transient',
    closed: 'transient',
    internal_error: 'config_error'
} as const satisfies Record<string, TokenOutcome>);

export type WebPushLocalCondition = keyof typeof WEBPUSH_LOCAL_OUTCOMES;

/** The table row for an HTTP status. */
export function webPushStatusRule(status: number): WebPushStatusRule {
    const exact = WEBPUSH_STATUS_TABLE.find((r) => r.status === status);
    if (exact) {
        return exact;
    }
    const cls = status >= 200 && status <= 599 ? `${Math.floor(status / 100)}xx` : 'other';
    return WEBPUSH_STATUS_TABLE.find((r) => r.status === cls) ?? WEBPUSH_STATUS_TABLE[WEBPUSH_STATUS_TABLE.length - 1];
}

/** At most this many characters of a push service's error body go into a result's `detail`. */
export const DETAIL_MAX_CHARS = 300;

/**
 * The push service's answer, made fit for one log line: control characters replaced, the
 * subscription's endpoint path (a secret capability URL) masked, cut to DETAIL_MAX_CHARS.
 */
export function answerDetail(status: number, body: string, endpointPath: string): string {
    // Control characters (newlines included) become spaces: one event, one line.
    let text = [...body].map((ch) => (ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f ? ' ' : ch)).join('').replace(/ {2,}/g, ' ').trim();
    for (const secret of [endpointPath, endpointPath.split('/').pop() ?? '']) {
        if (secret.length >= 8) {
            text = text.split(secret).join('…');
        }
    }
    if (text.length > DETAIL_MAX_CHARS) {
        text = `${text.slice(0, DETAIL_MAX_CHARS)}…`;
    }
    return text ? `${status} ${text}` : `${status}`;
}
