/**
 * Config keys of the HTTP front end. The names (`port`, `interface`, `cors`, `csp`,
 * `max_body_size`, ...) are the original service's, so an existing config keeps working.
 */
export const DEFAULT_CSP = "default-src 'self'; object-src 'none'; media-src 'none'; img-src 'self' data:; " +
    "style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'self'; base-uri 'self'";

export interface HttpConfig {
    readonly port: number;
    readonly interface: string;
    /** Access-Control-Allow-Origin value, or false for no CORS headers at all (the default). */
    readonly cors: string | false;
    /** Content-Security-Policy value, or false to send no security headers. */
    readonly csp: string | false;
    /** Largest accepted request body, in bytes (the YAML may say '100kb'). */
    readonly max_body_size: number;
    /** Path of the OpenAPI document; relative paths are resolved against the project root. */
    readonly spec: string;
    /** Message types a client may ask for; new app message types are added here, not in code. */
    readonly message_types: readonly string[];
    /** Most device tokens one request may carry. */
    readonly max_device_tokens: number;
    /**
     * express's 'trust proxy': which X-Forwarded-For hops to believe for the client address
     * the inbound rate limit keys on. false (default) uses the socket address; behind a
     * sidecar or ingress, every request would otherwise share one bucket.
     */
    readonly trust_proxy: boolean | number | string;
    /** Request headers that may appear in request logs. */
    readonly log_header_whitelist: readonly string[];
}

export const httpSchema = {
    port: { type: 'integer', minimum: 0, maximum: 65535, default: 8900 },
    interface: { type: 'string', minLength: 1, default: '0.0.0.0' },
    cors: { anyOf: [{ type: 'string', minLength: 1 }, { const: false }], default: false },
    csp: { anyOf: [{ type: 'string', minLength: 1 }, { const: false }], default: DEFAULT_CSP },
    max_body_size: {
        anyOf: [
            { type: 'integer', minimum: 1 },
            { type: 'string', pattern: '^\\s*\\d+(\\.\\d+)?\\s*(b|kb|mb)?\\s*$' }
        ],
        default: '100kb'
    },
    spec: { type: 'string', minLength: 1, default: 'spec.yaml' },
    message_types: {
        type: 'array', minItems: 1, uniqueItems: true,
        items: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_.-]{0,63}$' },
        default: ['checkEchoV1']
    },
    max_device_tokens: { type: 'integer', minimum: 1, maximum: 10000, default: 500 },
    trust_proxy: { anyOf: [{ type: 'boolean' }, { type: 'integer', minimum: 0 }, { type: 'string', minLength: 1 }], default: false },
    log_header_whitelist: {
        type: 'array', items: { type: 'string' },
        default: ['cache-control', 'content-type', 'content-length', 'if-match', 'user-agent', 'x-request-id']
    }
} as const;
