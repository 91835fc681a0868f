import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../../config/config-error';
import { ApnsConfig } from '../../config/sections/providers';
import { PROJECT_ROOT } from '../../config/service-config';
import { EgressPolicy } from '../../egress/agents';
import { Logger } from '../../logging/logger';
import { ApnsProvider } from './apns-provider';

/**
 * The APNs provider kind: its config schema, its factory and its token syntax.
 *
 *     const p = createApnsProvider('apns', config.apns, { logger, egress: config, userAgent: config.user_agent });
 *     await p.send({ provider: 'apns', message, dryRun: false, tokens }, (results) => ...);
 */
export { apnsSchema } from '../../config/sections/providers';
export type { ApnsConfig } from '../../config/sections/providers';
export { apnsTokenSyntax } from './apns-token';
export { ApnsProvider } from './apns-provider';

export interface ApnsProviderDeps {
    /** The instance's logger (the provider adds `provider: <id>` to its lines). */
    readonly logger: Logger;
    /** The service's egress proxy and no_proxy_list. */
    readonly egress: EgressPolicy;
    /** Sent as User-Agent on the proxy's CONNECT request. */
    readonly userAgent?: string;
    /**
     * Where the instance's settings sit in the config, for ConfigError keys; default 'apns'
     * for id 'apns' (the legacy block), else `providers.<id>`.
     */
    readonly configKey?: string;
}

/** True when the settings name credentials (token auth or a certificate). */
export function apnsHasCredentials(config: ApnsConfig): boolean {
    return config.token !== undefined || config.cert !== undefined;
}

/**
 * Builds one APNs provider instance from its validated settings: reads the .p8 key
 * (`token.key`), the PKCS#12 certificate (`cert`) and the CA bundle (`ca`), each path
 * relative to the project root, and opens nothing yet (the first send connects).
 * `mock: true` is the registry's business (no network at all), not this factory's.
 *
 * @param id the provider instance id ('apns', or a name under `providers:`)
 * @throws ConfigError naming the key: no credentials, or a file that cannot be read
 */
export function createApnsProvider(id: string, config: ApnsConfig, deps: ApnsProviderDeps): ApnsProvider {
    const key = deps.configKey ?? (id === 'apns' ? 'apns' : `providers.${id}`);
    if (!apnsHasCredentials(config)) {
        throw new ConfigError(key, 'needs token (key, keyId, teamId) or cert');
    }
    return new ApnsProvider({
        id,
        token: config.token ? { key: readConfigFile(`${key}.token.key`, config.token.key), keyId: config.token.keyId, teamId: config.token.teamId } : undefined,
        pfx: config.cert ? readConfigFile(`${key}.cert`, config.cert) : undefined,
        passphrase: config.passphrase,
        production: config.production,
        topic: config.topic,
        address: config.address,
        port: config.port,
        ca: config.ca ? readConfigFile(`${key}.ca`, config.ca) : undefined,
        clientCount: config.clientCount,
        requestTimeoutMs: config.requestTimeoutMs,
        connectTimeoutMs: config.connectTimeoutMs,
        connectionRetryLimit: config.connectionRetryLimit,
        shutdownTimeoutMs: config.shutdownTimeoutMs,
        egress: deps.egress,
        userAgent: deps.userAgent,
        logger: deps.logger
    });
}

function readConfigFile(key: string, file: string): Buffer {
    try {
        return readFileSync(path.resolve(PROJECT_ROOT, file));
    } catch (e) {
        throw new ConfigError(key, `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
}
