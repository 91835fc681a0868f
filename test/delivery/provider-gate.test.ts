import assert from 'node:assert/strict';
import FakeTimers from '@sinonjs/fake-timers';
import { ProviderGate } from '../../src/delivery/provider-gate';
import { Batch, PushProvider, TokenResult } from '../../src/push/provider';
import { metricValue } from '../helpers/metrics';
import { testMetrics } from '../helpers/queue-testbed';
import { TestLogger } from '../helpers/test-logger';

/** A provider that answers the tokens `answer` picks at once and never answers the rest (a silent proxy). */
function silentFor(answer: (token: string) => boolean): PushProvider & { calls: number } {
    const p = {
        id: 'apns', kind: 'apns' as const, calls: 0,
        send(batch: Batch, onResults: (r: readonly TokenResult[]) => void): Promise<void> {
            p.calls++;
            onResults(batch.tokens.filter(answer).map((token) => ({ token, outcome: 'delivered' as const, reason: 'ok' })));
            return new Promise<void>(() => undefined); // never settles
        },
        close: () => Promise.resolve()
    };
    return p;
}

const batch = (tokens: string[]): Batch => ({ provider: 'apns', message: { type: 'checkEchoV1' }, dryRun: false, tokens });

describe('ProviderGate: the call deadline and the stuck-egress signal', () => {
    let clock: ReturnType<typeof FakeTimers.install>;
    beforeEach(() => {
        clock = FakeTimers.install({ now: 1_000_000, toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'Date'] });
    });
    afterEach(() => clock.uninstall());

    function gate(provider: PushProvider, logger = new TestLogger()) {
        const metrics = testMetrics(logger);
        const g = new ProviderGate(provider, { provider: 'apns', kind: 'apns' }, {
            concurrency: 1, batchSize: 2, ratePerSecond: 0, callTimeoutMs: 1000, stallAfterMs: 2500, now: Date.now,
            sleep: (ms) => new Promise((r) => setTimeout(r, ms))
        }, metrics, logger);
        return { g, logger };
    }

    it('a call that hits its deadline reports its unanswered tokens transient, frees its slot, and is counted and logged', async () => {
        const provider = silentFor((t) => t.startsWith('ok'));
        const { g, logger } = gate(provider);
        const seen: TokenResult[] = [];
        const first = g.send(batch(['ok-1', 'hung-1']), (r) => seen.push(...r));
        const second = g.send(batch(['ok-2']), (r) => seen.push(...r)); // waits for the only slot
        await clock.tickAsync(0);
        assert.deepEqual(seen.map((r) => `${r.token}:${r.outcome}`), ['ok-1:delivered'], 'the answered token is settled at once');
        await clock.tickAsync(1000);
        await first;
        assert.deepEqual(seen.map((r) => `${r.token}:${r.outcome}:${r.reason}`),
            ['ok-1:delivered:ok', 'hung-1:transient:call_deadline', 'ok-2:delivered:ok']);
        assert.equal(provider.calls, 2, 'the slot was freed');
        assert.equal(await metricValue('push_notifications_provider_call_timeouts_total', { provider: 'apns' }), 1);
        assert.ok(logger.at('warn').some((e) => JSON.stringify(e.entry).includes('deadline')));
        await clock.tickAsync(1000);
        await second;
    });

    it('marks the provider stalled after stallAfterMs without any answer, and clears when one comes', async () => {
        let answering = false;
        const provider = silentFor(() => answering);
        const { g, logger } = gate(provider);
        for (let i = 0; i < 3; i++) {
            const call = g.send(batch([`t${i}`]), () => undefined);
            await clock.tickAsync(1000);
            await call;
        }
        assert.equal(g.stalled, true, '3 s of calls without an answer');
        assert.equal(await metricValue('push_notifications_provider_stalled', { provider: 'apns' }), 1);
        assert.ok(logger.at('error').some((e) => JSON.stringify(e.entry).includes('stuck egress')));
        answering = true;
        const call = g.send(batch(['t9']), () => undefined);
        await clock.tickAsync(1000);
        await call;
        assert.equal(g.stalled, false);
        assert.equal(await metricValue('push_notifications_provider_stalled', { provider: 'apns' }), 0);
    });
});
