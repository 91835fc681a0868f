import { runLoad, LoadResult } from './lib/autocannon';
import { rssSampler } from './lib/proc';
import { median, round, scalingSteps } from './lib/stats';
import { Target } from './lib/targets';

/**
 * One HTTP load scenario, run against the service and against its same-run baseline,
 * alternated A B A B. `{{hex}}` in the path or body becomes a fresh number per request
 * (bench/load-runner.ts).
 */
export interface HttpScenario {
    /** Which table it belongs to: 'accept' (today's bench setup), 'independent', 'matrix', 'mongoosepush'. */
    readonly group: string;
    /** `/v1/message/apns` ... as shown in the tables. */
    readonly endpoint: string;
    readonly path: string;
    readonly body: string;
    readonly tokensPerRequest: number;
}

export interface AbOptions {
    readonly connections: number;
    readonly durationSec: number;
    readonly warmupSec: number;
    readonly rounds: number;
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

export interface AbResult {
    readonly group: string;
    readonly endpoint: string;
    readonly tokensPerRequest: number;
    readonly service: SideSummary;
    readonly baseline: SideSummary;
    /** service median req/s / baseline median req/s. */
    readonly ratio: number;
}

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

/**
 * One scenario: the same load against the service and the baseline, alternated A B A B so
 * that drifts in machine load hit both sides alike. Each run is preceded by a short warm-up
 * of the same target (JIT, keep-alive sockets), which is not counted.
 */
export async function abScenario(service: Target, baseline: Target, s: HttpScenario, o: AbOptions): Promise<AbResult> {
    const runs: Record<'service' | 'baseline', RunStats[]> = { service: [], baseline: [] };
    for (let i = 0; i < o.rounds; i++) {
        for (const target of [service, baseline]) {
            const spec = { origin: target.baseUrl, path: s.path, body: s.body, connections: o.connections };
            if (o.warmupSec > 0) {
                await runLoad({ ...spec, durationSec: o.warmupSec });
            }
            const sampler = rssSampler(target.pid);
            const r = { ...await runLoad({ ...spec, durationSec: o.durationSec }), peakRss: sampler.stop() };
            runs[target.name].push(r);
            o.log(`  ${s.group} ${s.endpoint} x${s.tokensPerRequest} round ${i + 1} ${target.name.padEnd(8)} ` +
                `${round(r.reqPerSec)} req/s p50 ${r.latencyP50Ms} ms p99 ${r.latencyP99Ms} ms ` +
                `rss ${round(r.peakRss / 2 ** 20, 1)} MB${r.non2xx || r.errors ? ` non2xx ${r.non2xx} errors ${r.errors} ${JSON.stringify(r.statusCodes)}` : ''}`);
        }
    }
    const sv = summarise(runs.service, s.tokensPerRequest);
    const b = summarise(runs.baseline, s.tokensPerRequest);
    return {
        group: s.group, endpoint: s.endpoint, tokensPerRequest: s.tokensPerRequest, service: sv, baseline: b,
        ratio: round(sv.reqPerSec / b.reqPerSec, 3)
    };
}

/** Per-token cost (CPU-seconds per token at saturation = 1 / tokens/s) between sizes. */
export function acceptScaling(results: readonly AbResult[]) {
    const sorted = [...results].sort((a, b) => a.tokensPerRequest - b.tokensPerRequest);
    return {
        service: scalingSteps(sorted.map((r) => ({ x: r.tokensPerRequest, costPerUnit: 1 / r.service.tokensPerSec }))),
        baseline: scalingSteps(sorted.map((r) => ({ x: r.tokensPerRequest, costPerUnit: 1 / r.baseline.tokensPerSec })))
    };
}
