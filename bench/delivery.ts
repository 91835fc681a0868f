import { fork } from 'node:child_process';
import * as path from 'node:path';
import type { ProviderKind } from '../src/push/provider';
import { cleanEnv } from './lib/autocannon';
import { compileDeliveryWorker } from './lib/compile';
import { ROOT } from './lib/paths';
import { median, round, scalingSteps } from './lib/stats';
import type { DeliveryMeasurement, DeliveryPlan, MemoryMeasurement, Side, WorkerMessage } from './delivery-worker';

export type DeliveryRun = DeliveryMeasurement & {
    /** CPU of the fakes' process (this one, otherwise idle meanwhile) per token, µs. */
    fakeCpuUsPerToken: number;
};

/** Medians over the rounds of one kind and side. */
export interface DeliverySide {
    readonly tokens: number;
    readonly rounds: number;
    readonly tokensPerSec: number;
    readonly cpuUsPerToken: number;
    readonly userUsPerToken: number;
    readonly systemUsPerToken: number;
    readonly eventLoopP99Ms: number;
    readonly eventLoopMaxMs: number;
    readonly fakeCpuUsPerToken: number;
    readonly allDelivered: boolean;
}

export interface DeliverySummary {
    readonly kind: ProviderKind;
    readonly service: DeliverySide;
    readonly floor: DeliverySide;
    /** service CPU per token / floor CPU per token. */
    readonly cpuRatio: number;
}

export interface DeliveryResults {
    readonly memory?: MemoryMeasurement;
    readonly runs: DeliveryRun[];
    readonly summary: DeliverySummary[];
}

function side(runs: readonly DeliveryRun[]): DeliverySide {
    return {
        tokens: runs[0]?.tokens ?? 0,
        rounds: runs.length,
        tokensPerSec: round(median(runs.map((r) => r.tokensPerSec))),
        cpuUsPerToken: round(median(runs.map((r) => r.cpuUsPerToken)), 1),
        userUsPerToken: round(median(runs.map((r) => r.userUsPerToken)), 1),
        systemUsPerToken: round(median(runs.map((r) => r.systemUsPerToken)), 1),
        eventLoopP99Ms: round(median(runs.map((r) => r.eventLoopP99Ms)), 1),
        eventLoopMaxMs: round(median(runs.map((r) => r.eventLoopMaxMs)), 1),
        fakeCpuUsPerToken: round(median(runs.map((r) => r.fakeCpuUsPerToken)), 1),
        allDelivered: runs.every((r) => !r.timedOut && (r.outcomes.delivered ?? 0) === r.tokens)
    };
}

export function summariseDelivery(runs: readonly DeliveryRun[]): DeliverySummary[] {
    const kinds = [...new Set(runs.filter((r) => r.label.startsWith('round')).map((r) => r.kind))];
    return kinds.map((kind) => {
        const of = (s: Side) => runs.filter((r) => r.kind === kind && r.side === s && r.label.startsWith('round'));
        const service = side(of('service'));
        const floor = side(of('floor'));
        return { kind, service, floor, cpuRatio: floor.rounds > 0 ? round(service.cpuUsPerToken / floor.cpuUsPerToken, 2) : NaN };
    });
}

/**
 * Forks bench/delivery-worker.ts (compiled to plain JS, --expose-gc) on the measured Node and
 * hands it the plan; the fakes run in this process. Returns what the worker measured, plus
 * the fakes' CPU per token (this process is otherwise idle while the worker runs).
 */
export function runDelivery(plan: DeliveryPlan, log: (line: string) => void, profileDir?: string): Promise<DeliveryResults> {
    const child = fork(compileDeliveryWorker(), [], {
        cwd: ROOT,
        // PN_BENCH_NODE (set by --node): the measured worker's Node; the fakes stay on this one.
        ...(process.env.PN_BENCH_NODE ? { execPath: process.env.PN_BENCH_NODE } : {}),
        // PN_BENCH_WORKER_ARGS: extra node flags for the measured worker (e.g. --trace-gc).
        execArgv: ['--expose-gc', ...(process.env.PN_BENCH_WORKER_ARGS?.split(' ').filter(Boolean) ?? []),
            ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, '--cpu-prof-name=delivery-worker.cpuprofile'] : [])],
        env: cleanEnv(),
        stdio: ['ignore', 'inherit', 'inherit', 'ipc']
    });
    const runs: DeliveryRun[] = [];
    let memory: MemoryMeasurement | undefined;
    let cpuAtStart = process.cpuUsage();
    const measured = plan.kinds.length * plan.rounds * 2 + plan.depths.length + plan.kinds.length * 2;
    const overallMs = plan.timeoutMs * measured + 180_000;
    return new Promise((resolve, reject) => {
        const guard = setTimeout(() => {
            child.kill('SIGKILL');
            reject(new Error('delivery worker took too long'));
        }, overallMs);
        child.on('message', (m: WorkerMessage) => {
            switch (m.type) {
                case 'start':
                    log(`  delivery: ${m.name}`);
                    cpuAtStart = process.cpuUsage();
                    break;
                case 'log':
                    log(`  [worker] ${m.line}`);
                    break;
                case 'memory':
                    memory = m.result;
                    break;
                case 'delivery': {
                    const c = process.cpuUsage(cpuAtStart);
                    const r = m.result;
                    runs.push({ ...r, fakeCpuUsPerToken: round((c.user + c.system) / r.tokens, 1) });
                    log(`  delivery ${r.kind} ${r.side} ${r.label} ${r.tokens} (node ${r.node}): ${r.tokensPerSec} tokens/s in ${r.seconds} s, ` +
                        `${r.cpuUsPerToken} µs CPU/token (user ${r.userUsPerToken}, system ${r.systemUsPerToken}), ` +
                        `event loop p99 ${r.eventLoopP99Ms} ms max ${r.eventLoopMaxMs} ms, ${JSON.stringify(r.outcomes)}${r.timedOut ? ' TIMED OUT' : ''}`);
                    break;
                }
                case 'error':
                    clearTimeout(guard);
                    child.kill('SIGKILL');
                    reject(new Error(`delivery worker failed: ${m.message}`));
                    break;
                case 'done':
                    clearTimeout(guard);
                    // The worker exits by itself (so that --cpu-prof can write its profile).
                    child.removeAllListeners('exit');
                    child.once('exit', () => resolve({ memory, runs, summary: summariseDelivery(runs) }));
                    setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
                    break;
            }
        });
        child.once('exit', (code) => {
            clearTimeout(guard);
            reject(new Error(`delivery worker exited (${String(code)}) before it was done`));
        });
        child.send(profileDir ? { ...plan, stallsFile: path.join(profileDir, 'delivery-stalls.json') } : plan);
    });
}

/** Per-token delivery time between queue depths (seconds per token), APNs service runs. */
export function deliveryScaling(runs: readonly DeliveryRun[]) {
    const points = runs.filter((r) => r.kind === 'apns' && r.side === 'service' && r.label !== 'warm-up')
        .sort((a, b) => a.tokens - b.tokens)
        .filter((r, i, all) => i === 0 || r.tokens !== all[i - 1].tokens)
        .map((r) => ({ x: r.tokens, costPerUnit: r.seconds / r.tokens }));
    return points.length > 1 ? scalingSteps(points) : [];
}
