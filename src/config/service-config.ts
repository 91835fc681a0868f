import Ajv from 'ajv';
import bytes from 'bytes';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from './config-error';
import { EgressConfig, egressSchema } from './sections/egress';
import { HttpConfig, httpSchema } from './sections/http';
import { MediaWikiConfig, mediawikiSchema, MwApiRequestConfig, mwapiReqSchema } from './sections/mediawiki';
import { OperationsConfig, operationsSchema, resolveInboundAuth } from './sections/operations';
import { ApnsConfig, apnsSchema, FcmConfig, fcmSchema } from './sections/providers';
import { WebPushConfig, webpushSchema } from './sections/webpush';
import { DeadTokenMemoryConfig, frontDoorsSchema, MatrixConfig, MongoosePushConfigSection } from './sections/front-doors';
import { checkQueueing, QueueingConfig, queueingSchema } from './sections/queueing';
import { DeliveryConfig, deliverySchema } from './sections/delivery';
import { ProviderInstanceConfig, providersSchema, resolveProviderInstances } from './sections/provider-registry';

/**
 * The whole, validated, frozen service config: built once at start-up from the `conf`
 * block of the service-runner YAML, then passed explicitly to each part that needs it.
 * Nothing mutates it afterwards.
 */
export interface ServiceConfig extends HttpConfig, EgressConfig, OperationsConfig {
    readonly mwapi_req: MwApiRequestConfig;
    readonly mw_subscription_manager_username?: string;
    /** Resolved from the inline key, `mw_subscription_manager_password_file` or MW_SUBSCRIPTION_MANAGER_PASSWORD. */
    readonly mw_subscription_manager_password?: string;
    readonly mediawiki: MediaWikiConfig;
    readonly apns: ApnsConfig;
    readonly fcm: FcmConfig;
    /** Web Push (VAPID): provider id "webpush". */
    readonly webpush: WebPushConfig;
    readonly queueing: QueueingConfig;
    readonly delivery: DeliveryConfig;
    /** More provider instances, as written (see provider-registry.ts). */
    readonly providers: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
    /** Every provider instance (legacy blocks and `providers:`), resolved with its limits. */
    readonly providerInstances: readonly ProviderInstanceConfig[];
    /** The Matrix push gateway API (off unless set). */
    readonly matrix?: MatrixConfig;
    /** The MongoosePush v3 API (off unless set). */
    readonly mongoosepush?: MongoosePushConfigSection;
    readonly deadTokenMemory: DeadTokenMemoryConfig;
    /** Things that start but deserve a word: logged once at start-up. */
    readonly warnings: readonly string[];
    /** Injected by service-runner, not written by operators. */
    readonly worker_id: number;
    readonly num_workers: number;
}

/**
 * Keys of the original service's config (wikimedia/mediawiki-services-push-notifications
 * config*.yaml, and service-template's) that are accepted and have no effect here.
 */
const LEGACY_IGNORED_KEYS = ['restbase_req', 'debug', 'compression_level', 'enable_custom_cookie_jar'];

/** Keys service-runner copies into every service's conf. */
const RUNNER_KEYS = ['worker_id', 'logging', 'metrics', 'num_workers'];

const configSchema = {
    type: 'object',
    additionalProperties: false,
    properties: {
        ...httpSchema,
        ...egressSchema,
        ...operationsSchema,
        mwapi_req: mwapiReqSchema,
        mw_subscription_manager_username: { type: 'string', minLength: 1 },
        mw_subscription_manager_password: { type: 'string', minLength: 1 },
        mw_subscription_manager_password_file: { type: 'string', minLength: 1 },
        mediawiki: mediawikiSchema,
        apns: apnsSchema,
        fcm: fcmSchema,
        webpush: webpushSchema,
        providers: providersSchema,
        ...frontDoorsSchema,
        queueing: queueingSchema,
        delivery: deliverySchema,
        worker_id: { type: 'integer', default: 0 },
        num_workers: { anyOf: [{ type: 'integer' }, { type: 'string' }], default: 0 }
    }
};

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, allowUnionTypes: true });
const validateSchema = ajv.compile(configSchema);

export interface LoadOptions {
    /** Environment to read secrets from (default process.env). */
    env?: NodeJS.ProcessEnv;
    /** Directory relative paths in the config are resolved against (default: the project root). */
    baseDir?: string;
}

export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/**
 * Validates and normalises a `conf` block.
 *
 * @throws ConfigError naming the first offending key
 */
export function loadServiceConfig(conf: unknown, options: LoadOptions = {}): ServiceConfig {
    const env = options.env ?? process.env;
    const baseDir = options.baseDir ?? PROJECT_ROOT;
    if (!conf || typeof conf !== 'object' || Array.isArray(conf)) {
        throw new ConfigError('conf', 'must be a mapping');
    }
    // Work on a copy: ajv fills in defaults, and the caller's object stays as it was.
    const raw = structuredClone(conf) as Record<string, unknown>;
    const presentKeys = new Set(Object.keys(raw));
    for (const key of [...LEGACY_IGNORED_KEYS, ...RUNNER_KEYS]) {
        if (key !== 'worker_id' && key !== 'num_workers') {
            delete raw[key];
        }
    }
    if (!validateSchema(raw)) {
        throw toConfigError(validateSchema.errors ?? []);
    }
    const c = raw as Record<string, unknown> & { max_body_size: number | string; spec: string; num_workers: unknown; message_types: unknown; message_type_options: unknown };

    const maxBody = typeof c.max_body_size === 'number' ? c.max_body_size : bytes.parse(c.max_body_size);
    if (!maxBody || maxBody < 1) {
        throw new ConfigError('max_body_size', `cannot read ${JSON.stringify(c.max_body_size)} as a size`);
    }
    c.max_body_size = maxBody;
    c.spec = path.resolve(baseDir, c.spec);
    const types = c.message_types as (string | { name: string })[];
    c.message_type_options = Object.fromEntries(types.filter((t): t is { name: string } => typeof t !== 'string')
        .map(({ name, ...options }) => [name, options]));
    c.message_types = types.map((t) => (typeof t === 'string' ? t : t.name));
    if (new Set(c.message_types as string[]).size !== types.length) {
        throw new ConfigError('message_types', 'names a message type twice');
    }
    c.num_workers = typeof c.num_workers === 'number' ? c.num_workers : 1;

    c.mw_subscription_manager_password = resolveSecret(
        'mw_subscription_manager_password', c.mw_subscription_manager_password as string | undefined,
        c.mw_subscription_manager_password_file as string | undefined, env.MW_SUBSCRIPTION_MANAGER_PASSWORD,
        baseDir);
    delete c.mw_subscription_manager_password_file;
    c.inbound_auth = resolveInboundAuth(c.inbound_auth as Parameters<typeof resolveInboundAuth>[0], env, baseDir);

    const config = c as unknown as ServiceConfig & { providerInstances: unknown; warnings: string[] };
    c.warnings = checkQueueing(config.queueing);
    checkCrossKeys(config);
    c.providerInstances = resolveProviderInstances(config, presentKeys, toConfigError);
    return deepFreeze(config);
}

function checkCrossKeys(config: ServiceConfig): void {
    if (config.apns.token && config.apns.cert) {
        throw new ConfigError('apns', 'set either apns.token or apns.cert, not both');
    }
    if (config.delivery.retry.maxDelayMs < config.delivery.retry.baseDelayMs) {
        throw new ConfigError('delivery.retry.maxDelayMs', 'must be >= delivery.retry.baseDelayMs');
    }
    if (config.mediawiki.outbox.maxDelayMs < config.mediawiki.outbox.baseDelayMs) {
        throw new ConfigError('mediawiki.outbox.maxDelayMs', 'must be >= mediawiki.outbox.baseDelayMs');
    }
}

/**
 * A secret comes inline (for compatibility), from a file (Kubernetes Secret volumes), or
 * from the environment, in that order of precedence; a file that cannot be read is an error.
 */
function resolveSecret(key: string, inline: string | undefined, file: string | undefined,
    fromEnv: string | undefined, baseDir: string): string | undefined {
    if (inline !== undefined && file !== undefined) {
        throw new ConfigError(key, `set either ${key} or ${key}_file, not both`);
    }
    if (file !== undefined) {
        try {
            return readFileSync(path.resolve(baseDir, file), 'utf8').trim();
        } catch (e) {
            throw new ConfigError(`${key}_file`, `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
        }
    }
    return inline ?? (fromEnv ? fromEnv.trim() : undefined);
}

/** The first ajv error as a ConfigError naming the key (under `prefix`, for nested validations). */
export function toConfigError(errors: NonNullable<typeof validateSchema.errors>, prefix = ''): ConfigError {
    // Prefer the most specific error: anyOf reports its own summary after the branches.
    const e = errors.find((err) => err.keyword !== 'anyOf') ?? errors[0];
    const path = e.instancePath.slice(1).replace(/\//g, '.');
    const key = (prefix && path ? `${prefix}.${path}` : prefix || path) || 'conf';
    if (e.keyword === 'additionalProperties') {
        const extra = (e.params as { additionalProperty: string }).additionalProperty;
        return new ConfigError(key === 'conf' ? extra : `${key}.${extra}`, 'unknown key (misspelt?)');
    }
    if (e.keyword === 'enum') {
        return new ConfigError(key, `must be one of ${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)}`);
    }
    const alternatives = errors.filter((err) => err.instancePath === e.instancePath && err.keyword !== 'anyOf')
        .map((err) => err.message).filter((m, i, all) => all.indexOf(m) === i);
    return new ConfigError(key, alternatives.join(', or '));
}

function deepFreeze<T>(o: T): T {
    if (o && typeof o === 'object' && !Object.isFrozen(o)) {
        Object.freeze(o);
        for (const v of Object.values(o)) {
            deepFreeze(v);
        }
    }
    return o;
}
