import assert from 'node:assert/strict';
import { analyse, RunResult } from '../../bench/privacy/analyse';
import { candidateTerms, ObserverModel, observerModel, Send, sendPosterior } from '../../bench/privacy/observers';
import { fixedWindow, noBatching, Policy, randomWindow, serviceBlocks } from '../../bench/privacy/policies';
import { streams } from '../../bench/privacy/rng';
import { accounting, Action, simulate, SimOptions } from '../../bench/privacy/simulate';

const prod = serviceBlocks('config.prod.yaml');
const PROD: Policy = { name: 'prod', source: 'config.prod.yaml', queueing: prod.queueing };

async function run(o: Partial<SimOptions> & { policy: Policy }): Promise<RunResult> {
    return analyse(await simulate({ ratePerSecond: 1, durationSeconds: 600, pods: 1, maxTokens: 3, seed: 7, batchSize: 500, ...o }));
}

/** The same result without the wall-clock time. */
function stable(r: RunResult): RunResult {
    return { ...r, wallMs: 0 };
}

/**
 * The posterior by enumeration: every candidate skipped or in the send with 1..K tokens,
 * weighted by the model's own terms (candidateTerms), tokens placed in candidate order.
 */
function bruteForce(actions: readonly Action[], s: Send, model: ObserverModel): { share: number[]; positions: number[][] } | undefined {
    const { m, inc, opener, lastOk, sizeFlush } = candidateTerms(actions, s, model);
    const n = s.actions.length;
    const K = model.maxTokens;
    const share = new Array<number>(m).fill(0);
    const positions = Array.from({ length: m }, () => new Array<number>(n).fill(0));
    let z = 0;
    const take = new Array<number>(m).fill(0);
    const visit = (i: number): void => {
        if (i === m) {
            const total = take.reduce((a, b) => a + b, 0);
            if (total !== n) {
                return;
            }
            let w = 1;
            let first = -1;
            let last = -1;
            for (let j = 0; j < m; j++) {
                w *= take[j] === 0 ? 1 - inc[j] : inc[j] / K;
                if (take[j] > 0) {
                    first = first < 0 ? j : first;
                    last = j;
                }
            }
            w *= opener[first];
            if (sizeFlush && !(n - take[last] < model.flushAt && lastOk[last])) {
                w = 0;
            }
            if (w === 0) {
                return;
            }
            z += w;
            let p = 0;
            for (let j = 0; j < m; j++) {
                share[j] += (w * take[j]) / n;
                for (let k = 0; k < take[j]; k++) {
                    positions[j][p++] += w;
                }
            }
            return;
        }
        for (let k = 0; k <= K; k++) {
            take[i] = k;
            visit(i + 1);
        }
        take[i] = 0;
    };
    visit(0);
    if (z === 0) {
        return undefined;
    }
    return { share: share.map((v) => v / z), positions: positions.map((row) => row.map((v) => v / z)) };
}

describe('privacy-sim', function () {
    this.timeout(120000);

    describe('the Bayesian observer', () => {
        it('computes the same posterior as brute-force enumeration of the model', () => {
            const r = streams(2024)(0);
            let checked = 0;
            let impossible = 0;
            for (let round = 0; round < 400; round++) {
                const pods = r.int(1, 3);
                const maxTokens = r.int(1, 3);
                const lo = r.int(0, 8);
                const policy = r.int(0, 2) === 0
                    ? fixedWindow('f', 'test', prod.queueing, lo, r.int(2, 8))
                    : randomWindow('r', 'test', prod.queueing, lo, lo + r.int(0, 12), r.int(2, 8));
                const model = observerModel(policy.queueing, pods, maxTokens);
                const t = 100;
                // Older actions (outside every window), then up to 6 near the send, some in the same ms.
                const times = [10, 20, ...Array.from({ length: r.int(1, 6) }, () => t - r.int(0, model.delayHi + 1))].sort((a, b) => a - b);
                const actions: Action[] = times.map((at, id) => ({ id, at, tokens: 1, pod: 0 }));
                const n = r.int(1, 7);
                const send: Send = {
                    at: t, pod: 0, actions: new Array<number>(n).fill(0),
                    ...(r.int(0, 1) === 1 ? { previousAt: t - r.int(1, model.delayHi + 2) } : {})
                };
                const expected = bruteForce(actions, send, model);
                const columns = new Map<number, number[]>();
                const got = sendPosterior(actions, send, model, undefined, (i, col) => columns.set(i, Array.from(col.subarray(0, n))));
                if (!expected) {
                    assert.equal(got, undefined, `round ${round}: the model gives zero likelihood`);
                    impossible++;
                    continue;
                }
                assert.ok(got, `round ${round}: a posterior`);
                assert.equal(got.m, expected.share.length);
                for (let i = 0; i < got.m; i++) {
                    assert.ok(Math.abs(got.share[i] - expected.share[i]) < 1e-9, `round ${round}: share of candidate ${i}`);
                    for (let p = 0; p < n; p++) {
                        assert.ok(Math.abs(columns.get(i)![p] - expected.positions[i][p]) < 1e-9, `round ${round}: position ${p}, candidate ${i}`);
                    }
                }
                checked++;
            }
            assert.ok(checked > 100 && impossible > 10, `both kinds of case seen (${checked} possible, ${impossible} impossible)`);
        });
    });

    describe('simulating the real queue under a fake clock', () => {
        it('accounts for every simulated token exactly once (several pods, size flushes, split calls)', async () => {
            const policy = randomWindow('small', 'test', prod.queueing, 1000, 3000, 40);
            const sim = await simulate({ ratePerSecond: 20, durationSeconds: 300, pods: 3, maxTokens: 3, seed: 3, batchSize: 25, policy });
            const a = accounting(sim);
            assert.ok(a.made > 10000, `a real workload (${a.made} tokens)`);
            assert.deepEqual(a, { made: a.made, sent: a.made, duplicated: 0, missing: 0, unknown: 0, refused: 0 });
            assert.equal(sim.leftInLedgers, 0);
            assert.deepEqual(sim.problems, []);
            assert.ok(sim.calls.every((c) => c.tokens.length <= 25), 'no call above delivery.batchSize');
            assert.ok(sim.calls.some((c) => c.tokens.length === 25), 'flushes were split into calls');
            // Every token waited no longer than the longest flush delay (+1 ms timer resolution).
            for (const c of sim.calls) {
                for (const id of c.actions) {
                    const wait = c.at - sim.actions[id].at;
                    assert.ok(wait >= 0 && wait <= 3001, `wait ${wait} ms`);
                    assert.equal(sim.actions[id].pod, c.pod, 'sent by the pod it was routed to');
                }
            }
        });

        it('with no batching, the most-recent-action observer is (nearly) always right at a low rate', async () => {
            const r = await run({ ratePerSecond: 0.2, durationSeconds: 4000, pods: 2, policy: noBatching(prod.queueing) });
            assert.ok(r.actions > 600, `${r.actions} actions`);
            assert.ok(r.recent.success >= 0.99, `recent ${r.recent.success}`);
            assert.ok(r.mlPod.unordered.success >= 0.99, `ml ${r.mlPod.unordered.success}`);
            assert.ok(r.delayP99 <= 0.002, `p99 ${r.delayP99} s`);
            assert.ok(r.meanBatch < 2.1, `batch ${r.meanBatch}: one request per call`);
            assert.equal(r.mlPod.modelMisses, 0);
        });

        it("with the production random window, the observers' success drops and the batches grow", async () => {
            const base = await run({ ratePerSecond: 0.2, durationSeconds: 4000, pods: 2, policy: noBatching(prod.queueing) });
            const r = await run({ ratePerSecond: 0.2, durationSeconds: 4000, pods: 2, policy: PROD });
            assert.equal(r.tokens, base.tokens, 'the same actions');
            assert.ok(r.recent.success < 0.6, `recent ${r.recent.success}`);
            assert.ok(r.mlPod.unordered.success < 0.7, `ml ${r.mlPod.unordered.success}`);
            assert.ok(r.mlPod.unordered.effectiveSet > 1.5, `effective anonymity set ${r.mlPod.unordered.effectiveSet}`);
            assert.ok(r.meanBatch > base.meanBatch * 1.3, `batch ${r.meanBatch} vs ${base.meanBatch}`);
            assert.ok(r.delayP50 >= 5 && r.delayP50 <= 30 && r.delayP99 <= 30.001, `delays ${r.delayP50} / ${r.delayP99} s`);
            // The observer's model of the queue (delay window, flush at maxSize, per-pod queues)
            // holds for every send the real queue made.
            assert.equal(r.mlPod.modelMisses, 0);
            assert.equal(r.mlMerged.modelMisses, 0);
        });

        it('repeats its results for the same seed, and not for another', async () => {
            const o = { ratePerSecond: 5, durationSeconds: 300, pods: 2, policy: PROD };
            const a = await run({ ...o, seed: 11 });
            const b = await run({ ...o, seed: 11 });
            const c = await run({ ...o, seed: 12 });
            assert.deepEqual(stable(a), stable(b));
            assert.notDeepEqual(stable(a), stable(c));
        });

        it('one pod, one token per request: the token order on the wire gives nothing away (each flush is shuffled)', async () => {
            const r = await run({ ratePerSecond: 1, durationSeconds: 1200, pods: 1, maxTokens: 1, policy: PROD });
            assert.ok(r.meanBatch > 10, `batch ${r.meanBatch}`);
            assert.ok(r.mlPod.unordered.success < 0.15, `unordered ${r.mlPod.unordered.success}`);
            // Before the shuffle (arrival order on the wire) this observer was right 98% of the time.
            assert.ok(r.mlPod.ordered.success < 0.2, `ordered ${r.mlPod.ordered.success}`);
        });
    });
});
