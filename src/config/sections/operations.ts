import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../config-error';

/** Running the service: shutdown, inbound limits and inbound authentication. */
export interface RateLimiterConfig {
    readonly windowMs: number;
    readonly max: number;
}

/**
 * Inbound authentication of /v1/*, after resolution: the accepted shared secrets (several
 * during a rotation). An empty list means authentication is off (the dev default).
 */
export interface InboundAuthConfig {
    readonly secrets: readonly string[];
}

export interface OperationsConfig {
    /** Seconds a SIGTERM drain may take before the process exits anyway (under k8s' 30 s grace). */
    readonly shutdown_timeout: number;
    /** Inbound rate limit per client (original key); absent means off. */
    readonly express_rate_limiter?: RateLimiterConfig;
    readonly inbound_auth: InboundAuthConfig;
}

/** Comma-separated shared secrets, read when the config has no inbound_auth.secrets_file. */
export const INBOUND_SECRETS_ENV = 'PUSH_NOTIFICATIONS_SHARED_SECRETS';

/** Shorter secrets are refused at start-up: a guessable secret is worse than none, as it looks safe. */
export const MIN_SECRET_LENGTH = 16;

export const operationsSchema = {
    shutdown_timeout: { type: 'number', exclusiveMinimum: 0, maximum: 3600, default: 25 },
    express_rate_limiter: {
        type: 'object',
        additionalProperties: false,
        required: ['windowMs', 'max'],
        properties: {
            // The upper bound is setTimeout's: the limiter's window timer cannot be longer.
            windowMs: { type: 'integer', minimum: 1, maximum: 2147483647 },
            max: { type: 'integer', minimum: 1 }
        }
    },
    // Secrets are never written inline here: only where to read them from.
    inbound_auth: {
        type: 'object',
        additionalProperties: false,
        properties: {
            /** A file with one secret per line (blank lines and '#' comments ignored). */
            secrets_file: { type: 'string', minLength: 1 },
            /** Refuse to start without at least one secret (set it in production). */
            required: { type: 'boolean', default: false }
        },
        default: {}
    }
} as const;

/**
 * Resolves `inbound_auth` (as validated by operationsSchema) into the secret list:
 * from `secrets_file` if set, otherwise from PUSH_NOTIFICATIONS_SHARED_SECRETS.
 *
 * @throws ConfigError if the file cannot be read, a secret is too short, or none is found
 *   while `required` is set. Messages name the key, never a secret.
 */
export function resolveInboundAuth(raw: { secrets_file?: string; required?: boolean } | undefined,
    env: NodeJS.ProcessEnv, baseDir: string): InboundAuthConfig {
    let secrets: string[];
    let source: string;
    if (raw?.secrets_file !== undefined) {
        source = 'inbound_auth.secrets_file';
        let text: string;
        try {
            text = readFileSync(path.resolve(baseDir, raw.secrets_file), 'utf8');
        } catch (e) {
            throw new ConfigError(source, `cannot read ${raw.secrets_file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
        }
        secrets = text.split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
    } else {
        source = INBOUND_SECRETS_ENV;
        secrets = (env[INBOUND_SECRETS_ENV] ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
    }
    if (secrets.some((s) => s.length < MIN_SECRET_LENGTH)) {
        throw new ConfigError(source, `every shared secret must be at least ${MIN_SECRET_LENGTH} characters`);
    }
    if (secrets.length === 0 && raw?.required) {
        throw new ConfigError('inbound_auth.required', `set, but no shared secret found in ${source}`);
    }
    return { secrets };
}
