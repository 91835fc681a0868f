import { spawn } from 'node:child_process';
import { freePort, startRunner, waitFor } from '../../test/helpers/processes';
import { cleanEnv } from './autocannon';
import { measuredNode } from './node';
import { rssOf } from './proc';
import { sleep } from './stats';

/** A server process under test: the service or the bare baseline. */
export interface Target {
    readonly name: 'service' | 'baseline';
    readonly pid: number;
    readonly baseUrl: string;
    /** The probe's control URL inside the process (event loop, heap, gc), when preloaded. */
    readonly probeUrl?: string;
    readonly metricsUrl?: string;
    output(): string;
    stop(): Promise<void>;
}

function killAfter(child: { kill(sig: NodeJS.Signals): boolean }, exited: Promise<unknown>, ms: number): Promise<void> {
    child.kill('SIGTERM');
    return Promise.race([exited.then(() => undefined), sleep(ms).then(() => {
        child.kill('SIGKILL');
    })]);
}

/**
 * A baseline server (bench/baseline-server.ts) on the measured Node: `args` after the port
 * (e.g. `relay <target>`); `probe` preloads the probe.
 */
export async function startBaseline(script: string, o: { probe?: string; args?: readonly string[] } = {}): Promise<Target> {
    const probe = o.probe;
    const port = await freePort();
    const probePort = probe ? await freePort() : 0;
    const env = cleanEnv();
    if (probe) {
        env.NODE_OPTIONS = `--require ${probe}`;
        env.PN_BENCH_PROBE_PORT = String(probePort);
    }
    const child = spawn(measuredNode(), [script, String(port), ...(o.args ?? [])], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
        out += d.toString();
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const deadline = Date.now() + 10000;
    while (!out.includes('listening') && Date.now() < deadline) {
        await sleep(20);
    }
    if (!out.includes('listening')) {
        child.kill('SIGKILL');
        throw new Error(`baseline server did not start: ${out}`);
    }
    return {
        name: 'baseline', pid: child.pid!, baseUrl: `http://127.0.0.1:${port}`,
        probeUrl: probe ? `http://127.0.0.1:${probePort}` : undefined,
        output: () => out,
        stop: () => killAfter(child, exited, 5000)
    };
}

export interface ServiceStartOptions {
    /** The `conf` block (merged over startRunner's port/interface/shutdown_timeout). */
    readonly conf: Record<string, unknown>;
    /** Absolute path of the transpiled probe, preloaded with NODE_OPTIONS. */
    readonly probe?: string;
    /** Extra environment for the service process (e.g. NODE_EXTRA_CA_CERTS for fakes). */
    readonly env?: Record<string, string>;
    /** Write a CPU profile of the service here (through the probe) when it is stopped. */
    readonly cpuProfile?: string;
    /** service-runner's logging.level (default info). */
    readonly logLevel?: string;
}

/**
 * The real service, as production runs it: dist/server.js under service-runner with info
 * logs (or `logLevel`) and Prometheus metrics, num_workers: 0 (one process, like-for-like with the
 * single-process baseline). The probe is preloaded through NODE_OPTIONS, so the service
 * needs no benchmark hook.
 */
export async function startService(options: ServiceStartOptions): Promise<Target> {
    const probePort = options.probe ? await freePort() : 0;
    // startRunner spawns with the inherited environment: set ours for the duration of the spawn.
    const saved = { ...process.env };
    Object.assign(process.env, cleanEnv(), options.env ?? {});
    delete process.env.NODE_OPTIONS;
    delete process.env.PN_BENCH_PROBE_PORT;
    if (options.probe) {
        process.env.NODE_OPTIONS = `--require ${options.probe}`;
        process.env.PN_BENCH_PROBE_PORT = String(probePort);
        if (options.cpuProfile) {
            process.env.PN_BENCH_CPU_PROF = options.cpuProfile;
        }
    }
    let runner;
    try {
        runner = await startRunner(0, options.conf, { node: measuredNode(), logLevel: options.logLevel });
    } finally {
        for (const k of Object.keys(process.env)) {
            if (!(k in saved)) {
                delete process.env[k];
            }
        }
        Object.assign(process.env, saved);
    }
    const baseUrl = `http://127.0.0.1:${runner.port}`;
    try {
        await Promise.race([
            waitFor(`${baseUrl}/readyz`, 30000),
            runner.exited.then((code) => {
                throw new Error(`service exited (${String(code)}) during start-up`);
            })
        ]);
    } catch (e) {
        runner.child.kill('SIGKILL');
        throw new Error(`${(e as Error).message}\n--- service output ---\n${runner.output().slice(-3000)}`);
    }
    // Drop what the harness keeps of the service's log lines: only the tail matters here.
    return {
        name: 'service', pid: runner.child.pid!, baseUrl,
        probeUrl: options.probe ? `http://127.0.0.1:${probePort}` : undefined,
        metricsUrl: `http://127.0.0.1:${runner.metricsPort}/metrics`,
        output: () => runner.output(),
        stop: async () => {
            if (options.cpuProfile && options.probe) {
                await fetch(`http://127.0.0.1:${probePort}/profile`, { method: 'POST' }).catch(() => undefined);
            }
            await killAfter(runner.child, runner.exited, 15000);
        }
    };
}

export interface ProbeStats {
    pid: number;
    rss: number;
    heapUsed: number;
    heapTotal: number;
    external: number;
    arrayBuffers: number;
    eventLoop: { count: number; p50Ms: number; p99Ms: number; maxMs: number; meanMs: number };
}

export async function probe(target: Target, action: 'stats' | 'reset' | 'gc' = 'stats'): Promise<ProbeStats> {
    if (!target.probeUrl) {
        throw new Error(`${target.name} runs without the probe`);
    }
    const res = await fetch(`${target.probeUrl}/${action}`, { method: action === 'stats' ? 'GET' : 'POST' });
    return await res.json() as ProbeStats;
}

export function rss(target: Target): number {
    return rssOf(target.pid);
}

/** Sums a Prometheus counter's samples whose labels contain every `match` pair. */
export async function metricSum(target: Target, name: string, match: Record<string, string> = {}): Promise<number> {
    if (!target.metricsUrl) {
        return NaN;
    }
    const text = await (await fetch(target.metricsUrl)).text();
    let sum = 0;
    for (const line of text.split('\n')) {
        if (!line.startsWith(name)) {
            continue;
        }
        const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
        if (!m || m[1] !== name) {
            continue;
        }
        const labels = m[2] ?? '';
        if (Object.entries(match).every(([k, v]) => labels.includes(`${k}="${v}"`))) {
            sum += Number(m[3]);
        }
    }
    return sum;
}
