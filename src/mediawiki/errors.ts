/**
 * What can go wrong talking to the action API, sorted by what the outbox should do about it.
 * Messages never contain request parameters: those carry the password, the CSRF token and
 * device tokens.
 */

/** API error codes that say "try again later", not "this request is wrong". */
const RETRYABLE_API_CODES = new Set(['maxlag', 'ratelimited', 'readonly', 'actionthrottledtext']);

/** Error codes that mean the session is gone: log in again, once, and retry. */
export const SESSION_ERROR_CODES: ReadonlySet<string> = new Set(['badtoken', 'notloggedin', 'assertuserfailed']);

export abstract class MwError extends Error {
    /** Whether the same request may succeed later. */
    abstract readonly retryable: boolean;
    /** How long the wiki asked us to wait (Retry-After), if it did. */
    readonly retryAfterMs?: number;

    protected constructor(message: string, retryAfterMs?: number) {
        super(message);
        this.name = new.target.name;
        this.retryAfterMs = retryAfterMs;
    }
}

/** The API answered `{"error": {"code", "info"}}`. */
export class MwApiError extends MwError {
    readonly retryable: boolean;

    constructor(readonly action: string, readonly code: string, info: string, retryAfterMs?: number) {
        super(`MediaWiki ${action}: ${code}: ${redactInfo(info)}`, retryAfterMs);
        // internal_api_error_* is an exception on the wiki's side, like a 500.
        this.retryable = RETRYABLE_API_CODES.has(code) || code.startsWith('internal_api_error');
    }
}

/** A non-2xx status, or a 2xx that is not the API's JSON (an error page from a proxy). */
export class MwHttpError extends MwError {
    readonly retryable: boolean;

    constructor(readonly action: string, readonly status: number, retryAfterMs?: number) {
        super(`MediaWiki ${action}: HTTP ${status}`, retryAfterMs);
        this.retryable = status >= 500 || status === 429 || status === 408 || (status >= 200 && status < 300);
    }
}

/** Why a call got no answer: its deadline passed, the network failed, or we are closing. */
export type MwNetworkFailure = 'timeout' | 'network' | 'closing';

/**
 * No answer at all: connection refused or reset, DNS, or the call's deadline passed
 * (`failure: 'timeout'`; mediawiki.requestTimeoutMs bounds every call, proxy CONNECT, TLS
 * and body read included). Always retryable: a wiki (or proxy) that did not answer may
 * answer later.
 */
export class MwNetworkError extends MwError {
    readonly retryable = true;

    constructor(readonly action: string, reason: string, readonly failure: MwNetworkFailure = 'network') {
        super(`MediaWiki ${action}: ${reason}`);
    }
}

/**
 * Login refused. Retryable: a wrong password needs an operator, but a throttled login or a
 * wiki mid-deploy does not, and the outbox's bounded attempts stop a hopeless loop anyway.
 */
export class MwLoginError extends MwError {
    readonly retryable = true;

    constructor(readonly result: string, reason?: string) {
        super(`MediaWiki login failed: ${result}${reason ? ` (${redactInfo(reason)})` : ''}`);
    }
}

/**
 * The wiki's `info` text may quote parameter values back at us; anything long and
 * token-shaped is cut out before it can reach a log.
 */
export function redactInfo(info: string): string {
    return info.replace(/[A-Za-z0-9_:\-+/=.]{24,}/g, '[redacted]').slice(0, 300);
}
