/**
 * The MediaWiki action API that deletes dead subscriptions. `mwapi_req` and the
 * `mw_subscription_manager_*` keys are the original service's.
 */
export interface MwApiRequestConfig {
    /** The action API endpoint, e.g. https://meta.wikimedia.org/w/api.php. */
    readonly uri: string;
    /** Extra request headers ('{{user-agent}}' is replaced by `user_agent`). */
    readonly headers: Readonly<Record<string, string>>;
}

export interface OutboxConfig {
    /** Most tokens waiting for deletion; past it, new ones are counted and logged as dropped. */
    readonly maxTokens: number;
    readonly maxAttempts: number;
    readonly maxAgeMs: number;
    readonly baseDelayMs: number;
    readonly maxDelayMs: number;
    /** How long fresh tokens wait for company, so one call carries a full chunk, not one token. */
    readonly batchWaitMs: number;
    /** Delete calls in flight at once. 1 by default: the wiki is shared; do not hammer it. */
    readonly concurrency: number;
}

export interface MediaWikiConfig {
    /** Development only: answer the action API from an in-process mock. */
    readonly mock: boolean;
    /** 'login' (bot password, action=login) or 'clientlogin'. */
    readonly loginMethod: 'login' | 'clientlogin';
    /** Tokens per delete call: 50 without apihighlimits, up to 500 with it. */
    readonly deleteChunkSize: number;
    readonly requestTimeoutMs: number;
    /** maxlag sent with writes, so we back off when the wiki's replicas lag. */
    readonly maxlag?: number;
    readonly outbox: OutboxConfig;
}

export const mwapiReqSchema = {
    type: 'object',
    additionalProperties: true, // the original's template keys (method, body) are accepted and unused
    default: {},
    properties: {
        uri: { type: 'string', pattern: '^https?://', default: 'https://meta.wikimedia.org/w/api.php' },
        headers: { type: 'object', additionalProperties: { type: 'string' }, default: {} }
    }
} as const;

export const mediawikiSchema = {
    type: 'object',
    additionalProperties: false,
    default: {},
    properties: {
        mock: { type: 'boolean', default: false },
        loginMethod: { enum: ['login', 'clientlogin'], default: 'login' },
        deleteChunkSize: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
        requestTimeoutMs: { type: 'integer', minimum: 100, default: 10000 },
        maxlag: { type: 'integer', minimum: 0 },
        outbox: {
            type: 'object',
            additionalProperties: false,
            default: {},
            properties: {
                maxTokens: { type: 'integer', minimum: 1, default: 100000 },
                maxAttempts: { type: 'integer', minimum: 1, default: 12 },
                maxAgeMs: { type: 'integer', minimum: 1000, default: 86400000 },
                baseDelayMs: { type: 'integer', minimum: 1, default: 1000 },
                maxDelayMs: { type: 'integer', minimum: 1, default: 600000 },
                batchWaitMs: { type: 'integer', minimum: 0, default: 1000 },
                concurrency: { type: 'integer', minimum: 1, maximum: 4, default: 1 }
            }
        }
    }
} as const;
