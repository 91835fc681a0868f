import { createSign } from 'node:crypto';
import * as http from 'node:http';
import { errorMessage } from '../../util/errors';
import { requestTarget, requestWithDeadline, RequestDeadlineError } from './deadline-request';

/** The fields of a Google service-account JSON file this credential needs. */
export interface ServiceAccount {
    readonly project_id?: string;
    readonly client_email: string;
    readonly private_key: string;
    readonly private_key_id?: string;
    readonly token_uri?: string;
}

export const DEFAULT_TOKEN_URI = 'https://oauth2.googleapis.com/token';
/** The only scope FCM HTTP v1 needs (FCM: "Authorize send requests"). */
export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
const GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/**
 * A token is refreshed in the background from this long before it expires (Google's tokens
 * live an hour; firebase-admin refreshed 5 min early), while the old one is still used...
 */
const REFRESH_MARGIN_MS = 6 * 60 * 1000;
/** ...and no longer used from this long before it expires: callers then wait for a new one. */
const HARD_MARGIN_MS = 60 * 1000;
/** After a failed exchange, callers get the same failure for this long instead of a new exchange each. */
const FAILURE_HOLD_MS = 1000;

/**
 * Why an exchange failed: 'rejected' when the token endpoint refused our assertion (4xx such
 * as 400 invalid_grant or 401 invalid_client: the key, account or clock is wrong; a
 * configuration error), 'unavailable' when it could not be asked or did not answer usefully
 * (network, deadline, 5xx, 408, 429, a body that is not a token: an outage, retried later).
 */
export type TokenFailure = 'rejected' | 'unavailable';

export class TokenExchangeError extends Error {
    constructor(message: string, readonly failure: TokenFailure) {
        super(message);
        this.name = 'TokenExchangeError';
    }
}

export interface JwtBearerOptions {
    /** Total deadline of one exchange, ms (see requestWithDeadline). */
    readonly deadlineMs: number;
    /** True once the owner is closing: a failed exchange is not sent again. */
    readonly cancelled?: () => boolean;
    readonly now?: () => number;
}

interface Cached {
    readonly token: string;
    /** Epoch ms: start a background refresh from here. */
    readonly refreshAt: number;
    /** Epoch ms: stop handing out this token from here. */
    readonly staleAt: number;
}

/**
 * Google OAuth 2.0 access tokens for a service account, by the JWT-bearer grant (RFC 7523
 * §2.1; Google: "Using OAuth 2.0 for Server to Server Applications"): an RS256 assertion
 * {iss, scope, aud, iat, exp} signed with the account's key is exchanged at the token
 * endpoint for a Bearer token, over our agent (so through the egress proxy).
 *
 * The token is cached and refreshed before it expires: from REFRESH_MARGIN_MS before expiry
 * one background exchange runs while the old token is still handed out; only from
 * HARD_MARGIN_MS before expiry (or with nothing cached) do callers wait, and concurrent
 * callers share one exchange. `invalidate(token)` drops a token FCM refused (401), so the
 * next caller gets a fresh one. Each exchange has a total deadline.
 */
export class JwtBearerCredential {
    private cached?: Cached;
    private inflight?: Promise<string>;
    private failed?: { error: TokenExchangeError; until: number };
    private readonly now: () => number;

    constructor(private readonly sa: ServiceAccount, readonly tokenUri: string,
        private readonly agent: http.Agent | undefined, private readonly userAgent: string,
        private readonly options: JwtBearerOptions) {
        this.now = options.now ?? Date.now;
    }

    /** The cached token if it is good to use now (starting a background refresh when due). */
    current(): string | undefined {
        const c = this.cached;
        if (!c) {
            return undefined;
        }
        const now = this.now();
        if (now >= c.staleAt) {
            return undefined;
        }
        if (now >= c.refreshAt && !this.inflight && !(this.failed && now < this.failed.until)) {
            // The old token stays in use; a failure here only shows if it persists to staleAt.
            this.exchangeShared().catch(() => undefined);
        }
        return c.token;
    }

    /**
     * A usable access token, exchanging a new one if needed.
     * @throws TokenExchangeError when the exchange fails (see TokenFailure)
     */
    accessToken(): Promise<string> {
        const token = this.current();
        if (token !== undefined) {
            return Promise.resolve(token);
        }
        const failed = this.failed;
        if (failed && this.now() < failed.until) {
            return Promise.reject(failed.error);
        }
        return this.exchangeShared();
    }

    /** Forgets `token` if it is the cached one (FCM answered 401 to it). */
    invalidate(token: string): void {
        if (this.cached?.token === token) {
            this.cached = undefined;
        }
    }

    /** The signed assertion: RS256 JWT with iss/scope/aud/iat/exp (one hour, Google's maximum). */
    assertion(): string {
        const iat = Math.floor(this.now() / 1000);
        const header = { alg: 'RS256', typ: 'JWT', ...(this.sa.private_key_id ? { kid: this.sa.private_key_id } : {}) };
        const claims = { iss: this.sa.client_email, scope: FCM_SCOPE, aud: this.tokenUri, iat, exp: iat + 3600 };
        const unsigned = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
        const signature = createSign('RSA-SHA256').update(unsigned).sign(this.sa.private_key);
        return `${unsigned}.${signature.toString('base64url')}`;
    }

    private exchangeShared(): Promise<string> {
        this.inflight ??= this.exchange().then((token) => {
            this.failed = undefined;
            return token;
        }, (e: unknown) => {
            const error = e instanceof TokenExchangeError ? e : new TokenExchangeError(errorMessage(e), 'unavailable');
            this.failed = { error, until: this.now() + FAILURE_HOLD_MS };
            throw error;
        }).finally(() => {
            this.inflight = undefined;
        });
        return this.inflight;
    }

    private async exchange(): Promise<string> {
        const body = new URLSearchParams({ grant_type: GRANT_TYPE, assertion: this.assertion() }).toString();
        let status: number;
        let text: string;
        try {
            ({ status, body: text } = await requestWithDeadline({
                target: requestTarget(new URL(this.tokenUri)),
                method: 'POST',
                agent: this.agent,
                deadlineMs: this.options.deadlineMs,
                cancelled: this.options.cancelled,
                keepSuccessBody: true,
                headers: {
                    'content-type': 'application/x-www-form-urlencoded',
                    'content-length': Buffer.byteLength(body),
                    'user-agent': this.userAgent
                },
                body
            }));
        } catch (e) {
            const why = e instanceof RequestDeadlineError ? `timed out after ${e.deadlineMs} ms` : `failed: ${errorMessage(e)}`;
            throw new TokenExchangeError(`OAuth token exchange ${why}`, 'unavailable');
        }
        if (status !== 200) {
            const refused = status >= 400 && status < 500 && status !== 408 && status !== 429;
            // The body is an OAuth error object {error, error_description}; it holds no secret.
            throw new TokenExchangeError(`OAuth token exchange answered ${status}: ${oauthError(text)}`, refused ? 'rejected' : 'unavailable');
        }
        let parsed: { access_token?: unknown; expires_in?: unknown };
        try {
            parsed = JSON.parse(text) as typeof parsed;
        } catch {
            throw new TokenExchangeError('OAuth token exchange answered 200 without JSON', 'unavailable');
        }
        if (typeof parsed.access_token !== 'string' || !parsed.access_token || typeof parsed.expires_in !== 'number') {
            throw new TokenExchangeError('OAuth token exchange answered without access_token/expires_in', 'unavailable');
        }
        const now = this.now();
        const lifetime = Math.max(0, parsed.expires_in * 1000);
        const expiresAt = now + lifetime;
        this.cached = {
            token: parsed.access_token,
            refreshAt: expiresAt - Math.min(REFRESH_MARGIN_MS, lifetime / 2),
            staleAt: expiresAt - Math.min(HARD_MARGIN_MS, lifetime / 4)
        };
        return parsed.access_token;
    }
}

function oauthError(text: string): string {
    try {
        const o = JSON.parse(text) as { error?: unknown; error_description?: unknown };
        const s = [o.error, o.error_description].filter((x) => typeof x === 'string').join(': ');
        if (s) {
            return s.slice(0, 200);
        }
    } catch {
        // not JSON: a proxy's page, say
    }
    return text.slice(0, 100).replace(/\s+/g, ' ');
}

function b64url(s: string): string {
    return Buffer.from(s).toString('base64url');
}
