import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../config/config-error';
import { KindSettings } from '../config/sections/provider-registry';
import { PROJECT_ROOT } from '../config/service-config';
import { EgressPolicy } from '../egress/agents';
import { Logger } from '../logging/logger';
import { ProviderId, ProviderKind, PushProvider } from '../push/provider';
import { TokenSyntax } from '../push/token-syntax';
import { KindCheck } from './provider-check';

/** What every kind's factory gets besides its own settings. */
export interface ProviderFactoryDeps {
    /** Already a child logger with `provider` and `kind` set. */
    readonly logger: Logger;
    readonly egress: EgressPolicy;
    readonly userAgent: string;
    /** For GOOGLE_APPLICATION_CREDENTIALS and the like (default process.env). */
    readonly env: NodeJS.ProcessEnv;
}

/**
 * One provider kind: how to build an instance from its settings, whether the settings are
 * enough to send at all, and its device-token syntax.
 */
export interface KindModule<K extends ProviderKind> {
    /** @throws ConfigError naming the key (under `key`) when a file cannot be read or is wrong */
    create(id: ProviderId, key: string, settings: KindSettings[K], deps: ProviderFactoryDeps): PushProvider;
    /** A hint for the operator when credentials are missing (the instance then answers config_error), else undefined. */
    missing(settings: KindSettings[K], env: NodeJS.ProcessEnv): string | undefined;
    readonly tokenSyntax: TokenSyntax;
    /** True when `create` implements `mock: true` itself (else the registry's MockProvider stands in). */
    readonly ownMock?: boolean;
    /**
     * `npm run check`: checks one configured instance's credentials against its push service
     * without sending anything a person would see (see provider-check.ts). Absent: the
     * command says the kind has no check.
     */
    readonly check?: KindCheck<K>;
}

/** Reads a file a config key names (relative to the project root), or throws a ConfigError naming the key. */
export function readConfigFile(key: string, file: string): Buffer {
    try {
        return readFileSync(path.resolve(PROJECT_ROOT, file));
    } catch (e) {
        throw new ConfigError(key, `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
}

