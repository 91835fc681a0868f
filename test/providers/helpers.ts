import { loadServiceConfig, ServiceConfig } from '../../src/config/service-config';
import { TestLogger } from '../helpers/test-logger';
import { testConf } from '../helpers/service-harness';
import { ProviderFakes } from '../fakes/provider-fakes';
import { EchoMessages } from '../../src/front-doors/echo/echo-messages';
import { Batch, PushProvider, TokenResult } from '../../src/push/provider';
import { ProviderRegistry } from '../../src/providers/registry';

/** A validated ServiceConfig whose providers point at the fakes. */
export function configFor(fakes: ProviderFakes, overrides: Record<string, unknown> = {}): ServiceConfig {
    const { fcm, apns, proxy } = fakes.conf;
    const o = overrides as { fcm?: Record<string, unknown>; apns?: Record<string, unknown> };
    return loadServiceConfig(testConf({
        ...(proxy ? { proxy } : {}),
        ...overrides,
        fcm: { ...fcm, ...(o.fcm ?? {}) },
        apns: { ...apns, ...(o.apns ?? {}) }
    }));
}

const messages = new EchoMessages({});

/** An Echo batch (checkEchoV1 unless `messageType` says otherwise). */
export function batch(provider: 'fcm' | 'apns' | 'webpush', tokens: string[],
    extra: { dryRun?: boolean; topic?: string; messageType?: string } = {}): Batch {
    return { provider, message: messages.get(extra.messageType ?? 'checkEchoV1', provider, extra.topic), dryRun: extra.dryRun ?? false, tokens };
}

/** The legacy instances of a config, built by the registry (as the service builds them). */
export function createProviders(deps: { config: ServiceConfig; logger: TestLogger; env?: NodeJS.ProcessEnv }):
    Record<'apns' | 'fcm' | 'webpush', PushProvider> {
    const registry = new ProviderRegistry({
        instances: deps.config.providerInstances, egress: deps.config, userAgent: deps.config.user_agent,
        logger: deps.logger, env: deps.env
    });
    return { apns: registry.get('apns').provider, fcm: registry.get('fcm').provider, webpush: registry.get('webpush').provider };
}

/** Sends a batch and collects every result (the seam reports them in groups). */
export async function sendAll(p: PushProvider, b: Batch): Promise<TokenResult[]> {
    const out: TokenResult[] = [];
    await p.send(b, (r) => out.push(...r));
    return out;
}

export function newLogger(): TestLogger {
    return new TestLogger();
}

/** Outcome/reason per token, for compact assertions. */
export function byToken(results: { token: string; outcome: string; reason: string; retryAfterMs?: number }[]): Record<string, string> {
    return Object.fromEntries(results.map((r) => [r.token, `${r.outcome}:${r.reason}`]));
}
