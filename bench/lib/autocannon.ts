import { spawn } from 'node:child_process';
import * as path from 'node:path';
import type { LoadSpec, LoadSummary } from '../load-runner';
import { BENCH_OUT } from './paths';

export type LoadResult = LoadSummary;

/**
 * Runs one load (bench/load-runner.ts, autocannon, in its own process on the Node running
 * the bench: never in the process being measured, nor in the orchestrator) and returns its
 * summary. Bounded by `durationSec` plus a margin. compileHelpers() must have run.
 */
export function runLoad(spec: LoadSpec): Promise<LoadResult> {
    const script = path.join(BENCH_OUT, 'load-runner.js');
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [script, JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'pipe'], env: cleanEnv() });
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => {
            out += d.toString();
        });
        child.stderr.on('data', (d: Buffer) => {
            err += d.toString();
        });
        const guard = setTimeout(() => child.kill('SIGKILL'), (spec.durationSec + 30) * 1000);
        child.once('exit', (code) => {
            clearTimeout(guard);
            try {
                resolve(JSON.parse(out) as LoadResult);
            } catch {
                reject(new Error(`load runner exited ${String(code)}: ${err.slice(-500)}${out.slice(-500)}`));
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
