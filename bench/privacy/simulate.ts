import FakeTimers from '@sinonjs/fake-timers';
import { Batch, PushProvider, TokenResult } from '../../src/push/provider';
import { BatchingQueue } from '../../src/scheduling/batching-queue';
import { buildStack, deliveryConfig, RecordingSink, req, testMetrics } from '../../test/helpers/queue-testbed';
import { TestLogger } from '../../test/helpers/test-logger';
import { Policy } from './policies';
import { streams } from './rng';

/** What one simulation is asked to do. */
export interface SimOptions {
    /** On-wiki actions per second, over the whole cluster (Poisson arrivals). */
    readonly ratePerSecond: number;
    /**
     * Simulated seconds of traffic that is scored. Arrivals go on for a tail after it (the
     * longest flush delay plus 1 s), so the last scored batches fill as in steady state; then
     * the queues are left to empty.
     */
    readonly durationSeconds: number;
    /** Pods, each with its own queue; each request goes to one at random (a Kubernetes Service). */
    readonly pods: number;
    /** Each action makes one Echo request of 1..maxTokens device tokens (uniform). */
    readonly maxTokens: number;
    readonly seed: number;
    readonly policy: Policy;
    /** delivery.batchSize: most tokens per provider call. */
    readonly batchSize: number;
}

/** One on-wiki action and the Echo request it caused (the ground truth the observer tries to recover). */
export interface Action {
    readonly id: number;
    /** Acceptance time, ms from the start of the simulation (whole ms: the clock's resolution). */
    readonly at: number;
    readonly tokens: number;
    /** The pod the request went to (hidden from the observer). */
    readonly pod: number;
}

/** One provider call, as it goes on the wire. */
export interface ProviderCall {
    /** ms from the start of the simulation. */
    readonly at: number;
    readonly pod: number;
    /** The tokens, in the call's order (as the provider got them). */
    readonly tokens: readonly string[];
    /** The action of each token, in the call's order. */
    readonly actions: readonly number[];
}

export interface SimRun {
    readonly options: SimOptions;
    readonly actions: readonly Action[];
    readonly calls: readonly ProviderCall[];
    /** Actions whose request the queue refused (full): not sent, counted apart. */
    readonly refused: readonly number[];
    /** Tokens still owned by a pod's ledger at the end (must be 0). */
    readonly leftInLedgers: number;
    /** warn/error lines the service code logged (must be none). */
    readonly problems: readonly string[];
    /** Actions before this time (ms) are scored: durationSeconds. */
    readonly scoredUntil: number;
    /** Simulated ms the run covered, arrivals plus the time for the queues to empty. */
    readonly simulatedMs: number;
    /** Wall-clock ms the run took. */
    readonly wallMs: number;
}

/** The token strings carry their action: `a<action>.<n>` (unique, so the queue's de-duplication never merges two). */
export function tokenOf(action: number, n: number): string {
    return `a${action}.${n}`;
}

function actionOf(token: string): number {
    return Number(token.slice(1, token.indexOf('.')));
}

/**
 * The workload of a seed, independent of the policy: Poisson arrivals (exponential gaps,
 * rounded down to whole ms), a token count and a pod per action, until `endMs`. Streams 0-2
 * of the seed: a longer run has the same actions first.
 */
export function workload(o: Pick<SimOptions, 'ratePerSecond' | 'pods' | 'maxTokens' | 'seed'>, endMs: number): Action[] {
    const stream = streams(o.seed);
    const gaps = stream(0);
    const counts = stream(1);
    const routing = stream(2);
    const actions: Action[] = [];
    const meanGapMs = 1000 / o.ratePerSecond;
    for (let t = gaps.exponential(meanGapMs); t < endMs; t += gaps.exponential(meanGapMs)) {
        actions.push({ id: actions.length, at: Math.floor(t), tokens: counts.int(1, o.maxTokens), pod: routing.int(0, o.pods - 1) });
    }
    return actions;
}

/** An in-memory APNs instance: answers every token delivered at once and records each call's time. */
class RecordingProvider implements PushProvider {
    readonly id = 'apns';
    readonly kind = 'apns';

    constructor(private readonly pod: number, private readonly start: number, private readonly calls: ProviderCall[]) {}

    send(batch: Batch, onResults: (results: readonly TokenResult[]) => void): Promise<void> {
        this.calls.push({ at: Date.now() - this.start, pod: this.pod, tokens: batch.tokens, actions: batch.tokens.map(actionOf) });
        onResults(batch.tokens.map((token) => ({ token, outcome: 'delivered', reason: 'ok' })));
        return Promise.resolve();
    }

    close(): Promise<void> {
        return Promise.resolve();
    }
}

/** Simulated epoch of every run (any fixed value: results must not depend on the wall clock). */
const T0 = Date.UTC(2025, 0, 1);

/**
 * Runs the REAL privacy queue (BatchingQueue with its flush-delay policy, a real Delivery,
 * ProviderGate and TokenLedger per pod, built as service.ts builds them) under a fake clock
 * (@sinonjs/fake-timers, as the queue tests do): hours of traffic take seconds.
 *
 * Each pod is a separate stack, as separate processes would be. Each pod's queue draws its
 * flush delays from its own seeded stream (stream 3 + pod), so a run is repeatable.
 * After the last arrival the clock runs on until every queue has flushed (the longest
 * delay, plus margin), then checks nothing is left.
 */
export function longestDelayMs(policy: Policy): number {
    const q = policy.queueing;
    return q.flushTimeoutMs === 'random' ? q.flushTimeoutMax ?? 0 : q.flushTimeoutMs;
}

export async function simulate(options: SimOptions): Promise<SimRun> {
    const scoredUntil = options.durationSeconds * 1000;
    const longestDelay = longestDelayMs(options.policy);
    const actions = workload(options, scoredUntil + longestDelay + 1000);
    const wallStart = process.hrtime.bigint();
    const clock = FakeTimers.install({ now: T0, toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'Date'] });
    const calls: ProviderCall[] = [];
    const refused: number[] = [];
    try {
        const logger = new TestLogger();
        const q = options.policy.queueing;
        const delivery = deliveryConfig({ batchSize: options.batchSize });
        // One metrics object for all pods: the simulation reads none of it, and prom-client's
        // registry is process-global (each factory clears it).
        const metrics = testMetrics(logger);
        const stream = streams(options.seed);
        const pods = Array.from({ length: options.pods }, (_, pod) => {
            const provider = new RecordingProvider(pod, T0, calls);
            const stack = buildStack([provider], new RecordingSink(), logger, delivery, q, metrics);
            const flushRandom = stream(3 + pod);
            const queue = new BatchingQueue({
                queueing: q, batchSize: options.batchSize, delivery: stack.delivery, ledger: stack.ledger,
                logger, metrics, random: () => flushRandom.float()
            });
            return { queue, ledger: stack.ledger };
        });

        let next = 0;
        const arrive = (): void => {
            const now = Date.now() - T0;
            for (; next < actions.length && actions[next].at <= now; next++) {
                const a = actions[next];
                const tokens = Array.from({ length: a.tokens }, (_, n) => tokenOf(a.id, n));
                if (!pods[a.pod].queue.enqueue(req('apns', tokens)).accepted) {
                    refused.push(a.id);
                }
            }
            if (next < actions.length) {
                setTimeout(arrive, actions[next].at - now);
            }
        };
        if (actions.length > 0) {
            setTimeout(arrive, actions[0].at);
        }
        const lastArrival = actions.length > 0 ? actions[actions.length - 1].at : 0;
        const until = lastArrival + longestDelay + 1000;
        await clock.tickAsync(until);
        const problems = logger.entries.filter((e) => e.level === 'warn' || e.level === 'error' || e.level === 'fatal')
            .slice(0, 100).map((e) => `${e.level}/${e.component} ${JSON.stringify(e.entry)}`);
        return {
            options, actions, calls, refused, problems,
            leftInLedgers: pods.reduce((sum, p) => sum + p.ledger.size, 0),
            scoredUntil, simulatedMs: until,
            wallMs: Number(process.hrtime.bigint() - wallStart) / 1e6
        };
    } finally {
        clock.uninstall();
    }
}

/** Every token of every action, sent exactly once (or refused with its request)? */
export interface Accounting {
    /** Tokens the actions made. */
    readonly made: number;
    /** Tokens seen in provider calls. */
    readonly sent: number;
    /** Tokens sent more than once (each extra send counts). */
    readonly duplicated: number;
    /** Tokens neither sent nor refused. */
    readonly missing: number;
    /** Tokens in calls that no action made. */
    readonly unknown: number;
    /** Tokens of refused requests. */
    readonly refused: number;
}

export function accounting(run: SimRun): Accounting {
    const seen = new Map<string, number>();
    let sent = 0;
    for (const c of run.calls) {
        for (const t of c.tokens) {
            seen.set(t, (seen.get(t) ?? 0) + 1);
            sent++;
        }
    }
    const refused = new Set(run.refused);
    let made = 0;
    let missing = 0;
    let duplicated = 0;
    let known = 0;
    let refusedTokens = 0;
    for (const a of run.actions) {
        for (let n = 0; n < a.tokens; n++) {
            made++;
            const times = seen.get(tokenOf(a.id, n)) ?? 0;
            known += times;
            if (refused.has(a.id)) {
                refusedTokens++;
                duplicated += times;
            } else if (times === 0) {
                missing++;
            } else {
                duplicated += times - 1;
            }
        }
    }
    return { made, sent, duplicated, missing, unknown: sent - known, refused: refusedTokens };
}
