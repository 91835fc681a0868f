import Ajv from 'ajv';
import { PROVIDER_KINDS, ProviderKind } from '../../push/provider';
import { ConfigError } from '../config-error';
import { DeletionGuardConfig, DeliveryConfig, RetryConfig, deliverySchema } from './delivery';
import { ApnsConfig, apnsSchema, FcmConfig, fcmSchema } from './providers';
import { WebPushConfig, webpushSchema } from './webpush';

/**
 * The provider registry's config: which provider instances exist, of which kind, with which
 * credentials and limits.
 *
 *     apns: {...}        # legacy block: defines provider id "apns"
 *     fcm: {...}         # legacy block: defines provider id "fcm"
 *     webpush: {...}     # defines provider id "webpush"
 *     providers:         # more instances: the keys of the legacy block of that kind, plus `kind`
 *       apns-sandbox: {kind: apns, production: false, token: {...}, topic: org.example.app}
 *       fcm-other:    {kind: fcm, service_account: /path/sa.json, concurrency: 8}
 *
 * `delivery.concurrency.<kind>`, `delivery.rateLimitPerSecond.<kind>`, `delivery.retry` and
 * `delivery.deletionGuard` are the defaults of every instance; an instance may override them
 * with its own `concurrency`, `rateLimitPerSecond`, `retry: {...}` and `deletionGuard: {...}`
 * (partial: the keys it names win).
 */
export interface KindSettings {
    apns: ApnsConfig;
    fcm: FcmConfig;
    webpush: WebPushConfig;
}

/** One provider instance, resolved: everything the registry needs to build and limit it. */
export interface ProviderInstanceConfig<K extends ProviderKind = ProviderKind> {
    readonly id: string;
    readonly kind: K;
    /** Where it was defined, for messages: 'apns' (legacy block) or 'providers.<id>'. */
    readonly key: string;
    readonly settings: KindSettings[K];
    /** Provider calls in flight at once. */
    readonly concurrency: number;
    /** Outbound tokens per second; 0 = unlimited. */
    readonly rateLimitPerSecond: number;
    readonly retry: RetryConfig;
    readonly deletionGuard: DeletionGuardConfig;
}

/** Provider ids: metric label values and config keys, so a small safe alphabet. */
const ID_PATTERN = '^[a-z][a-z0-9_-]{0,63}$';

/** The JSON schema of each kind's settings (the legacy block and a `providers.<id>` entry alike). */
const KIND_SCHEMAS: Readonly<Record<ProviderKind, { readonly properties: Record<string, unknown> } | undefined>> = {
    apns: apnsSchema,
    fcm: fcmSchema,
    webpush: webpushSchema
};

/** The kinds this build can create. */
export function availableKinds(): ProviderKind[] {
    return PROVIDER_KINDS.filter((k) => KIND_SCHEMAS[k] !== undefined);
}

/** Top-level `providers:` schema: only the outline; each entry is checked against its kind below. */
export const providersSchema = {
    type: 'object',
    default: {},
    propertyNames: { pattern: ID_PATTERN },
    additionalProperties: {
        type: 'object',
        required: ['kind'],
        properties: { kind: { enum: [...PROVIDER_KINDS] } }
    }
} as const;

const retryProps = deliverySchema.properties.retry.properties;
const guardProps = deliverySchema.properties.deletionGuard.properties;
/** Per-instance overrides: the same keys as delivery.*, without defaults (absent = inherit). */
const overrideProperties = {
    kind: { enum: [...PROVIDER_KINDS] },
    concurrency: { type: 'integer', minimum: 1 },
    rateLimitPerSecond: { type: 'integer', minimum: 0 },
    retry: { type: 'object', additionalProperties: false, properties: withoutDefaults(retryProps) },
    deletionGuard: { type: 'object', additionalProperties: false, properties: withoutDefaults(guardProps) }
};

function withoutDefaults(props: Record<string, object>): Record<string, object> {
    return Object.fromEntries(Object.entries(props).map(([k, v]) => {
        const { default: _ignored, ...rest } = v as { default?: unknown };
        return [k, rest];
    }));
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, allowUnionTypes: true });
const entryValidators = new Map<ProviderKind, ReturnType<typeof ajv.compile>>();

function entryValidator(kind: ProviderKind): ReturnType<typeof ajv.compile> | undefined {
    const schema = KIND_SCHEMAS[kind];
    if (!schema) {
        return undefined;
    }
    let v = entryValidators.get(kind);
    if (!v) {
        v = ajv.compile({
            type: 'object', additionalProperties: false, required: ['kind'],
            properties: { ...schema.properties, ...overrideProperties }
        });
        entryValidators.set(kind, v);
    }
    return v;
}

interface RawRegistryConfig {
    readonly apns: ApnsConfig;
    readonly fcm: FcmConfig;
    readonly webpush: WebPushConfig;
    readonly providers: Readonly<Record<string, Record<string, unknown>>>;
    readonly delivery: DeliveryConfig;
}

/**
 * Resolves every provider instance: the legacy blocks first (ids 'apns', 'fcm', 'webpush'), then
 * `providers:`. `presentKeys` are the top-level keys the operator actually wrote (before
 * defaults), so `providers.apns` may stand in for an absent legacy block but not collide with
 * a present one.
 *
 * @throws ConfigError naming the key: an id defined twice, an unknown kind, a bad setting
 */
export function resolveProviderInstances(c: RawRegistryConfig, presentKeys: ReadonlySet<string>,
    toError: (errors: NonNullable<ReturnType<typeof ajv.compile>['errors']>, prefix: string) => ConfigError): ProviderInstanceConfig[] {
    const out = new Map<string, ProviderInstanceConfig>();
    const legacy: [string, ProviderKind, unknown][] = [['apns', 'apns', c.apns], ['fcm', 'fcm', c.fcm], ['webpush', 'webpush', c.webpush]];
    for (const [id, kind, settings] of legacy) {
        if (presentKeys.has(id) || !(id in c.providers)) {
            out.set(id, instance(id, kind, id, settings as Record<string, unknown>, {}, c.delivery));
        }
    }
    for (const [id, raw] of Object.entries(c.providers)) {
        const key = `providers.${id}`;
        if (out.has(id)) {
            throw new ConfigError(key, `provider id "${id}" is defined twice (also by the top-level ${id} block)`);
        }
        out.set(id, resolveEntry(id, key, raw, c.delivery, toError));
    }
    return [...out.values()];
}

/**
 * One instance from a `providers:`-shaped entry (`kind` plus the kind's settings and the
 * override keys): validated against its kind's schema (defaults filled in), the delivery
 * defaults applied. Also used for instances other config sections define (Matrix `type:` apps).
 *
 * @throws ConfigError naming the key under `key`
 */
export function resolveEntry(id: string, key: string, raw: Readonly<Record<string, unknown>>, delivery: DeliveryConfig,
    toError: (errors: NonNullable<ReturnType<typeof ajv.compile>['errors']>, prefix: string) => ConfigError): ProviderInstanceConfig {
    const kind = raw.kind as ProviderKind;
    const validate = entryValidator(kind);
    if (!validate) {
        throw new ConfigError(`${key}.kind`, `kind ${String(kind)} is not available (available: ${availableKinds().join(', ')})`);
    }
    const entry = structuredClone(raw) as Record<string, unknown>;
    if (!validate(entry)) {
        throw toError(validate.errors ?? [], key);
    }
    const { kind: _kind, concurrency, rateLimitPerSecond, retry, deletionGuard, ...settings } = entry;
    return instance(id, kind, key, settings, { concurrency, rateLimitPerSecond, retry, deletionGuard }, delivery);
}

function instance(id: string, kind: ProviderKind, key: string, settings: Record<string, unknown>,
    o: { concurrency?: unknown; rateLimitPerSecond?: unknown; retry?: unknown; deletionGuard?: unknown },
    delivery: DeliveryConfig): ProviderInstanceConfig {
    const retry = { ...delivery.retry, ...(o.retry as Partial<RetryConfig> | undefined) };
    if (retry.maxDelayMs < retry.baseDelayMs) {
        throw new ConfigError(`${key}.retry.maxDelayMs`, 'must be >= retry.baseDelayMs');
    }
    return {
        id, kind, key,
        settings: settings as unknown as KindSettings[typeof kind],
        concurrency: (o.concurrency as number | undefined) ?? delivery.concurrency[kind],
        rateLimitPerSecond: (o.rateLimitPerSecond as number | undefined) ?? delivery.rateLimitPerSecond[kind],
        retry,
        deletionGuard: { ...delivery.deletionGuard, ...(o.deletionGuard as Partial<DeletionGuardConfig> | undefined) }
    };
}
