/**
 * Rewrites a service-runner config (config.dev.yaml) so that every part marked `mock: true`
 * talks to an in-process fake that speaks the real protocol, instead of to the service's
 * built-in MockProvider. That way the real clients (APNs over HTTP/2 with a provider JWT, FCM
 * HTTP v1 with its OAuth exchange, Web Push with VAPID and aes128gcm, the MediaWiki session
 * with login and CSRF) run end to end on a laptop, with throwaway keys and no network.
 *
 * Pure: takes the parsed YAML and the fakes' conf snippets, returns a new object.
 */

/** What the launcher knows about the running fakes (see test/fakes/provider-fakes.ts). */
export interface FakeEndpoints {
    readonly apns: Record<string, unknown>;
    readonly fcm: Record<string, unknown>;
    /** The fake Web Push service's conf (throwaway VAPID keys, its CA, its loopback endpoint). */
    readonly webpush: Record<string, unknown>;
    /** The fake wiki's action API URI. */
    readonly mediawikiUri: string;
}

export interface RunnerConfig {
    num_workers?: unknown;
    logging?: Record<string, unknown>;
    metrics?: unknown;
    services: Array<{ name: string; module: string; entrypoint?: string; conf: Record<string, unknown> }>;
    [key: string]: unknown;
}

export interface Overrides {
    readonly port?: number;
    readonly metricsPort?: number;
}

/** Which parts were switched from `mock: true` to a fake (for the start-up banner). */
export interface Rewritten {
    readonly config: RunnerConfig;
    readonly faked: { apns: boolean; fcm: boolean; webpush: boolean; mediawiki: boolean };
}

type Section = Record<string, unknown>;

const section = (conf: Section, key: string): Section =>
    (conf[key] && typeof conf[key] === 'object' ? conf[key] : {}) as Section;

export function pointAtFakes(input: RunnerConfig, fakes: FakeEndpoints, overrides: Overrides = {}): Rewritten {
    const config = structuredClone(input);
    // One process: the fakes live in it, and service-runner runs the service in it.
    config.num_workers = 0;
    if (overrides.metricsPort !== undefined && Array.isArray(config.metrics)) {
        config.metrics = (config.metrics as Section[]).map((m) => (m.type === 'prometheus' ? { ...m, port: overrides.metricsPort } : m));
    }
    const svc = config.services[0];
    if (!svc) {
        throw new Error('the config names no service');
    }
    const conf = svc.conf;
    if (overrides.port !== undefined) {
        conf.port = overrides.port;
    }
    const faked = { apns: false, fcm: false, webpush: false, mediawiki: false };

    const apns = section(conf, 'apns');
    if (apns.mock === true) {
        // Keep the developer's other keys (clientCount, timeouts); the fake supplies the
        // endpoint, its CA, the topic it accepts and the throwaway .p8.
        conf.apns = { ...apns, ...fakes.apns, mock: false };
        faked.apns = true;
    }
    const fcm = section(conf, 'fcm');
    if (fcm.mock === true) {
        conf.fcm = { ...fcm, ...fakes.fcm, mock: false };
        faked.fcm = true;
    }
    const webpush = section(conf, 'webpush');
    if (webpush.mock === true) {
        // The fake's VAPID key pair, CA and loopback endpoint (testOnlyLoopbackEndpoints: the
        // Web Push provider refuses loopback endpoints otherwise); the developer's ttl,
        // urgency and timeouts stay.
        conf.webpush = { ...webpush, ...fakes.webpush, mock: false };
        faked.webpush = true;
    }
    const mw = section(conf, 'mediawiki');
    if (mw.mock === true) {
        const req = section(conf, 'mwapi_req');
        conf.mwapi_req = { ...req, uri: fakes.mediawikiUri };
        conf.mediawiki = { ...mw, mock: false };
        faked.mediawiki = true;
    }
    return { config, faked };
}

/** The wiki account the fake must accept: the one the config logs in with. */
export function wikiAccount(config: RunnerConfig): { username: string; password: string } | undefined {
    const conf = config.services[0]?.conf ?? {};
    const username = conf.mw_subscription_manager_username;
    const password = conf.mw_subscription_manager_password;
    return typeof username === 'string' && typeof password === 'string' ? { username, password } : undefined;
}
