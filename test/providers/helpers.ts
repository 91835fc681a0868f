import assert from 'node:assert/strict';
import { ChunkPacer, yieldToEventLoop } from '../../src/util/chunk-pacer';
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

/**
 * Replaces a provider's sub-chunk pacer (private; see ChunkPacer) by a small one whose yields
 * are counted, and records the most tokens in flight seen at each yield.
 */
export function instrumentPacer(provider: object, chunkTokens: number, maxInFlightTokens: number): { yields: number; maxInFlight: number } {
    const seen = { yields: 0, maxInFlight: 0 };
    const pacer: ChunkPacer = new ChunkPacer({
        chunkTokens, maxInFlightTokens,
        yieldToLoop: () => {
            seen.yields++;
            seen.maxInFlight = Math.max(seen.maxInFlight, pacer.tokensInFlight);
            return yieldToEventLoop();
        }
    });
    assert.ok('pacer' in provider, 'the provider paces its sends through a ChunkPacer');
    (provider as { pacer: ChunkPacer }).pacer = pacer;
    return seen;
}
