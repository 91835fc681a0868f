import { QueueingConfig } from '../../src/config/sections/queueing';
import { Action, ProviderCall } from './simulate';

/**
 * The observers: someone who sees every on-wiki action (with its time, to the ms: the
 * worst case, no job-queue jitter) and every provider call on the wire (time and token
 * count; with `view: 'pod'` also which pod sent it, e.g. by source address) and tries to
 * name, for each token, the action that caused it. Knowing that action tells a push
 * provider which wiki user the device belongs to.
 *
 * - `recent`: every token of a send is put on the most recent action at or before it.
 * - `ml` (Bayesian, maximum a posteriori): knows the policy exactly (delay distribution,
 *   maxSize), the number of pods, the token-count distribution, and how the queue works:
 *   the first request into an empty queue starts a timer of delay D ~ policy, the flush
 *   sends everything the pod received since its previous flush; or a request that brings
 *   the waiting tokens to maxSize flushes at once. For one send it computes the exact
 *   posterior over which candidate action each token belongs to, with a forward-backward
 *   pass over the candidate actions in time order (a hidden Markov model: each candidate
 *   is skipped, went to another pod, probability 1 - 1/pods, or is in this send with 1..k
 *   tokens; the first one in the send gets the delay's likelihood, the total must be the
 *   send's token count). It then picks the most likely action. Each send is judged on its
 *   own (a joint inference over all sends could do better with several pods).
 *   - unordered: it sees the token count only (or the tokens in an order that says
 *     nothing): every token of the send is put on the action with the largest expected
 *     share of the send.
 *   - ordered: it also sees the ORDER of the tokens on the wire (one HTTP/2 stream or
 *     request per token) and knows the queue keeps arrival order within a flush: each
 *     position is put on its own most likely action.
 *
 * Scores are per token: the fraction whose action the observer names correctly (an exact
 * tie between k actions counts 1/k: the observer picks one at random), the anonymity set
 * (how many actions are equally plausible, relative tolerance 1e-6) and the effective
 * anonymity set exp(H), H the Shannon entropy of the posterior (Serjantov & Danezis 2002;
 * Díaz et al. 2002): 1 means the observer is certain.
 */

export type View = 'pod' | 'merged';

/** What the observer knows about the service: the policy and the deployment. */
export interface ObserverModel {
    readonly pods: number;
    readonly maxTokens: number;
    /** Shortest and longest flush delay the timer can realise, ms. */
    readonly delayLo: number;
    readonly delayHi: number;
    /** A flush starts at this many waiting tokens (maxSize, or the cap if lower). */
    readonly flushAt: number;
    /** Clock resolution slack, ms: timers and arrivals within the same ms may fall either way. */
    readonly tolMs: number;
}

export function observerModel(queueing: QueueingConfig, pods: number, maxTokens: number): ObserverModel {
    const lo = queueing.flushTimeoutMs === 'random' ? queueing.flushTimeoutMin ?? 0 : queueing.flushTimeoutMs;
    const hi = queueing.flushTimeoutMs === 'random' ? queueing.flushTimeoutMax ?? lo : queueing.flushTimeoutMs;
    // A 0 ms timer set while timers run fires 1 ms later (Node clamps, and so do fake timers).
    return { pods, maxTokens, delayLo: lo, delayHi: Math.max(hi, 1), flushAt: Math.min(queueing.maxSize, queueing.maxQueuedTokens), tolMs: 1 };
}

/** One send as observed: the provider calls made at one ms (by one pod, in the pod view). */
export interface Send {
    readonly at: number;
    readonly pod: number;
    /** The action of each token, in wire order (ground truth: used for scoring only). */
    readonly actions: readonly number[];
    /** The same pod's previous send (pod view only): nothing before it can be in this one. */
    readonly previousAt?: number;
}

/** Groups calls into sends: one per (pod, ms) in the pod view, one per ms when merged. */
export function sends(calls: readonly ProviderCall[], view: View): Send[] {
    const byKey = new Map<string, { at: number; pod: number; actions: number[] }>();
    for (const c of calls) {
        const key = view === 'pod' ? `${c.pod}:${c.at}` : `${c.at}`;
        const s = byKey.get(key);
        if (s) {
            s.actions.push(...c.actions);
        } else {
            byKey.set(key, { at: c.at, pod: view === 'pod' ? c.pod : -1, actions: [...c.actions] });
        }
    }
    const out = [...byKey.values()].sort((a, b) => a.at - b.at);
    if (view === 'merged') {
        return out;
    }
    const last = new Map<number, number>();
    return out.map((s) => {
        const previousAt = last.get(s.pod);
        last.set(s.pod, s.at);
        return previousAt === undefined ? s : { ...s, previousAt };
    });
}

/** Per-token scores of one observer over a run. */
export interface Score {
    readonly tokens: number;
    /** Expected number of tokens attributed to their own action. */
    correct: number;
    /** Sum over tokens of the anonymity set size (ties at the maximum). */
    anonymitySum: number;
    /** Sum over tokens of exp(entropy of the posterior). */
    effectiveSum: number;
}

export interface MlScores {
    readonly unordered: Score;
    readonly ordered: Score;
    /** Sends the model found impossible (zero likelihood): scored with a uniform guess over the candidates. */
    modelMisses: number;
    /** Tokens whose action was not among the send's candidates at all. */
    outsideWindow: number;
    sends: number;
}

const EPS = 1e-6;

function newScore(tokens: number): Score {
    return { tokens, correct: 0, anonymitySum: 0, effectiveSum: 0 };
}

/** First index whose action time is >= t (actions are in time order). */
function lowerBound(actions: readonly Action[], t: number): number {
    let lo = 0;
    let hi = actions.length;
    while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (actions[mid].at < t) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/** The naive observer: each send's tokens all go to the latest action at or before it. */
export function scoreRecent(actions: readonly Action[], calls: readonly ProviderCall[], scoredUntil: number): Score {
    const all = sends(calls, 'merged');
    const scored = (a: number): boolean => actions[a].at < scoredUntil;
    const score = newScore(all.reduce((n, s) => n + s.actions.filter(scored).length, 0));
    for (const s of all) {
        const guess = lowerBound(actions, s.at + 1) - 1;
        const mine = s.actions.filter(scored);
        score.correct += mine.filter((a) => a === guess).length;
    }
    return score;
}

/** Reused work arrays (a run analyses thousands of sends). */
export class Buffers {
    forward = new Float64Array(0);
    backward = new Float64Array(0);
    next = new Float64Array(0);
    column = new Float64Array(0);

    ensure(cells: number, width: number): void {
        if (this.forward.length < cells) {
            this.forward = new Float64Array(Math.max(cells, this.forward.length * 2));
        }
        if (this.backward.length < width) {
            this.backward = new Float64Array(width * 2);
            this.next = new Float64Array(width * 2);
            this.column = new Float64Array(width * 2);
        }
    }
}

/**
 * The Bayesian observer over a whole run, in one view. Every send is analysed (the
 * observer sees them all); only tokens of actions before `scoredUntil` are scored.
 */
export function scoreMl(actions: readonly Action[], calls: readonly ProviderCall[], model: ObserverModel, view: View,
    scoredUntil: number): MlScores {
    const all = sends(calls, view);
    const tokens = all.reduce((n, s) => n + s.actions.filter((a) => actions[a].at < scoredUntil).length, 0);
    const scores: MlScores = { unordered: newScore(tokens), ordered: newScore(tokens), modelMisses: 0, outsideWindow: 0, sends: 0 };
    const buffers = new Buffers();
    for (const s of all) {
        if (s.actions.some((a) => actions[a].at < scoredUntil)) {
            scores.sends++;
            scoreSend(actions, s, model, scores, buffers, scoredUntil);
        }
    }
    return scores;
}

/**
 * Likelihood factor of a candidate being the first request of the send (the opener), `x` ms
 * before it. Timer flush: the delay's probability (uniform, so a constant inside its
 * support); size flush: the probability that the timer had not fired yet, P(D >= x).
 */
export function openerFactor(x: number, sizeFlush: boolean, m: ObserverModel): number {
    if (!sizeFlush) {
        return x >= m.delayLo - m.tolMs && x <= m.delayHi + m.tolMs ? 1 : 0;
    }
    const y = x - m.tolMs;
    if (y <= m.delayLo) {
        return 1;
    }
    if (y > m.delayHi) {
        return 0;
    }
    return (m.delayHi - y + 1) / (m.delayHi - m.delayLo + 1);
}

/** The posterior of one send: which candidate actions its tokens belong to. */
export interface SendPosterior {
    /** Index of the first candidate action; the candidates are actions[from .. from + m). */
    readonly from: number;
    readonly m: number;
    /** Per candidate: expected share of the send's tokens (sums to 1). */
    readonly share: Float64Array;
}

/** The candidates of a send: actions no older than the longest delay, nor (pod view) than the pod's previous send. */
export function candidates(actions: readonly Action[], s: Send, model: ObserverModel): { from: number; to: number } {
    const windowStart = s.at - model.delayHi - model.tolMs;
    const from = lowerBound(actions, s.previousAt === undefined ? windowStart : Math.max(windowStart, s.previousAt));
    return { from, to: lowerBound(actions, s.at + 1) };
}

/** The model's terms for each candidate of a send (shared with the brute-force check in the tests). */
export interface CandidateTerms {
    readonly from: number;
    readonly m: number;
    /** n >= flushAt: the send was started by the request that filled the queue, not by the timer. */
    readonly sizeFlush: boolean;
    /** P(candidate is in this send) before any other evidence: 1/pods, halved at a flush-boundary ms. */
    readonly inc: Float64Array;
    /** Likelihood factor if the candidate is the send's first request (see openerFactor). */
    readonly opener: Float64Array;
    /** 1 if the candidate may be the send's last request (a size flush goes out at the arrival that filled it). */
    readonly lastOk: Uint8Array;
}

export function candidateTerms(actions: readonly Action[], s: Send, model: ObserverModel): CandidateTerms {
    const t = s.at;
    const q = 1 / model.pods;
    const sizeFlush = s.actions.length >= model.flushAt;
    const { from, to } = candidates(actions, s, model);
    const m = to - from;
    const inc = new Float64Array(m);
    const opener = new Float64Array(m);
    const lastOk = new Uint8Array(m);
    for (let i = 0; i < m; i++) {
        const at = actions[from + i].at;
        // A candidate in the same ms as the send or as the pod's previous send may have
        // fallen on either side of that flush.
        const edge = at === t || at === s.previousAt;
        inc[i] = edge ? q / 2 : q;
        opener[i] = openerFactor(t - at, sizeFlush, model);
        lastOk[i] = !sizeFlush || at >= t - model.tolMs ? 1 : 0;
    }
    return { from, m, sizeFlush, inc, opener, lastOk };
}

/**
 * Exact posterior of one send under the model (forward-backward over the candidates, with
 * per-step scaling). `column(i, col)` is called once per candidate i (from the last to the
 * first) with col[p] = P(token at position p belongs to candidate i). Undefined when the
 * model gives the send zero likelihood (or there is no candidate).
 */
export function sendPosterior(actions: readonly Action[], s: Send, model: ObserverModel, buf: Buffers = new Buffers(),
    column: (i: number, col: Float64Array) => void = () => undefined): SendPosterior | undefined {
    const n = s.actions.length;
    const K = model.maxTokens;
    const { from, m, inc, opener, lastOk, sizeFlush } = candidateTerms(actions, s, model);
    if (m === 0 || n === 0) {
        return undefined;
    }
    // State after candidate i: p tokens of the send placed (p = 0: the send has not started).
    // Transitions: skip (1 - inc), or take k = 1..K tokens (inc / K), times the opener factor
    // for the first one taken, and for a size flush the last one taken must be allowed last
    // with fewer than flushAt tokens before it. The send ends with exactly n placed.
    const W = n + 1;
    buf.ensure((m + 1) * W, W);
    const F = buf.forward;
    F.fill(0, 0, (m + 1) * W);
    F[0] = 1;
    const scale = new Float64Array(m);
    for (let i = 0; i < m; i++) {
        const base = i * W;
        const nextBase = base + W;
        const skip = 1 - inc[i];
        const take = inc[i] / K;
        let sum = 0;
        for (let p = 0; p <= n; p++) {
            const v = F[base + p];
            if (v === 0) {
                continue;
            }
            F[nextBase + p] += v * skip;
            const f = p === 0 ? take * opener[i] : take;
            if (f === 0) {
                continue;
            }
            for (let k = 1; k <= K && p + k <= n; k++) {
                if (p + k === n && sizeFlush && !(p < model.flushAt && lastOk[i])) {
                    continue;
                }
                F[nextBase + p + k] += v * f;
            }
        }
        for (let p = 0; p <= n; p++) {
            sum += F[nextBase + p];
        }
        if (sum === 0) {
            return undefined;
        }
        scale[i] = sum;
        for (let p = 0; p <= n; p++) {
            F[nextBase + p] /= sum;
        }
    }
    const z = F[m * W + n];
    if (z === 0) {
        return undefined;
    }

    // Backward pass, with the posterior of each candidate: expected tokens (unordered) and
    // per position (ordered). Posterior of "candidate i takes positions p0..p0+k-1":
    // F̂[i][p0] · h · B̂[i+1][p0+k] / (scale[i] · z).
    let B = buf.backward;
    let Bnext = buf.next;
    const col = buf.column;
    B.fill(0, 0, W);
    B[n] = 1;
    const expected = new Float64Array(m);
    for (let i = m - 1; i >= 0; i--) {
        const base = i * W;
        const skip = 1 - inc[i];
        const take = inc[i] / K;
        const norm = 1 / (scale[i] * z);
        col.fill(0, 0, n);
        let exp = 0;
        for (let p = 0; p <= n; p++) {
            let b = skip * B[p];
            const f = p === 0 ? take * opener[i] : take;
            const fw = F[base + p];
            if (f !== 0) {
                for (let k = 1; k <= K && p + k <= n; k++) {
                    if (p + k === n && sizeFlush && !(p < model.flushAt && lastOk[i])) {
                        continue;
                    }
                    const hb = f * B[p + k];
                    b += hb;
                    const w = fw * hb * norm;
                    if (w > 0) {
                        exp += w * k;
                        for (let j = p; j < p + k; j++) {
                            col[j] += w;
                        }
                    }
                }
            }
            Bnext[p] = b / scale[i];
        }
        expected[i] = exp / n;
        column(i, col);
        [B, Bnext] = [Bnext, B];
    }
    buf.backward = B;
    buf.next = Bnext;

    return { from, m, share: expected };
}

function scoreSend(actions: readonly Action[], s: Send, model: ObserverModel, scores: MlScores, buf: Buffers, scoredUntil: number): void {
    const n = s.actions.length;
    const scoredAt = (p: number): boolean => actions[s.actions[p]].at < scoredUntil;
    let nScored = 0;
    // Ground truth, for scoring only: scored tokens per action.
    const trueCount = new Map<number, number>();
    for (let p = 0; p < n; p++) {
        if (scoredAt(p)) {
            nScored++;
            trueCount.set(s.actions[p], (trueCount.get(s.actions[p]) ?? 0) + 1);
        }
    }
    const { from, to } = candidates(actions, s, model);
    for (const [a, c] of trueCount) {
        if (a < from || a >= to) {
            scores.outsideWindow += c;
        }
    }
    const posMax = new Float64Array(n);
    const posTies = new Float64Array(n);
    const posPlogP = new Float64Array(n);
    const posTrue = new Float64Array(n);
    const post = sendPosterior(actions, s, model, buf, (i, col) => {
        const id = from + i;
        for (let p = 0; p < n; p++) {
            const v = col[p];
            if (v <= 0) {
                continue;
            }
            posPlogP[p] += v * Math.log(v);
            if (v > posMax[p] * (1 + EPS)) {
                posMax[p] = v;
                posTies[p] = 1;
            } else if (v >= posMax[p] * (1 - EPS)) {
                posTies[p]++;
            }
            if (s.actions[p] === id) {
                posTrue[p] = v;
            }
        }
    });
    if (!post) {
        // The model found the send impossible: a uniform guess over the candidates.
        scores.modelMisses++;
        const m = to - from;
        let inWindow = 0;
        for (const [a, c] of trueCount) {
            if (a >= from && a < to) {
                inWindow += c;
            }
        }
        for (const sc of [scores.unordered, scores.ordered]) {
            sc.correct += m > 0 ? inWindow / m : 0;
            sc.anonymitySum += nScored * Math.max(m, 1);
            sc.effectiveSum += nScored * Math.max(m, 1);
        }
        return;
    }
    // Ordered: each position on its own most likely action.
    for (let p = 0; p < n; p++) {
        if (!scoredAt(p)) {
            continue;
        }
        if (posTrue[p] > 0 && posTrue[p] >= posMax[p] * (1 - EPS)) {
            scores.ordered.correct += 1 / posTies[p];
        }
        scores.ordered.anonymitySum += posTies[p];
        scores.ordered.effectiveSum += Math.exp(-posPlogP[p]);
    }
    // Unordered: all tokens on the action with the largest expected share.
    let max = 0;
    let ties = 0;
    let plogp = 0;
    for (let i = 0; i < post.m; i++) {
        const v = post.share[i];
        if (v <= 0) {
            continue;
        }
        plogp += v * Math.log(v);
        if (v > max * (1 + EPS)) {
            max = v;
            ties = 1;
        } else if (v >= max * (1 - EPS)) {
            ties++;
        }
    }
    let correct = 0;
    for (let i = 0; i < post.m; i++) {
        if (post.share[i] >= max * (1 - EPS)) {
            correct += trueCount.get(from + i) ?? 0;
        }
    }
    scores.unordered.correct += correct / ties;
    scores.unordered.anonymitySum += nScored * ties;
    scores.unordered.effectiveSum += nScored * Math.exp(-plogp);
}
