import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../config/config-error';
import { PROJECT_ROOT, ServiceConfig } from '../config/service-config';
import { Logger } from '../logging/logger';
import { ServiceMetrics } from '../metrics/service-metrics';
import { Batch, ProviderName } from '../push/push-request';
import { ApnsProvider } from './apns/apns-provider';
import { createFcmProvider } from './fcm/fcm-provider';
import { asLegacyFcmProvider } from './fcm/legacy-seam';
import { PushProvider, TokenResult } from './push-provider';

export interface ProviderDeps {
    readonly config: ServiceConfig;
    readonly logger: Logger;
    /** Not used by the providers yet: the dispatcher times calls and counts outcomes. */
    readonly metrics?: ServiceMetrics;
    /** Environment for GOOGLE_APPLICATION_CREDENTIALS (default process.env). */
    readonly env?: NodeJS.ProcessEnv;
}

/**
 * Builds the long-lived provider instances of one worker from the config. A provider that is
 * not configured still exists, answering config_error 'NotConfigured' for every token (a
 * service that only serves Android needs no Apple key). `mock: true` (development only)
 * answers 'delivered' without any network. A configured provider whose files cannot be read
 * throws a ConfigError: better to fail at start than to drop every message later.
 */
export function createProviders(deps: ProviderDeps): Record<ProviderName, PushProvider> {
    return { fcm: createFcm(deps), apns: createApns(deps) };
}

function createFcm({ config, logger, env = process.env }: ProviderDeps): PushProvider {
    const log = logger.child({ provider: 'fcm' });
    const c = config.fcm;
    if (c.mock) {
        return new MockProvider('fcm', log);
    }
    const saPath = c.service_account ?? env.GOOGLE_APPLICATION_CREDENTIALS;
    if (!saPath) {
        return new UnconfiguredProvider('fcm', log, 'set fcm.service_account (or GOOGLE_APPLICATION_CREDENTIALS)');
    }
    // Service-account, project and CA checks (ConfigError naming the key) live in createFcmProvider.
    return asLegacyFcmProvider(createFcmProvider('fcm', c, { logger: log, egress: config, userAgent: config.user_agent, env, baseDir: PROJECT_ROOT }));
}

function createApns({ config, logger }: ProviderDeps): PushProvider {
    const log = logger.child({ provider: 'apns' });
    const c = config.apns;
    if (c.mock) {
        return new MockProvider('apns', log);
    }
    if (!c.token && !c.cert) {
        return new UnconfiguredProvider('apns', log, 'set apns.token (key, keyId, teamId) or apns.cert');
    }
    return new ApnsProvider({
        token: c.token ? { key: readConfigFile('apns.token.key', c.token.key), keyId: c.token.keyId, teamId: c.token.teamId } : undefined,
        pfx: c.cert ? readConfigFile('apns.cert', c.cert) : undefined,
        passphrase: c.passphrase,
        production: c.production,
        topic: c.topic,
        address: c.address,
        port: c.port,
        ca: c.ca ? readConfigFile('apns.ca', c.ca) : undefined,
        clientCount: c.clientCount,
        requestTimeoutMs: c.requestTimeoutMs,
        connectionRetryLimit: c.connectionRetryLimit,
        shutdownTimeoutMs: c.shutdownTimeoutMs,
        egress: config,
        logger: log
    });
}

function readConfigFile(key: string, file: string): Buffer {
    try {
        return readFileSync(path.resolve(PROJECT_ROOT, file));
    } catch (e) {
        throw new ConfigError(key, `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
}

/** Development only: every token is 'delivered', nothing leaves the process. */
export class MockProvider implements PushProvider {
    constructor(readonly name: ProviderName, private readonly logger: Logger) {
        logger.log('warn/provider', { msg: `${name} is in mock mode: nothing is sent` });
    }

    send(batch: Batch): Promise<TokenResult[]> {
        this.logger.log('debug/provider', { msg: 'mock send', messageType: batch.messageType, tokens: batch.tokens.length });
        return Promise.resolve(batch.tokens.map((token) => ({ token, outcome: 'delivered' as const, reason: 'mock' })));
    }

    close(): Promise<void> {
        return Promise.resolve();
    }
}

/** A provider without credentials: every token is a config_error, logged at error level. */
export class UnconfiguredProvider implements PushProvider {
    constructor(readonly name: ProviderName, private readonly logger: Logger, private readonly hint: string) {
        logger.log('warn/provider', { msg: `${name} is not configured; its messages will fail: ${hint}` });
    }

    send(batch: Batch): Promise<TokenResult[]> {
        this.logger.log('error/provider', { msg: `${this.name} is not configured: ${this.hint}`, tokens: batch.tokens.length });
        return Promise.resolve(batch.tokens.map((token) => ({ token, outcome: 'config_error' as const, reason: 'NotConfigured' })));
    }

    close(): Promise<void> {
        return Promise.resolve();
    }
}
