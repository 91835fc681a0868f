import { MlScores, observerModel, Score, scoreMl, scoreRecent, sends } from './observers';
import { accounting, Accounting, SimRun } from './simulate';

/** An observer's result, per token. */
export interface ObserverResult {
    /** Fraction of tokens whose action the observer names correctly, 0..1. */
    readonly success: number;
    /** Mean number of actions equally plausible to it (ties at the maximum posterior). */
    readonly anonymitySet: number;
    /** Mean exp(entropy) of its posterior: the effective number of candidates. */
    readonly effectiveSet: number;
}

export interface MlResult {
    /** Sees token counts only (or tokens in a shuffled order). */
    readonly unordered: ObserverResult;
    /** Also sees the tokens' order on the wire. */
    readonly ordered: ObserverResult;
    /** Sends the model found impossible (scored as a uniform guess); should be ~0. */
    readonly modelMisses: number;
    readonly sends: number;
}

/** Everything the table reports for one (rate, pods, policy). */
export interface RunResult {
    readonly rate: number;
    readonly pods: number;
    readonly policy: string;
    readonly durationSeconds: number;
    /** Scored actions (before durationSeconds), their tokens, and the provider calls made before durationSeconds. */
    readonly actions: number;
    readonly tokens: number;
    readonly calls: number;
    /** Tokens per provider call (calls before durationSeconds). */
    readonly meanBatch: number;
    /**
     * Tokens per flush (the calls one pod makes in one ms). Above meanBatch when flushes are
     * split into calls of delivery.batchSize: a size flush of maxSize = batchSize tokens plus
     * the overshoot of the request that filled it goes out as a full call and a tiny one.
     */
    readonly meanFlush: number;
    /** Added latency, acceptance to provider call, per token, seconds. */
    readonly delayP50: number;
    readonly delayP99: number;
    /** The most-recent-action observer (no posterior, so no anonymity set). */
    readonly recent: { readonly success: number };
    /** The Bayesian observer that sees which pod sent what. */
    readonly mlPod: MlResult;
    /** The Bayesian observer that sees all pods' calls merged. */
    readonly mlMerged: MlResult;
    readonly accounting: Accounting;
    readonly leftInLedgers: number;
    readonly problems: readonly string[];
    readonly wallMs: number;
}

/** Nearest-rank quantile of sorted values. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
    if (sorted.length === 0) {
        return NaN;
    }
    return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

function observer(s: Score): ObserverResult {
    return {
        success: s.tokens > 0 ? s.correct / s.tokens : NaN,
        anonymitySet: s.tokens > 0 ? s.anonymitySum / s.tokens : NaN,
        effectiveSet: s.tokens > 0 ? s.effectiveSum / s.tokens : NaN
    };
}

function ml(s: MlScores): MlResult {
    return { unordered: observer(s.unordered), ordered: observer(s.ordered), modelMisses: s.modelMisses, sends: s.sends };
}

/** Scores one simulated run with every observer. */
export function analyse(run: SimRun): RunResult {
    const o = run.options;
    const until = run.scoredUntil;
    const delayList: number[] = [];
    let calls = 0;
    let callTokens = 0;
    for (const c of run.calls) {
        for (const a of c.actions) {
            if (run.actions[a].at < until) {
                delayList.push(c.at - run.actions[a].at);
            }
        }
        if (c.at < until) {
            calls++;
            callTokens += c.actions.length;
        }
    }
    const delays = Float64Array.from(delayList).sort();
    const flushes = sends(run.calls.filter((c) => c.at < until), 'pod');
    const model = observerModel(o.policy.queueing, o.pods, o.maxTokens);
    const mlPod = ml(scoreMl(run.actions, run.calls, model, 'pod', until));
    // With one pod, the merged view is the pod view.
    const mlMerged = o.pods === 1 ? mlPod : ml(scoreMl(run.actions, run.calls, model, 'merged', until));
    return {
        rate: o.ratePerSecond, pods: o.pods, policy: o.policy.name, durationSeconds: o.durationSeconds,
        actions: run.actions.filter((a) => a.at < until).length, tokens: delays.length, calls,
        meanBatch: calls > 0 ? callTokens / calls : NaN,
        meanFlush: flushes.length > 0 ? callTokens / flushes.length : NaN,
        delayP50: quantile(delays, 0.5) / 1000, delayP99: quantile(delays, 0.99) / 1000,
        recent: { success: observer(scoreRecent(run.actions, run.calls, until)).success },
        mlPod, mlMerged,
        accounting: accounting(run), leftInLedgers: run.leftInLedgers, problems: run.problems, wallMs: run.wallMs
    };
}
