/**
 * Preloaded into a measured process with `NODE_OPTIONS=--require .bench/bench/probe.js`
 * (no hook in the service needed). When PN_BENCH_PROBE_PORT is set it records event-loop
 * delay with perf_hooks.monitorEventLoopDelay and answers, on 127.0.0.1:<port>:
 *   GET  /stats  memory (rss, heap) and event-loop delay (ms) since the last reset
 *   POST /reset  clears the event-loop histogram
 *   POST /gc     full garbage collection (twice), then /stats
 *   POST /profile  when PN_BENCH_CPU_PROF=<file> was set: stops the CPU profile started at
 *                  load (node:inspector; --cpu-prof is not allowed in NODE_OPTIONS) and writes it
 * The probe's server is unref'd: it never keeps the process alive.
 */
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Session } from 'node:inspector';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const port = Number(process.env.PN_BENCH_PROBE_PORT ?? 0);

function exposeGc(): () => void {
    const existing = (globalThis as { gc?: () => void }).gc;
    if (existing) {
        return existing;
    }
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
}

if (port > 0) {
    // Only the process that was asked: children it spawns must not take the same port.
    delete process.env.PN_BENCH_PROBE_PORT;
    const gc = exposeGc();
    const profileFile = process.env.PN_BENCH_CPU_PROF;
    delete process.env.PN_BENCH_CPU_PROF;
    let session: Session | undefined;
    if (profileFile) {
        session = new Session();
        session.connect();
        session.post('Profiler.enable', () => session?.post('Profiler.start'));
    }
    const histogram = monitorEventLoopDelay({ resolution: 5 });
    histogram.enable();
    const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
    const stats = (): Record<string, unknown> => {
        const m = process.memoryUsage();
        return {
            pid: process.pid,
            rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers,
            eventLoop: {
                count: histogram.count,
                p50Ms: ms(histogram.percentile(50)), p99Ms: ms(histogram.percentile(99)),
                maxMs: ms(histogram.max), meanMs: ms(histogram.mean)
            }
        };
    };
    const server = createServer((req, res) => {
        if (req.method === 'POST' && req.url === '/reset') {
            histogram.reset();
        } else if (req.method === 'POST' && req.url === '/gc') {
            gc();
            gc();
        } else if (req.method === 'POST' && req.url === '/profile' && session && profileFile) {
            session.post('Profiler.stop', (err, result) => {
                if (!err) {
                    writeFileSync(profileFile, JSON.stringify(result.profile));
                }
                res.writeHead(err ? 500 : 200, { 'content-type': 'application/json' }).end(JSON.stringify({ file: profileFile }));
            });
            return;
        } else if (req.url !== '/stats') {
            res.writeHead(404).end();
            return;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats()));
    });
    server.listen(port, '127.0.0.1');
    server.unref();
}
