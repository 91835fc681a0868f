import FakeTimers from '@sinonjs/fake-timers';
import { loadServiceConfig, ServiceConfig } from '../../src/config/service-config';
import { Clock } from '../../src/util/clock';
import { createSubscriptionCleanup, SubscriptionCleanup } from '../../src/mediawiki/subscription-cleanup';
import { createServiceMetrics } from '../../src/metrics/service-metrics';
import { DEFAULT_FAKE_PASSWORD, DEFAULT_FAKE_USER, FakeMediaWiki, FakeMediaWikiOptions } from '../fakes/mediawiki-server';
import { freshMetricFactory, metricValue } from '../helpers/metrics';
import { TestLogger } from '../helpers/test-logger';

export const TEST_UA = 'push-notifications-test/1.0 (https://example.org/push; push-test@example.org)';

export interface Harness {
    fake: FakeMediaWiki;
    cleanup: SubscriptionCleanup;
    logger: TestLogger;
    config: ServiceConfig;
    close(): Promise<void>;
}

export interface HarnessOptions {
    fake?: FakeMediaWikiOptions;
    /** Merged into the `mediawiki` config section. */
    mediawiki?: Record<string, unknown>;
    outbox?: Record<string, unknown>;
    conf?: Record<string, unknown>;
    password?: string;
    clock?: Clock;
    /** The outbox's jitter source; tests that count attempts fix it so the count is stable. */
    random?: () => number;
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
    const fake = await FakeMediaWiki.start(opts.fake);
    const logger = new TestLogger();
    const config = loadServiceConfig({
        user_agent: TEST_UA,
        mwapi_req: { uri: fake.uri, headers: { 'user-agent': '{{user-agent}}' } },
        mw_subscription_manager_username: DEFAULT_FAKE_USER,
        mw_subscription_manager_password: opts.password ?? DEFAULT_FAKE_PASSWORD,
        mediawiki: {
            requestTimeoutMs: 2000,
            ...opts.mediawiki,
            outbox: { batchWaitMs: 20, baseDelayMs: 10, maxDelayMs: 100, ...opts.outbox }
        },
        ...opts.conf,
        // A test's mwapi_req adds headers; the uri is always the fake's.
        ...(opts.conf?.mwapi_req ? { mwapi_req: { uri: fake.uri, headers: { 'user-agent': '{{user-agent}}', ...(opts.conf.mwapi_req as { headers?: object }).headers } } } : {})
    }, { env: {} });
    const metrics = createServiceMetrics(freshMetricFactory(logger));
    const cleanup = createSubscriptionCleanup({ config, logger, metrics, clock: opts.clock, random: opts.random });
    return {
        fake, cleanup, logger, config,
        async close() {
            await cleanup.close();
            await fake.close();
        }
    };
}

/** Device tokens shaped like FCM's (long, URL-safe), distinct per prefix. */
export function fakeTokens(n: number, prefix = 'tok'): string[] {
    return Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(4, '0')}:APA91b${'x'.repeat(100)}${i}`);
}

export const deletions = (result: string) => metricValue('push_notifications_mediawiki_deletions_total', { result });
export const logins = (result: string) => metricValue('push_notifications_mediawiki_logins_total', { result });

/** A sinon clock (not installed: real timers keep running HTTP) adapted to the outbox's Clock. */
export function fakeClock(start = Date.now()) {
    const clock = FakeTimers.createClock(start);
    const adapter: Clock = {
        now: () => clock.now,
        setTimeout: (fn, ms) => clock.setTimeout(fn, ms),
        clearTimeout: (h) => clock.clearTimeout(h as FakeTimers.TimerId)
    };
    return { clock, adapter };
}

const realSleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits (in real time) until no delete call is in progress. */
export async function settle(cleanup: SubscriptionCleanup): Promise<void> {
    await realSleep(1);
    for (let i = 0; i < 5000 && cleanup.stats().callsInFlight > 0; i++) {
        await realSleep(2);
    }
}

/**
 * Runs a fake clock timer by timer, letting the real HTTP calls each timer starts finish,
 * until `done()` or `maxSimMs` of simulated time. `onTick` can change the world (end an outage).
 */
export async function runClock(cleanup: SubscriptionCleanup, clock: FakeTimers.Clock, done: () => boolean,
    maxSimMs: number, onTick: () => void = () => undefined): Promise<void> {
    const start = clock.now;
    await settle(cleanup);
    for (let i = 0; i < 10000 && !done(); i++) {
        if (clock.now - start > maxSimMs) {
            throw new Error(`not done after ${maxSimMs} ms of simulated time`);
        }
        clock.next();
        onTick();
        await settle(cleanup);
    }
    if (!done()) {
        throw new Error('clock ran out of timers');
    }
}
