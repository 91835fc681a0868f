import { ProviderName } from '../src/push/push-request';
import { runLoad, LoadResult } from './lib/autocannon';
import { median, round, scalingSteps } from './lib/stats';
import { rssSampler } from './lib/proc';
import { loadBody } from './lib/tokens';
import { Target } from './lib/targets';

export interface AcceptOptions {
    readonly connections: number;
    readonly durationSec: number;
    readonly warmupSec: number;
    readonly rounds: number;
    /** autocannon -I: `[<id>]` in the body becomes a fresh id per request. */
    readonly uniqueTokens?: boolean;
    readonly log: (line: string) => void;
}

export interface RunStats extends LoadResult {
    /** Peak RSS of the server process during the run, bytes. */
    readonly peakRss: number;
}

export interface SideSummary {
    readonly reqPerSec: number;
    readonly tokensPerSec: number;
    readonly latencyP50Ms: number;
    readonly latencyP99Ms: number;
    readonly peakRssMB: number;
    readonly non2xx: number;
    readonly errors: number;
    readonly runs: readonly RunStats[];
}

export interface AcceptResult {
    readonly provider: ProviderName;
    readonly tokensPerRequest: number;
    readonly service: SideSummary;
    readonly baseline: SideSummary;
    /** service median req/s / baseline median req/s. */
    readonly ratio: number;
    readonly meetsRatio: boolean;
    readonly meetsP99: boolean;
}

const TARGET_RATIO = 0.5;
const TARGET_P99_MS = 5;

function summarise(runs: RunStats[], tokensPerRequest: number): SideSummary {
    const rps = median(runs.map((r) => r.reqPerSec));
    return {
        reqPerSec: round(rps),
        tokensPerSec: round(rps * tokensPerRequest),
        latencyP50Ms: median(runs.map((r) => r.latencyP50Ms)),
        latencyP99Ms: median(runs.map((r) => r.latencyP99Ms)),
        peakRssMB: round(Math.max(...runs.map((r) => r.peakRss)) / 2 ** 20, 1),
        non2xx: runs.reduce((s, r) => s + r.non2xx, 0),
        errors: runs.reduce((s, r) => s + r.errors + r.timeouts, 0),
        runs
    };
}

async function loadOnce(target: Target, provider: ProviderName, body: string, durationSec: number,
    connections: number, idReplacement: boolean): Promise<RunStats> {
    const sampler = rssSampler(target.pid);
    const r = await runLoad({ url: `${target.baseUrl}/v1/message/${provider}`, body, connections, durationSec, idReplacement });
    return { ...r, peakRss: sampler.stop() };
}

/**
 * One scenario: the same load against the service and the baseline, alternated A B A B so
 * that drifts in machine load hit both sides alike. Each run is preceded by a short warm-up
 * of the same target (JIT, keep-alive sockets), which is not counted.
 */
export async function acceptScenario(service: Target, baseline: Target, provider: ProviderName,
    tokensPerRequest: number, o: AcceptOptions): Promise<AcceptResult> {
    const body = loadBody(provider, tokensPerRequest, o.uniqueTokens ? '[<id>]-' : 'load');
    const runs: Record<'service' | 'baseline', RunStats[]> = { service: [], baseline: [] };
    for (let i = 0; i < o.rounds; i++) {
        for (const target of [service, baseline]) {
            if (o.warmupSec > 0) {
                await runLoad({ url: `${target.baseUrl}/v1/message/${provider}`, body,
                    connections: o.connections, durationSec: o.warmupSec, idReplacement: o.uniqueTokens });
            }
            const r = await loadOnce(target, provider, body, o.durationSec, o.connections, o.uniqueTokens ?? false);
            runs[target.name].push(r);
            o.log(`  accept ${provider} x${tokensPerRequest} round ${i + 1} ${target.name.padEnd(8)} ` +
                `${round(r.reqPerSec)} req/s p50 ${r.latencyP50Ms} ms p99 ${r.latencyP99Ms} ms ` +
                `rss ${round(r.peakRss / 2 ** 20, 1)} MB${r.non2xx || r.errors ? ` non2xx ${r.non2xx} errors ${r.errors}` : ''}`);
        }
    }
    const s = summarise(runs.service, tokensPerRequest);
    const b = summarise(runs.baseline, tokensPerRequest);
    const ratio = round(s.reqPerSec / b.reqPerSec, 3);
    return {
        provider, tokensPerRequest, service: s, baseline: b, ratio,
        meetsRatio: ratio >= TARGET_RATIO && s.non2xx === 0,
        meetsP99: s.latencyP99Ms <= TARGET_P99_MS
    };
}

/** Per-token cost (CPU-seconds per token at saturation = 1 / tokens/s) between sizes. */
export function acceptScaling(results: readonly AcceptResult[]) {
    const sorted = [...results].sort((a, b) => a.tokensPerRequest - b.tokensPerRequest);
    return {
        service: scalingSteps(sorted.map((r) => ({ x: r.tokensPerRequest, costPerUnit: 1 / r.service.tokensPerSec }))),
        baseline: scalingSteps(sorted.map((r) => ({ x: r.tokensPerRequest, costPerUnit: 1 / r.baseline.tokensPerSec })))
    };
}
