import { loadServiceConfig, ServiceConfig } from '../../src/config/service-config';
import { TestLogger } from '../helpers/test-logger';
import { testConf } from '../helpers/service-harness';
import { ProviderFakes } from '../fakes/provider-fakes';
import { Batch } from '../../src/push/push-request';

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

export function batch(provider: 'fcm' | 'apns', tokens: string[], extra: Partial<Batch> = {}): Batch {
    return { provider, messageType: 'checkEchoV1', dryRun: false, tokens, ...extra };
}

export function newLogger(): TestLogger {
    return new TestLogger();
}

/** Outcome/reason per token, for compact assertions. */
export function byToken(results: { token: string; outcome: string; reason: string; retryAfterMs?: number }[]): Record<string, string> {
    return Object.fromEntries(results.map((r) => [r.token, `${r.outcome}:${r.reason}`]));
}
