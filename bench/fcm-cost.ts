/**
 * What the FCM provider costs, measured in a worker process that runs the compiled provider
 * (dist/) against the fake FCM running here (so the fake's CPU is not charged to it):
 * - CPU per token (user + system, µs) for `--tokens` tokens (default 20 000) sent as 500-token
 *   batches, `--concurrency` (default 4) batches at once, after a 2 000-token warm-up;
 * - idle RSS: `node -e "require('dist/providers/fcm/fcm-provider')"` after a GC, against bare
 *   node, and the worker's RSS once the provider registry (createProviders() in builds before
 *   the core rewrite) has built the FCM and APNs providers as the service does (before any send).
 * Works on any commit with the provider either behind the old seam (createProviders().fcm,
 * send(batch) => results) or the new one (createFcmProvider, send(batch, onResults)).
 *
 *     npm run build && npx ts-node bench/fcm-cost.ts [--tokens 20000] [--runs 3] [--root DIR]
 *
 * `--root DIR` measures the dist/ (and node_modules/) of another tree, e.g. an older build
 * kept aside, against the same fakes.
 */
import { execFileSync, fork } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import { startProviderFakes } from '../test/fakes/provider-fakes';
import { testConf } from '../test/helpers/service-harness';
import { configFor } from '../test/providers/helpers';
import { BENCH_OUT, ROOT } from './lib/paths';

interface WorkerResult { cpuUsPerToken: number; userUsPerToken: number; systemUsPerToken: number; builtHeapMB: number; tokensPerSec: number; builtRssMB: number; afterRssMB: number; outcomes: Record<string, number> }

function arg(name: string, fallback: number): number {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

function stringArg(name: string, fallback: string): string {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : fallback;
}

function compileWorker(): string {
    mkdirSync(BENCH_OUT, { recursive: true });
    const src = readFileSync(path.join(ROOT, 'bench', 'fcm-cost-worker.ts'), 'utf8');
    const js = ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
    const file = path.join(BENCH_OUT, 'fcm-cost-worker.js');
    writeFileSync(file, js);
    return file;
}

function idleRssMB(code: string, cwd: string): number {
    const out = execFileSync(process.execPath, ['--expose-gc', '-e',
        `${code}; global.gc(); setTimeout(() => { global.gc(); process.stdout.write(String(process.memoryUsage().rss)); }, 300);`], { cwd });
    return Number(out.toString()) / 1048576;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
    const tokens = arg('tokens', 20000);
    const runs = arg('runs', 3);
    const concurrency = arg('concurrency', 4);
    const root = path.resolve(stringArg('root', ROOT));
    const worker = compileWorker();
    const bare: number[] = [];
    const required: number[] = [];
    for (let i = 0; i < runs; i++) {
        bare.push(idleRssMB('', root));
        required.push(idleRssMB(`require(${JSON.stringify(path.join(root, 'dist', 'providers', 'fcm', 'fcm-provider'))})`, root));
    }
    const fakes = await startProviderFakes();
    fakes.fcm.record = false;
    const config = configFor(fakes);
    const rawConf = testConf({ fcm: fakes.conf.fcm, apns: fakes.conf.apns });
    const results: WorkerResult[] = [];
    try {
        for (let i = 0; i < runs; i++) {
            results.push(await new Promise<WorkerResult>((resolve, reject) => {
                const child = fork(worker, [], { execArgv: ['--expose-gc', ...(process.env.FCM_COST_WORKER_ARGS?.split(' ').filter(Boolean) ?? [])], stdio: 'inherit' });
                child.on('message', (m: { result?: WorkerResult; error?: string }) => {
                    if (m.error) {
                        reject(new Error(m.error));
                    } else if (m.result) {
                        resolve(m.result);
                    }
                });
                child.on('exit', (code) => code !== 0 && reject(new Error(`worker exited ${code}`)));
                child.send({ root, config, rawConf, tokens, concurrency });
            }));
        }
    } finally {
        await fakes.close();
    }
    const pick = (f: (r: WorkerResult) => number) => median(results.map(f)).toFixed(1);
    console.log(JSON.stringify({ root, node: process.version, tokens, concurrency, runs, outcomes: results[0].outcomes }));
    console.log(`idle RSS, bare node:                      ${median(bare).toFixed(1)} MB`);
    console.log(`idle RSS, require(fcm-provider):          ${median(required).toFixed(1)} MB (+${(median(required) - median(bare)).toFixed(1)})`);
    console.log(`worker RSS, providers built (registry):   ${pick((r) => r.builtRssMB)} MB`);
    console.log(`  of which V8 heap used:                  ${pick((r) => r.builtHeapMB)} MB`);
    console.log(`worker RSS after ${tokens} tokens:         ${pick((r) => r.afterRssMB)} MB`);
    console.log(`CPU per token (user+system):              ${pick((r) => r.cpuUsPerToken)} µs  [${results.map((r) => r.cpuUsPerToken.toFixed(1)).join(', ')}]`);
    console.log(`  of which user / system:                 ${pick((r) => r.userUsPerToken)} / ${pick((r) => r.systemUsPerToken)} µs`);
    console.log(`tokens/s (fake on the same machine):      ${pick((r) => r.tokensPerSec)}`);
}

main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
});
