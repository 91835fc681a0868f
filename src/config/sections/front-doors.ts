/**
 * Config of the front doors besides Echo's (which uses the original keys): the Matrix push
 * gateway API and the MongoosePush v3 API, both off unless configured, and the dead-token
 * memory they share. Their provider references are checked against the registry when the
 * service is wired (service.ts), with errors naming the key.
 */
export interface MatrixConfig {
    /** Sygnal's `apps:` block, unchanged (parsed by front-doors/matrix/apps-config.ts). */
    readonly apps: Readonly<Record<string, unknown>>;
    /** Answer a notify within this many ms, even while a provider is being retried. */
    readonly answerWithinMs: number;
    /** A (pushkey, event_id) seen within this many ms is not sent again. */
    readonly dedupeWindowMs: number;
    /** Most (pushkey, event_id) pairs remembered. */
    readonly dedupeMaxEntries: number;
}

export interface MongoosePushRouteConfig {
    readonly provider: string;
    /** Default `apns-topic` for this route's APNs instance. */
    readonly topic?: string;
}

export interface MongoosePushConfigSection {
    readonly apns?: { readonly prod?: string | MongoosePushRouteConfig; readonly dev?: string | MongoosePushRouteConfig };
    readonly fcm?: string | MongoosePushRouteConfig;
    /** Answer within this many ms (MongooseIM's HTTP pool waits 2000 ms by default). */
    readonly answerWithinMs: number;
}

export interface DeadTokenMemoryConfig {
    /** How long a dead token is remembered, ms. */
    readonly ttlMs: number;
    readonly maxEntries: number;
}

export const MONGOOSEPUSH_TOPIC_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$';

const providerIdSchema = { type: 'string', minLength: 1, maxLength: 64 } as const;
const mongoosepushRoute = (withTopic: boolean) => ({
    anyOf: [
        providerIdSchema,
        {
            type: 'object',
            additionalProperties: false,
            required: ['provider'],
            properties: {
                provider: providerIdSchema,
                ...(withTopic ? { topic: { type: 'string', pattern: MONGOOSEPUSH_TOPIC_PATTERN } } : {})
            }
        }
    ]
});

export const frontDoorsSchema = {
    matrix: {
        type: 'object',
        additionalProperties: false,
        required: ['apps'],
        properties: {
            apps: { type: 'object' },
            answerWithinMs: { type: 'integer', minimum: 100, maximum: 55000, default: 5000 },
            dedupeWindowMs: { type: 'integer', minimum: 1000, default: 600000 },
            dedupeMaxEntries: { type: 'integer', minimum: 1, default: 100000 }
        }
    },
    mongoosepush: {
        type: 'object',
        additionalProperties: false,
        properties: {
            apns: {
                type: 'object',
                additionalProperties: false,
                properties: { prod: mongoosepushRoute(true), dev: mongoosepushRoute(true) }
            },
            fcm: mongoosepushRoute(false),
            answerWithinMs: { type: 'integer', minimum: 100, maximum: 60000, default: 1500 }
        }
    },
    deadTokenMemory: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: {
            ttlMs: { type: 'integer', minimum: 1000, default: 86400000 },
            maxEntries: { type: 'integer', minimum: 1, default: 100000 }
        }
    }
} as const;
