import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ROOT } from './paths';

export interface LoadOptions {
    readonly url: string;
    readonly body: string;
    readonly connections: number;
    readonly durationSec: number;
    /** Replace `[<id>]` in the body with a fresh id per request (autocannon -I). */
    readonly idReplacement?: boolean;
}

export interface LoadResult {
    readonly requests: number;
    readonly reqPerSec: number;
    readonly latencyP50Ms: number;
    readonly latencyP99Ms: number;
    readonly latencyMaxMs: number;
    readonly non2xx: number;
    readonly errors: number;
    readonly timeouts: number;
}

interface AutocannonJson {
    requests: { average: number; total: number; sent: number };
    latency: { p50: number; p99: number; max: number };
    non2xx: number;
    errors: number;
    timeouts: number;
    duration: number;
}

let bodyDir: string | undefined;

/**
 * Runs autocannon's CLI in its own process (never in the process being measured, nor in
 * the orchestrator), and returns its JSON summary. Bounded by `durationSec` plus a margin.
 */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
    bodyDir ??= mkdtempSync(path.join(tmpdir(), 'pn-bench-'));
    const bodyFile = path.join(bodyDir, `body-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(bodyFile, options.body);
    const args = [
        path.join(ROOT, 'node_modules', 'autocannon', 'autocannon.js'),
        '-c', String(options.connections), '-d', String(options.durationSec),
        '-m', 'POST', '-H', 'content-type=application/json', '-i', bodyFile,
        '-j', '-n', '-t', '10'
    ];
    if (options.idReplacement) {
        args.push('-I');
    }
    args.push(options.url);
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: cleanEnv() });
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => {
            out += d.toString();
        });
        child.stderr.on('data', (d: Buffer) => {
            err += d.toString();
        });
        const guard = setTimeout(() => child.kill('SIGKILL'), (options.durationSec + 30) * 1000);
        child.once('exit', (code) => {
            clearTimeout(guard);
            try {
                const j = JSON.parse(out) as AutocannonJson;
                resolve({
                    requests: j.requests.total,
                    reqPerSec: j.requests.total / j.duration,
                    latencyP50Ms: j.latency.p50,
                    latencyP99Ms: j.latency.p99,
                    latencyMaxMs: j.latency.max,
                    non2xx: j.non2xx,
                    errors: j.errors,
                    timeouts: j.timeouts
                });
            } catch {
                reject(new Error(`autocannon exited ${String(code)}: ${err.slice(-500)}${out.slice(-500)}`));
            }
        });
    });
}

/** The environment for helper processes: without the probe preload. */
export function cleanEnv(): NodeJS.ProcessEnv {
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    delete env.PN_BENCH_PROBE_PORT;
    delete env.PN_BENCH_CPU_PROF;
    return env;
}
