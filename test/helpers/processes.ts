import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as yaml from 'js-yaml';

export const ROOT = path.resolve(__dirname, '..', '..');

/** A port that was free a moment ago (service-runner workers cannot share port 0). */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const s = createServer();
        s.once('error', reject);
        s.listen(0, '127.0.0.1', () => {
            const { port } = s.address() as { port: number };
            s.close(() => resolve(port));
        });
    });
}

export interface RunnerProcess {
    readonly child: ChildProcess;
    readonly port: number;
    readonly metricsPort: number;
    output(): string;
    /** Resolves with the exit code (or signal name). */
    exited: Promise<number | string>;
    /**
     * Resolves once the child's stdout/stderr are closed: 'exit' can come before the last
     * output has been read, so read output() for assertions after this (forked workers that
     * outlive the master keep the pipes open: race it with a timeout).
     */
    closed: Promise<void>;
    /**
     * SIGKILLs whatever is left of the process group (cluster workers that outlived their
     * master). Only with `{ detached: true }`; a no-op otherwise.
     */
    killGroup(): void;
}

export interface RunnerOptions {
    /** Own process group, so killGroup() can reach forked workers too. */
    readonly detached?: boolean;
    /** service-runner's logging.level (default 'info'). */
    readonly logLevel?: string;
    /** The node binary to run it on (default: the one running this process); the bench's --node. */
    readonly node?: string;
    /** Extra environment variables (e.g. NODE_EXTRA_CA_CERTS), over this process's. */
    readonly env?: Readonly<Record<string, string>>;
}

/**
 * Starts the built service (dist/server.js) under the real service-runner, as production
 * does, with a generated config. Needs `npm run build` first (npm test does it).
 */
export async function startRunner(numWorkers: number, conf: Record<string, unknown> = {},
    options: RunnerOptions = {}): Promise<RunnerProcess> {
    if (!existsSync(path.join(ROOT, 'dist', 'server.js'))) {
        throw new Error('dist/server.js is missing: run `npm run build` first');
    }
    const port = await freePort();
    const metricsPort = await freePort();
    const dir = mkdtempSync(path.join(tmpdir(), 'pn-runner-'));
    const file = path.join(dir, 'config.yaml');
    writeFileSync(file, yaml.dump({
        num_workers: numWorkers,
        worker_heartbeat_timeout: false,
        logging: { level: options.logLevel ?? 'info' },
        metrics: [{ type: 'prometheus', port: metricsPort }],
        services: [{
            name: 'push-notifications',
            module: path.join(ROOT, 'dist', 'service.js'),
            entrypoint: 'default',
            conf: { port, interface: '127.0.0.1', shutdown_timeout: 5, ...conf }
        }]
    }));
    const child = spawn(options.node ?? process.execPath, [path.join(ROOT, 'dist', 'server.js'), '-c', file],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: options.detached === true,
            ...(options.env ? { env: { ...process.env, ...options.env } } : {}) });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
        out += d.toString();
    });
    const exited = new Promise<number | string>((resolve) => {
        child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
    });
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const killGroup = (): void => {
        if (options.detached && child.pid !== undefined) {
            try {
                process.kill(-child.pid, 'SIGKILL');
            } catch {
                // the group is gone already
            }
        }
    };
    return { child, port, metricsPort, output: () => out, exited, closed, killGroup };
}

/** Polls a URL until it answers `status` (default 200), or fails after `ms`. */
export async function waitFor(url: string, ms = 15000, status = 200): Promise<Response> {
    const deadline = Date.now() + ms;
    let last = '';
    while (Date.now() < deadline) {
        try {
            const res = await fetch(url);
            if (res.status === status) {
                return res;
            }
            last = `status ${res.status}`;
        } catch (e) {
            last = (e as Error).message;
        }
        await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${url} did not answer ${status} within ${ms} ms (${last})`);
}

/** Waits until the process's output matches `pattern` (e.g. service-runner's 'startup finished'). */
export async function waitForOutput(p: RunnerProcess, pattern: RegExp, ms = 20000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pattern.test(p.output())) {
        if (Date.now() > deadline) {
            throw new Error(`no output matching ${String(pattern)} within ${ms} ms\n${p.output().slice(-3000)}`);
        }
        await new Promise((r) => setTimeout(r, 50));
    }
}

/**
 * Scrapes the process's Prometheus port every `everyMs` until it has exited, and resolves with
 * the last exposition it got (what the service counted last, e.g. during its shutdown drain;
 * '' if none). Start it before the signal.
 */
export async function lastMetricsBeforeExit(p: RunnerProcess, everyMs = 50): Promise<string> {
    let gone = false;
    void p.exited.then(() => {
        gone = true;
    });
    let last = '';
    while (!gone) {
        try {
            const res = await fetch(`http://127.0.0.1:${p.metricsPort}/metrics`);
            const text = await res.text();
            if (res.status === 200) {
                last = text;
            }
        } catch {
            // not listening yet, or already gone
        }
        await new Promise((r) => setTimeout(r, everyMs));
    }
    return last;
}
