import { ConfigError } from '../../config/config-error';
import { ProviderId, ProviderKind } from '../../push/provider';
import { frontDoorsSchema, MongoosePushConfigSection } from '../../config/sections/front-doors';
import { V3Mode, V3Service } from './request';

/**
 * The `mongoosepush:` config section: which provider instances serve MongooseIM's
 * MongoosePush v3 requests. Absent: the front door is off (its routes are not served).
 *
 * ```yaml
 * mongoosepush:
 *   apns:
 *     prod: apns                                          # a provider id from the registry
 *     dev: {provider: apns-sandbox, topic: com.example.chat}   # with a default apns-topic
 *   fcm: fcm
 *   answerWithinMs: 1500
 * ```
 *
 * `mode` in a request picks the APNs instance (default prod), as MongoosePush's pools do.
 * FCM has no sandbox, so one FCM instance serves both modes. A route's `topic` is the
 * `apns-topic` for requests that carry none; without it the APNs instance's own `topic` is
 * used. MongoosePush's pool `tags` have no counterpart: a request naming tags matches no route
 * and is answered 400 no_matching_pool, as MongoosePush answers when no pool has those tags.
 */
export interface MongoosePushRoute {
    readonly provider: ProviderId;
    /** `apns-topic` for requests without `topic` (APNs routes only). */
    readonly topic?: string;
}

export interface MongoosePushConfig {
    readonly apns: { readonly prod?: MongoosePushRoute; readonly dev?: MongoosePushRoute };
    readonly fcm?: MongoosePushRoute;
    /**
     * Longest wait for the provider's first answer before answering 200 (accepted; we keep
     * retrying). Keep it under MongooseIM's HTTP pool `request_timeout` (default 2000 ms),
     * which gives up and never retries; raise both together.
     */
    readonly answerWithinMs: number;
}

type RouteInput = string | { readonly provider: string; readonly topic?: string };

export const DEFAULT_ANSWER_WITHIN_MS = 1500;

/** The `mongoosepush:` section's schema (it lives with the service config's other sections). */
export const mongoosepushSchema = frontDoorsSchema.mongoosepush;

/** The section as written in the config (after ajv validation and defaults). */
export type MongoosePushConfigInput = MongoosePushConfigSection;

/**
 * Normalises the section and checks it against the provider registry.
 *
 * @param input the validated section; undefined when the config has none (front door off)
 * @param kinds the registry: every provider id and its kind
 * @throws ConfigError naming the key, for an unknown id, an id of the wrong kind, or a
 *   section that routes nothing
 */
export function resolveMongoosePushConfig(input: MongoosePushConfigInput | undefined,
    kinds: ReadonlyMap<ProviderId, ProviderKind>): MongoosePushConfig | undefined {
    if (input === undefined) {
        return undefined;
    }
    const check = (key: string, raw: RouteInput | undefined, kind: ProviderKind): MongoosePushRoute | undefined => {
        if (raw === undefined) {
            return undefined;
        }
        const r = typeof raw === 'string' ? { provider: raw } : raw;
        const actual = kinds.get(r.provider);
        if (actual === undefined) {
            throw new ConfigError(key, `unknown provider id ${JSON.stringify(r.provider)} (known: ${[...kinds.keys()].join(', ') || 'none'})`);
        }
        if (actual !== kind) {
            throw new ConfigError(key, `provider ${JSON.stringify(r.provider)} is ${actual}, not ${kind}`);
        }
        return r.topic === undefined ? { provider: r.provider } : { provider: r.provider, topic: r.topic };
    };
    const config: MongoosePushConfig = {
        apns: {
            prod: check('mongoosepush.apns.prod', input.apns?.prod, 'apns'),
            dev: check('mongoosepush.apns.dev', input.apns?.dev, 'apns')
        },
        fcm: check('mongoosepush.fcm', input.fcm, 'fcm'),
        answerWithinMs: input.answerWithinMs
    };
    if (!config.apns.prod && !config.apns.dev && !config.fcm) {
        throw new ConfigError('mongoosepush', 'routes nothing: set apns.prod, apns.dev or fcm (or remove the section)');
    }
    return config;
}

export type RouteResolution =
    | { readonly ok: true; readonly route: MongoosePushRoute }
    /** MongoosePush's `{:generic, :no_matching_pool}`: answered 400 (answers.ts). */
    | { readonly ok: false; readonly reason: 'no_matching_pool' };

/** Which provider instance serves (service, mode, tags). */
export function resolveRoute(config: MongoosePushConfig, service: V3Service, mode: V3Mode,
    tags: readonly string[] = []): RouteResolution {
    const route = tags.length > 0 ? undefined : service === 'fcm' ? config.fcm : config.apns[mode];
    return route ? { ok: true, route } : { ok: false, reason: 'no_matching_pool' };
}
