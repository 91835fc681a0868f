import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as yaml from 'js-yaml';
import { ProviderInstanceConfig } from '../config/sections/provider-registry';
import { loadServiceConfig, ServiceConfig } from '../config/service-config';
import { resolveFrontDoorWiring } from '../service';

/** A problem with the command line or the file itself (not with a config key): exit code 2. */
export class UsageError extends Error {
    constructor(message: string) {
        super(message);
        this.name = 'UsageError';
    }
}

/** A service-runner config file read the way the service reads it. */
export interface LoadedConfig {
    /** The file, as an absolute path. */
    readonly file: string;
    /** `services[0].conf` as written (after `{env(NAME)}` substitution), before defaults. */
    readonly raw: Readonly<Record<string, unknown>>;
    readonly config: ServiceConfig;
    /**
     * Every provider instance the service would build: the legacy blocks, `providers:`, and
     * the instances Matrix `type:` apps define (`matrix/<app>`).
     */
    readonly instances: readonly ProviderInstanceConfig[];
    /** What the service would log as warn/config at start. */
    readonly warnings: readonly string[];
}

/**
 * `{env(NAME)}` / `{env(NAME, default)}` in the YAML source, replaced before parsing, as
 * service-runner does (lib/base_service.js `_replaceEnvVars`): unset without a default is ''.
 */
const ENV_PATTERN = /{\s*env\(([^,\s)]+),?\s*([^)]+)?\)\s*}/g;

export function replaceEnvVars(source: string, env: NodeJS.ProcessEnv): string {
    return source.replace(ENV_PATTERN, (_match, name: string, fallback: string | undefined) => env[name] ?? fallback ?? '');
}

/**
 * Reads a service-runner YAML file and validates its `services[0].conf` block with the
 * service's own loadServiceConfig, then resolves the front doors' provider instances with
 * the service's own resolveFrontDoorWiring. Relative paths inside the config resolve
 * against the project root, as in the service.
 *
 * @throws UsageError when the file cannot be read or has no `services[0].conf`
 * @throws ConfigError naming the key, as the service would refuse to start with it
 */
export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
    const absolute = path.resolve(file);
    let source: string;
    try {
        source = readFileSync(absolute, 'utf8');
    } catch (e) {
        throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    let doc: unknown;
    try {
        doc = yaml.load(replaceEnvVars(source, env));
    } catch (e) {
        throw new UsageError(`${file} is not YAML: ${(e as Error).message.split('\n')[0]}`);
    }
    const services = (doc as { services?: unknown } | null)?.services;
    const conf = Array.isArray(services) ? (services[0] as { conf?: unknown } | undefined)?.conf : undefined;
    if (!conf || typeof conf !== 'object' || Array.isArray(conf)) {
        throw new UsageError(`${file} has no services[0].conf block (a service-runner config, like config.prod.yaml)`);
    }
    const config = loadServiceConfig(conf, { env });
    const wiring = resolveFrontDoorWiring(config);
    return {
        file: absolute, raw: conf as Record<string, unknown>, config, instances: wiring.instances,
        warnings: [...config.warnings, ...wiring.warnings]
    };
}
