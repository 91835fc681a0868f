import { ConfigError } from '../config/config-error';
import { KindSettings, ProviderInstanceConfig } from '../config/sections/provider-registry';
import { EgressPolicy } from '../egress/agents';
import { Logger } from '../logging/logger';
import { Batch, ProviderId, ProviderKind, PushProvider, TokenResult } from '../push/provider';
import { TokenSyntax } from '../push/token-syntax';
import { KindModule } from './kind-module';
import { KIND_MODULES } from './kinds';

export interface RegistryDeps {
    readonly instances: readonly ProviderInstanceConfig[];
    readonly egress: EgressPolicy;
    readonly userAgent: string;
    readonly logger: Logger;
    readonly env?: NodeJS.ProcessEnv;
}

export interface RegisteredProvider {
    readonly config: ProviderInstanceConfig;
    readonly provider: PushProvider;
    readonly tokenSyntax: TokenSyntax;
    /** False when its credentials are missing (it answers config_error NotConfigured). */
    readonly usable: boolean;
}

/**
 * The provider registry: every configured instance, built once per worker, by id. An
 * instance whose credentials are missing still exists and answers config_error
 * 'NotConfigured' (a service that only serves Android needs no Apple key); `mock: true`
 * (development only) answers 'delivered' without any network. A configured instance whose
 * files cannot be read throws a ConfigError at start: better than dropping every message later.
 */
export class ProviderRegistry {
    private readonly byId = new Map<ProviderId, RegisteredProvider>();

    constructor(deps: RegistryDeps) {
        const env = deps.env ?? process.env;
        try {
            for (const config of deps.instances) {
                const kind = kindModule(config.kind);
                if (!kind) {
                    throw new ConfigError(`${config.key}`, `provider kind ${config.kind} is not available in this build`);
                }
                const logger = deps.logger.child({ provider: config.id, kind: config.kind });
                const settings: KindSettings[ProviderKind] & { mock?: boolean } = config.settings;
                let provider: PushProvider;
                const hint = kind.missing(settings, env);
                if (settings.mock && !kind.ownMock) {
                    provider = new MockProvider(config.id, config.kind, logger);
                } else if (hint && !settings.mock) {
                    provider = new UnconfiguredProvider(config.id, config.kind, logger, hint);
                } else {
                    provider = kind.create(config.id, config.key, settings, { logger, egress: deps.egress, userAgent: deps.userAgent, env });
                }
                this.byId.set(config.id, { config, provider, tokenSyntax: kind.tokenSyntax, usable: !(provider instanceof UnconfiguredProvider) });
            }
        } catch (e) {
            void this.close();
            throw e;
        }
    }

    ids(): ProviderId[] {
        return [...this.byId.keys()];
    }

    all(): RegisteredProvider[] {
        return [...this.byId.values()];
    }

    has(id: ProviderId): boolean {
        return this.byId.has(id);
    }

    get(id: ProviderId): RegisteredProvider {
        const p = this.byId.get(id);
        if (!p) {
            throw new Error(`no provider instance "${id}"`);
        }
        return p;
    }

    async close(): Promise<void> {
        await Promise.allSettled([...this.byId.values()].map((p) => p.provider.close()));
    }
}

/** Development only: every token is 'delivered', nothing leaves the process. */
export class MockProvider implements PushProvider {
    constructor(readonly id: ProviderId, readonly kind: ProviderKind, private readonly logger: Logger) {
        logger.log('warn/provider', { msg: `${id} is in mock mode: nothing is sent` });
    }

    send(batch: Batch, onResults: (results: readonly TokenResult[]) => void): Promise<void> {
        this.logger.log('debug/provider', { msg: 'mock send', messageType: batch.message.type, tokens: batch.tokens.length });
        onResults(batch.tokens.map((token) => ({ token, outcome: 'delivered' as const, reason: 'mock' })));
        return Promise.resolve();
    }

    close(): Promise<void> {
        return Promise.resolve();
    }
}

/** A provider without credentials: every token is a config_error, logged once per call at error level. */
export class UnconfiguredProvider implements PushProvider {
    constructor(readonly id: ProviderId, readonly kind: ProviderKind, private readonly logger: Logger, private readonly hint: string) {
        logger.log('warn/provider', { msg: `${id} is not configured; its messages will fail: ${hint}` });
    }

    send(batch: Batch, onResults: (results: readonly TokenResult[]) => void): Promise<void> {
        this.logger.log('error/provider', { msg: `${this.id} is not configured: ${this.hint}; not sending, not deleting`, tokens: batch.tokens.length });
        onResults(batch.tokens.map((token) => ({ token, outcome: 'config_error' as const, reason: 'NotConfigured' })));
        return Promise.resolve();
    }

    close(): Promise<void> {
        return Promise.resolve();
    }
}

/** The module of a kind, typed for any settings (each instance's settings match its kind by construction). */
function kindModule(kind: ProviderKind): KindModule<ProviderKind> | undefined {
    const modules: Readonly<Partial<Record<ProviderKind, unknown>>> = KIND_MODULES;
    return modules[kind] as KindModule<ProviderKind> | undefined;
}
