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
    /**
     * Message types a client may ask for; new app message types are added here, not in code.
     * Names after loading (an entry may be written `{name, priority, ttlSeconds, delivery}`;
     * its options are in `message_type_options`).
     */
    readonly message_types: readonly string[];
    /** Per-type delivery options, for the types that have any (see MessageTypeOptions). */
    readonly message_type_options: Readonly<Record<string, MessageTypeOptions>>;
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

/**
 * Delivery options of one Echo message type (phase-3 types: a visible alert, or a background
 * refresh). checkEchoV1 has none and keeps the original service's exact payloads.
 */
export interface MessageTypeOptions {
    /** 'high' (default for alerts) or 'normal' (APNs priority 5; FCM normal; Web Push Urgency normal). */
    readonly priority?: 'high' | 'normal';
    /** Seconds the push service may hold it for an offline device. */
    readonly ttlSeconds?: number;
    /** 'alert' (default: the app shows something) or 'background' (wake the app silently). */
    readonly delivery?: 'alert' | 'background';
}

const MESSAGE_TYPE_NAME = '^[A-Za-z][A-Za-z0-9_.-]{0,63}$';

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
        items: {
            anyOf: [
                { type: 'string', pattern: MESSAGE_TYPE_NAME },
                {
                    type: 'object', additionalProperties: false, required: ['name'],
                    properties: {
                        name: { type: 'string', pattern: MESSAGE_TYPE_NAME },
                        priority: { enum: ['high', 'normal'] },
                        ttlSeconds: { type: 'integer', minimum: 0, maximum: 2419200 },
                        delivery: { enum: ['alert', 'background'] }
                    }
                }
            ]
        },
        default: ['checkEchoV1']
    },
    max_device_tokens: { type: 'integer', minimum: 1, maximum: 10000, default: 500 },
    trust_proxy: { anyOf: [{ type: 'boolean' }, { type: 'integer', minimum: 0 }, { type: 'string', minLength: 1 }], default: false },
    log_header_whitelist: {
        type: 'array', items: { type: 'string' },
        default: ['cache-control', 'content-type', 'content-length', 'if-match', 'user-agent', 'x-request-id']
    }
} as const;
