import { createSign } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import type { Credential, GoogleOAuthAccessToken } from 'firebase-admin/app';

/** The fields of a Google service-account JSON file this credential needs. */
export interface ServiceAccount {
    readonly project_id?: string;
    readonly client_email: string;
    readonly private_key: string;
    readonly private_key_id?: string;
    readonly token_uri?: string;
}

export const DEFAULT_TOKEN_URI = 'https://oauth2.googleapis.com/token';
const SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
const GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** Refresh this long before the token expires (firebase-admin itself refreshes 5 min early). */
const EXPIRY_MARGIN_MS = 6 * 60 * 1000;

/** Why the last token exchange failed: 'rejected' (4xx: a config problem) or 'unavailable'. */
export type TokenFailure = 'rejected' | 'unavailable';

export class TokenExchangeError extends Error {
    constructor(message: string, readonly failure: TokenFailure) {
        super(message);
        this.name = 'TokenExchangeError';
    }
}

/**
 * A firebase-admin Credential doing the OAuth 2.0 JWT-bearer exchange (RFC 7523) itself, over
 * our agent. `credential.cert(sa, agent)` would do the exchange through gaxios, which ignores
 * the agent and so bypasses the egress proxy. The token is cached until shortly before it
 * expires; concurrent callers share one exchange.
 */
export class JwtBearerCredential implements Credential {
    private cached?: { token: GoogleOAuthAccessToken; expiresAt: number };
    private inflight?: Promise<GoogleOAuthAccessToken>;
    /** The last failure, so the provider can tell a refused key from an outage. */
    lastFailure?: TokenFailure;

    constructor(private readonly sa: ServiceAccount, private readonly tokenUri: string,
        private readonly agent: http.Agent, private readonly userAgent: string,
        private readonly now: () => number = Date.now) {}

    async getAccessToken(): Promise<GoogleOAuthAccessToken> {
        const c = this.cached;
        if (c && c.expiresAt - EXPIRY_MARGIN_MS > this.now()) {
            return { access_token: c.token.access_token, expires_in: Math.floor((c.expiresAt - this.now()) / 1000) };
        }
        this.inflight ??= this.exchange().finally(() => {
            this.inflight = undefined;
        });
        return this.inflight;
    }

    /** The signed assertion: RS256 JWT with iss/scope/aud/iat/exp (one hour, Google's maximum). */
    assertion(): string {
        const iat = Math.floor(this.now() / 1000);
        const header = { alg: 'RS256', typ: 'JWT', ...(this.sa.private_key_id ? { kid: this.sa.private_key_id } : {}) };
        const claims = { iss: this.sa.client_email, scope: SCOPE, aud: this.tokenUri, iat, exp: iat + 3600 };
        const unsigned = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
        const signature = createSign('RSA-SHA256').update(unsigned).sign(this.sa.private_key);
        return `${unsigned}.${signature.toString('base64url')}`;
    }

    private async exchange(): Promise<GoogleOAuthAccessToken> {
        const body = new URLSearchParams({ grant_type: GRANT_TYPE, assertion: this.assertion() }).toString();
        let status: number;
        let text: string;
        try {
            ({ status, text } = await post(this.tokenUri, body, this.agent, this.userAgent));
        } catch (e) {
            this.lastFailure = 'unavailable';
            throw new TokenExchangeError(`OAuth token exchange failed: ${(e as Error).message}`, 'unavailable');
        }
        if (status !== 200) {
            // 4xx (invalid_grant, invalid_client...) means the key or account is wrong; 5xx is Google's.
            this.lastFailure = status >= 400 && status < 500 && status !== 429 ? 'rejected' : 'unavailable';
            // The body is an OAuth error object; it holds no secret, but keep it short.
            throw new TokenExchangeError(`OAuth token exchange answered ${status}: ${text.slice(0, 200)}`, this.lastFailure);
        }
        let parsed: { access_token?: unknown; expires_in?: unknown };
        try {
            parsed = JSON.parse(text) as typeof parsed;
        } catch {
            this.lastFailure = 'unavailable';
            throw new TokenExchangeError('OAuth token exchange answered non-JSON', 'unavailable');
        }
        if (typeof parsed.access_token !== 'string' || typeof parsed.expires_in !== 'number') {
            this.lastFailure = 'unavailable';
            throw new TokenExchangeError('OAuth token exchange answered without access_token/expires_in', 'unavailable');
        }
        this.lastFailure = undefined;
        const token = { access_token: parsed.access_token, expires_in: parsed.expires_in };
        this.cached = { token, expiresAt: this.now() + parsed.expires_in * 1000 };
        return token;
    }
}

function b64url(s: string): string {
    return Buffer.from(s).toString('base64url');
}

function post(url: string, body: string, agent: http.Agent, userAgent: string): Promise<{ status: number; text: string }> {
    const u = new URL(url);
    const mod = u.protocol === 'http:' ? http : https;
    return new Promise((resolve, reject) => {
        const req = mod.request(u, {
            method: 'POST',
            // Our agent speaks TLS; a plain-http token URI (a local fake) goes without it.
            agent: u.protocol === 'https:' ? agent : undefined,
            timeout: 10_000,
            headers: {
                'content-type': 'application/x-www-form-urlencoded',
                'content-length': Buffer.byteLength(body),
                'user-agent': userAgent
            }
        }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
            res.on('error', reject);
        });
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', reject);
        req.end(body);
    });
}
