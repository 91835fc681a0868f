/** Running the service: shutdown, inbound limits and inbound authentication. */
export interface RateLimiterConfig {
    readonly windowMs: number;
    readonly max: number;
}

export interface OperationsConfig {
    /** Seconds a SIGTERM drain may take before the process exits anyway (under k8s' 30 s grace). */
    readonly shutdown_timeout: number;
    /** Inbound rate limit per client (original key); absent means off. */
    readonly express_rate_limiter?: RateLimiterConfig;
}

export const operationsSchema = {
    shutdown_timeout: { type: 'number', exclusiveMinimum: 0, maximum: 3600, default: 25 },
    express_rate_limiter: {
        type: 'object',
        additionalProperties: false,
        required: ['windowMs', 'max'],
        properties: {
            windowMs: { type: 'integer', minimum: 1 },
            max: { type: 'integer', minimum: 1 }
        }
    }
} as const;
