import { fork } from 'node:child_process';
import * as path from 'node:path';
import { cleanEnv } from './lib/autocannon';
import { compileDeliveryWorker } from './lib/compile';
import { ROOT } from './lib/paths';
import { round, scalingSteps } from './lib/stats';
import type { DeliveryMeasurement, DeliveryPlan, MemoryMeasurement, WorkerMessage } from './delivery-worker';

export interface DeliveryResults {
    readonly memory?: MemoryMeasurement;
    readonly runs: (DeliveryMeasurement & { fakeCpuMsPer1kTokens: number })[];
}

/**
 * Forks bench/delivery-worker.ts (compiled to plain JS, --expose-gc) and hands it the plan; the fakes run
 * in this process. Returns what the worker measured, plus the fakes' CPU per 1000 tokens
 * (this process is otherwise idle while the worker runs).
 */
export function runDelivery(plan: DeliveryPlan, log: (line: string) => void, profileDir?: string): Promise<DeliveryResults> {
    const child = fork(compileDeliveryWorker(), [], {
        cwd: ROOT,
        // PN_BENCH_NODE: another node binary for the measured worker only (the fakes stay on
        // this one), e.g. the Node 24 of the Docker image, to compare runtimes side by side.
        ...(process.env.PN_BENCH_NODE ? { execPath: process.env.PN_BENCH_NODE } : {}),
        // PN_BENCH_WORKER_ARGS: extra node flags for the measured worker (e.g. --trace-gc).
        execArgv: ['--expose-gc', ...(process.env.PN_BENCH_WORKER_ARGS?.split(' ').filter(Boolean) ?? []),
            ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, '--cpu-prof-name=delivery-worker.cpuprofile'] : [])],
        env: cleanEnv(),
        stdio: ['ignore', 'inherit', 'inherit', 'ipc']
    });
    const runs: DeliveryResults['runs'] = [];
    let memory: MemoryMeasurement | undefined;
    let cpuAtStart = process.cpuUsage();
    const overallMs = plan.timeoutMs * (plan.scenarios.length + 3) + 120_000;
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
                    runs.push({ ...r, fakeCpuMsPer1kTokens: round((c.user + c.system) / r.tokens, 2) });
                    log(`  delivery ${r.provider} ${r.tokens} (worker node ${r.node}): ${r.tokensPerSec} tokens/s in ${r.seconds} s, ` +
                        `event loop p99 ${r.eventLoopP99Ms} ms max ${r.eventLoopMaxMs} ms, ` +
                        `${JSON.stringify(r.outcomes)}${r.timedOut ? ' TIMED OUT' : ''}`);
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
                    child.once('exit', () => resolve({ memory, runs }));
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

/** Per-token delivery time between queue depths (seconds per token), per provider. */
export function deliveryScaling(runs: DeliveryResults['runs']) {
    const out: Record<string, ReturnType<typeof scalingSteps>> = {};
    for (const p of ['apns', 'fcm']) {
        const points = runs.filter((r) => r.provider === p).sort((a, b) => a.tokens - b.tokens)
            .filter((r, i, all) => i === 0 || r.tokens !== all[i - 1].tokens)
            .map((r) => ({ x: r.tokens, costPerUnit: r.seconds / r.tokens }));
        if (points.length > 1) {
            out[p] = scalingSteps(points);
        }
    }
    return out;
}
