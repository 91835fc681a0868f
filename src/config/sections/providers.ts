/**
 * Provider credentials and endpoints. Secrets are file paths (or environment variables),
 * never inline values, so a config file can be shown to anyone.
 */
export interface ApnsTokenAuth {
    /** Path of the .p8 signing key (PKCS#8 PEM). */
    readonly key: string;
    readonly keyId: string;
    readonly teamId: string;
}

export interface ApnsConfig {
    /** Development only: run against an in-process fake APNs server (original key). */
    readonly mock: boolean;
    /** true: api.push.apple.com; false: the sandbox. */
    readonly production: boolean;
    readonly token?: ApnsTokenAuth;
    /** Path of a PKCS#12 certificate, for certificate auth (original key). */
    readonly cert?: string;
    readonly passphrase?: string;
    /** Topic (bundle id) used when a request carries none. */
    readonly topic?: string;
    /** Topics that get a visible debug alert (original key). */
    readonly debug_topics: readonly string[];
    /** Endpoint override, for fakes and tests: host and port instead of Apple's. */
    readonly address?: string;
    readonly port?: number;
    /** Path of a CA bundle to trust for `address` (fakes use a self-signed one). */
    readonly ca?: string;
    /** HTTP/2 sessions kept open to APNs. */
    readonly clientCount: number;
    /** Milliseconds a single APNs request may take. */
    readonly requestTimeoutMs: number;
    /**
     * Milliseconds opening a connection to APNs may take, all steps together: TCP connect,
     * the proxy's CONNECT answer (when `proxy` is set) and the TLS handshake.
     */
    readonly connectTimeoutMs: number;
    /**
     * node-apn's own immediate retries of 408/429/5xx answers (no backoff). Default 0: the
     * delivery queue retries with backoff and Retry-After, so attempts are not multiplied.
     */
    readonly connectionRetryLimit: number;
    /** Bound on closing the APNs connection at shutdown (node-apn may never confirm). */
    readonly shutdownTimeoutMs: number;
}

export interface FcmConfig {
    /** Development only: answer FCM and Google OAuth calls from in-process mocks. */
    readonly mock: boolean;
    /** Path of the service-account JSON; else GOOGLE_APPLICATION_CREDENTIALS. */
    readonly service_account?: string;
    /** Firebase project id; else the one in the service account. */
    readonly project_id?: string;
    /**
     * Endpoint override, for fakes and tests: `https://host:port` that every FCM send
     * connects to instead of fcm.googleapis.com, directly, never through `proxy`. The request
     * still names fcm.googleapis.com (Host header, TLS server name), so the fake's certificate
     * must carry that name.
     */
    readonly fcm_endpoint?: string;
    /** OAuth token endpoint; else the service account's token_uri (reached through `proxy`). */
    readonly oauth_token_uri?: string;
    /** Path of a CA bundle to trust for FCM and OAuth (fakes use a throwaway CA). */
    readonly ca?: string;
    /**
     * Keep-alive sockets (through the proxy: CONNECT tunnels) to FCM per worker. FCM HTTP v1
     * takes one token per request, so this is also the most FCM requests in flight at once.
     */
    readonly max_sockets: number;
    /**
     * Milliseconds one outbound request may take in all: an FCM send (connect, proxy
     * CONNECT, TLS, the answer) or an OAuth token exchange. Past it the request is abandoned
     * and its token is 'transient' (reason 'timeout' / 'oauth-unavailable').
     */
    readonly requestTimeoutMs: number;
}

export const apnsSchema = {
    type: 'object',
    additionalProperties: false,
    default: {},
    properties: {
        mock: { type: 'boolean', default: false },
        production: { type: 'boolean', default: false },
        token: {
            type: 'object',
            additionalProperties: false,
            required: ['key', 'keyId', 'teamId'],
            properties: {
                key: { type: 'string', minLength: 1 },
                keyId: { type: 'string', minLength: 1 },
                teamId: { type: 'string', minLength: 1 }
            }
        },
        cert: { type: 'string', minLength: 1 },
        passphrase: { type: 'string' },
        topic: { type: 'string', minLength: 1 },
        debug_topics: { type: 'array', items: { type: 'string' }, default: [] },
        address: { type: 'string', minLength: 1 },
        port: { type: 'integer', minimum: 1, maximum: 65535 },
        ca: { type: 'string', minLength: 1 },
        clientCount: { type: 'integer', minimum: 1, maximum: 16, default: 1 },
        requestTimeoutMs: { type: 'integer', minimum: 100, default: 10000 },
        connectTimeoutMs: { type: 'integer', minimum: 100, default: 10000 },
        connectionRetryLimit: { type: 'integer', minimum: 0, maximum: 3, default: 0 },
        shutdownTimeoutMs: { type: 'integer', minimum: 0, default: 2000 }
    }
} as const;

export const fcmSchema = {
    type: 'object',
    additionalProperties: false,
    default: {},
    properties: {
        mock: { type: 'boolean', default: false },
        service_account: { type: 'string', minLength: 1 },
        project_id: { type: 'string', minLength: 1 },
        fcm_endpoint: { type: 'string', pattern: '^https://' },
        oauth_token_uri: { type: 'string', pattern: '^https?://' },
        ca: { type: 'string', minLength: 1 },
        max_sockets: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
        requestTimeoutMs: { type: 'integer', minimum: 100, maximum: 120000, default: 10000 }
    }
} as const;
