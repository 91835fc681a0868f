import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../config/config-error';
import { PROJECT_ROOT, ServiceConfig } from '../config/service-config';
import { Logger } from '../logging/logger';
import { ServiceMetrics } from '../metrics/service-metrics';
import { Batch, ProviderName } from '../push/push-request';
import { createApnsProvider } from './apns';
import * as seam from '../push/provider';
import { FcmProvider } from './fcm/fcm-provider';
import { ServiceAccount } from './fcm/jwt-bearer-credential';
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
    const key = c.service_account ? 'fcm.service_account' : 'GOOGLE_APPLICATION_CREDENTIALS';
    let serviceAccount: ServiceAccount;
    try {
        serviceAccount = JSON.parse(readConfigFile(key, saPath).toString('utf8')) as ServiceAccount;
    } catch (e) {
        throw e instanceof ConfigError ? e : new ConfigError(key, 'is not valid JSON');
    }
    if (typeof serviceAccount.client_email !== 'string' || typeof serviceAccount.private_key !== 'string') {
        throw new ConfigError(key, 'is not a service-account file (needs client_email and private_key)');
    }
    if (!c.project_id && !serviceAccount.project_id) {
        throw new ConfigError('fcm.project_id', 'is needed: the service account names no project');
    }
    return new FcmProvider({
        serviceAccount,
        projectId: c.project_id,
        oauthTokenUri: c.oauth_token_uri,
        fcmEndpoint: c.fcm_endpoint,
        ca: c.ca ? readConfigFile('fcm.ca', c.ca) : undefined,
        maxSockets: c.max_sockets,
        egress: config,
        userAgent: config.user_agent,
        logger: log
    });
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
    return new NewSeamAdapter('apns', createApnsProvider('apns', c, { logger: log, egress: config, userAgent: config.user_agent }));
}

/**
 * Until the delivery layer moves to the new seam (src/push/provider.ts): runs a new-seam
 * provider behind the old one, with the Echo message of the batch's type and topic.
 */
class NewSeamAdapter implements PushProvider {
    constructor(readonly name: ProviderName, private readonly inner: seam.PushProvider) {}

    async send(batch: Batch): Promise<TokenResult[]> {
        const t = batch.messageType;
        const results: TokenResult[] = [];
        await this.inner.send({
            provider: batch.provider,
            message: {
                type: t, data: { type: t }, collapseKey: t, mutableContent: true,
                apns: { alertText: t, threadId: t, pushType: 'alert', payload: { data: { type: t } }, ...(batch.topic ? { topic: batch.topic } : {}) }
            },
            dryRun: batch.dryRun,
            tokens: batch.tokens
        }, (group) => results.push(...group));
        return results;
    }

    close(): Promise<void> {
        return this.inner.close();
    }
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
