/**
 * Soak test: `npm run soak` (10 minutes), `npm run soak -- --quick` (1 minute),
 * `npm run soak -- --minutes 30 --rate 200`.
 *
 * Runs the BUILT service (dist/server.js under service-runner, one process, num_workers 0,
 * as in dev) as a child process against the provider fakes and a fake wiki started here,
 * sends steady load (bounded: `--rate` requests per second of 5 tokens, at most
 * MAX_IN_FLIGHT requests outstanding, alternating FCM and APNs, a mix of ok-, dead- (deleted
 * on the wiki), transient- and ratelimit- tokens that heal after one failure), and samples
 * the child's memory every few seconds: heap used right after a full GC (the signal for a
 * leak) and RSS (what Kubernetes sees). A small preload (`-r`) in the child writes the
 * samples to a file, because service-runner exports no Node heap metrics and an IPC channel
 * would change how service-runner starts.
 *
 * It prints the series, then the growth per hour from a least-squares fit over the samples
 * after the warm-up (the first 20% are skipped), and exits 1 when heap growth exceeds
 * `--max-heap-mb-h` (default 20 MB/h) or RSS growth exceeds `--max-rss-mb-h` (default
 * 100 MB/h), or when the service died or lost tokens. A slope only counts as growth when the
 * series really rose: the median of the last quarter of the samples must also exceed the
 * median of the first (post-warm-up) quarter by more than NOISE_FLOOR_MB, since heap-after-GC
 * wobbles by a few MB with what is in flight and a one-minute fit turns that wobble into tens
 * of MB/h. A real 20 MB/h leak clears the floor within 10 minutes. Short runs extrapolate a
 * lot: take the 10-minute figure, on a quiet machine, as the one that counts.
 *
 * Bounded caches in the service fill during the first minutes and look like growth in a
 * short run: notably the MediaWiki outbox remembers hashes of deleted tokens for 10 minutes
 * (at most 50 000). The dead share of the load is kept small (2%) for that reason.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as yaml from 'js-yaml';
import { FakeMediaWiki, DEFAULT_FAKE_PASSWORD, DEFAULT_FAKE_USER } from '../test/fakes/mediawiki-server';
import { startProviderFakes } from '../test/fakes/provider-fakes';
import { freePort, waitFor } from '../test/helpers/processes';

const ROOT = path.resolve(__dirname, '..');

interface Options {
    minutes: number;
    rate: number;
    sampleSeconds: number;
    maxHeapMbPerHour: number;
    maxRssMbPerHour: number;
}

function parseArgs(argv: readonly string[]): Options {
    const o: Options = { minutes: 10, rate: 200, sampleSeconds: 5, maxHeapMbPerHour: 20, maxRssMbPerHour: 100 };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        const num = (): number => {
            const v = Number(argv[++i]);
            if (!Number.isFinite(v) || v <= 0) {
                throw new Error(`${a} needs a positive number`);
            }
            return v;
        };
        switch (a) {
            case '--quick': o.minutes = 1; o.sampleSeconds = 2; break;
            case '--minutes': o.minutes = num(); break;
            case '--rate': o.rate = num(); break;
            case '--sample-seconds': o.sampleSeconds = num(); break;
            case '--max-heap-mb-h': o.maxHeapMbPerHour = num(); break;
            case '--max-rss-mb-h': o.maxRssMbPerHour = num(); break;
            default: throw new Error(`unknown argument ${a} (see the comment at the top of scripts/soak.ts)`);
        }
    }
    return o;
}

/** Requests outstanding at most: the load stays bounded even if the service slows down. */
const MAX_IN_FLIGHT = 64;
const TOKENS_PER_REQUEST = 5;
/** Rise (last-quarter median over first-quarter median) below which a slope is noise. */
const NOISE_FLOOR_MB = { heap: 2, rss: 8 };

/** The child's memory probe: after a full GC, heap used and RSS, one JSON line per sample. */
const PROBE = `
const fs = require('node:fs');
const file = process.env.PN_SOAK_PROBE_FILE;
const every = Number(process.env.PN_SOAK_PROBE_MS) || 5000;
setInterval(() => {
    // Twice: the first full GC can leave garbage that only the second one frees (weak refs, finalizers).
    if (global.gc) { global.gc(); global.gc(); }
    const m = process.memoryUsage();
    fs.appendFileSync(file, JSON.stringify({ t: Date.now(), heapUsed: m.heapUsed, rss: m.rss, external: m.external }) + '\\n');
}, every).unref();
`;

interface Sample {
    t: number;
    heapUsed: number;
    rss: number;
    external: number;
}

function median(values: readonly number[]): number {
    const v = [...values].sort((a, b) => a - b);
    return v.length === 0 ? NaN : v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
}

/** Last-quarter median minus first-quarter median, in MB. */
function riseMb(values: readonly number[]): number {
    const q = Math.max(1, Math.floor(values.length / 4));
    return (median(values.slice(-q)) - median(values.slice(0, q))) / (1024 * 1024);
}

/** Least-squares slope of y over t (ms), in MB per hour. */
function slopeMbPerHour(points: readonly { t: number; y: number }[]): number {
    const n = points.length;
    if (n < 2) {
        return NaN;
    }
    const mt = points.reduce((s, p) => s + p.t, 0) / n;
    const my = points.reduce((s, p) => s + p.y, 0) / n;
    let num = 0;
    let den = 0;
    for (const p of points) {
        num += (p.t - mt) * (p.y - my);
        den += (p.t - mt) ** 2;
    }
    return den === 0 ? 0 : (num / den) * 3_600_000 / (1024 * 1024);
}

function pickToken(provider: 'fcm' | 'apns'): string {
    const r = Math.random();
    const prefix = r < 0.02 ? 'dead-' : r < 0.05 ? 'transient-' : r < 0.07 ? 'ratelimit-' : 'ok-';
    return prefix + (provider === 'apns' ? randomBytes(32).toString('hex') : randomBytes(96).toString('base64url'));
}

async function metricsSummary(port: number): Promise<Record<string, number>> {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const out: Record<string, number> = {};
    for (const line of text.split('\n')) {
        const m = /^push_notifications_messages_total\{[^}]*outcome="([a-z_]+)"[^}]*\}\s+([0-9.eE+-]+)$/.exec(line);
        if (m) {
            out[m[1]] = (out[m[1]] ?? 0) + Number(m[2]);
        }
        const d = /^push_notifications_mediawiki_deletions_total\{result="([a-z_]+)"\}\s+([0-9.eE+-]+)$/.exec(line);
        if (d) {
            out[`mw_${d[1]}`] = Number(d[2]);
        }
        const q = /^push_notifications_queue_tokens\{[^}]*\}\s+([0-9.eE+-]+)$/.exec(line);
        if (q) {
            out.queue_tokens = (out.queue_tokens ?? 0) + Number(q[1]);
        }
    }
    return out;
}

async function main(): Promise<number> {
    const o = parseArgs(process.argv.slice(2));
    if (!existsSync(path.join(ROOT, 'dist', 'server.js'))) {
        throw new Error('dist/server.js is missing: run `npm run build` (npm run soak does)');
    }
    const fakes = await startProviderFakes();
    const wiki = await FakeMediaWiki.start({ everyTokenExists: true });
    // The fakes live in THIS process: keep their logs off so only counters move.
    fakes.apns.record = false;
    fakes.fcm.record = false;
    for (const f of [fakes.apns, fakes.fcm]) {
        f.behaviour.retryAfterSeconds = 1;
        f.behaviour.failuresPerToken = 1;
    }
    const dir = mkdtempSync(path.join(tmpdir(), 'pn-soak-'));
    const probeFile = path.join(dir, 'samples.jsonl');
    writeFileSync(path.join(dir, 'probe.js'), PROBE);
    writeFileSync(probeFile, '');
    const port = await freePort();
    const metricsPort = await freePort();
    const configFile = path.join(dir, 'config.yaml');
    writeFileSync(configFile, yaml.dump({
        num_workers: 0,
        worker_heartbeat_timeout: false,
        logging: { level: 'warn' },
        metrics: [{ type: 'prometheus', port: metricsPort }],
        services: [{
            name: 'push-notifications',
            module: path.join(ROOT, 'dist', 'service.js'),
            entrypoint: 'default',
            conf: {
                port, interface: '127.0.0.1', shutdown_timeout: 10,
                user_agent: 'push-notifications-soak/1.0 (soak@example.org)',
                fcm: fakes.conf.fcm,
                apns: fakes.conf.apns,
                mwapi_req: { uri: wiki.uri },
                mw_subscription_manager_username: DEFAULT_FAKE_USER,
                mw_subscription_manager_password: DEFAULT_FAKE_PASSWORD,
                queueing: { flushTimeoutMs: 'random', flushTimeoutMin: 200, flushTimeoutMax: 800, maxSize: 1000, maxQueuedTokens: 100000 },
                delivery: { retry: { baseDelayMs: 200, maxDelayMs: 2000, maxAttempts: 4 } },
                mediawiki: { outbox: { baseDelayMs: 200, maxDelayMs: 2000, batchWaitMs: 500 } }
            }
        }]
    }));
    const child = spawn(process.execPath, ['--expose-gc', '-r', path.join(dir, 'probe.js'), path.join(ROOT, 'dist', 'server.js'), '-c', configFile], {
        cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, PN_SOAK_PROBE_FILE: probeFile, PN_SOAK_PROBE_MS: String(o.sampleSeconds * 1000) }
    });
    // Keep only the tail of the child's output (warn and above), so a long run holds no log.
    const tail: string[] = [];
    let logLines = 0;
    const keep = (d: Buffer): void => {
        for (const line of d.toString().split('\n')) {
            if (line) {
                logLines++;
                tail.push(line.slice(0, 500));
                if (tail.length > 20) {
                    tail.shift();
                }
            }
        }
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let exited: number | string | undefined;
    child.once('exit', (code, signal) => {
        exited = code ?? signal ?? 'unknown';
    });

    let sent = 0;
    let accepted = 0;
    let refused = 0;
    let failed = 0;
    let skipped = 0;
    let inFlight = 0;
    let ticker: NodeJS.Timeout | undefined;
    try {
        await waitFor(`http://127.0.0.1:${port}/healthz`, 20_000);
        const durationMs = o.minutes * 60_000;
        console.log(`soak: ${o.minutes} min at ${o.rate} req/s x ${TOKENS_PER_REQUEST} tokens, child pid ${child.pid}, ` +
            `sampling every ${o.sampleSeconds} s (heap after GC, RSS)`);
        const start = Date.now();
        const tickMs = 50;
        let due = 0;
        let n = 0;
        ticker = setInterval(() => {
            due += o.rate * tickMs / 1000;
            while (due >= 1) {
                due--;
                if (inFlight >= MAX_IN_FLIGHT) {
                    skipped++;
                    continue;
                }
                const provider = n++ % 2 === 0 ? 'fcm' : 'apns';
                const deviceTokens = Array.from({ length: TOKENS_PER_REQUEST }, () => pickToken(provider));
                inFlight++;
                sent++;
                fetch(`http://127.0.0.1:${port}/v1/message/${provider}`, {
                    method: 'POST', headers: { 'content-type': 'application/json' },
                    body: JSON.stringify({ deviceTokens, messageType: 'checkEchoV1' })
                }).then(async (res) => {
                    await res.arrayBuffer();
                    if (res.status < 300) {
                        accepted++;
                    } else {
                        refused++;
                    }
                }, () => {
                    failed++;
                }).finally(() => {
                    inFlight--;
                });
            }
        }, tickMs);
        let printed = 0;
        while (Date.now() - start < durationMs && exited === undefined) {
            await new Promise((r) => setTimeout(r, 1000));
            const samples = readSamples(probeFile);
            for (; printed < samples.length; printed++) {
                const s = samples[printed];
                console.log(`  t=${((s.t - start) / 1000).toFixed(0).padStart(5)} s  heap(after GC) ${mb(s.heapUsed)} MB  ` +
                    `rss ${mb(s.rss)} MB  external ${mb(s.external)} MB  sent ${sent}`);
            }
        }
        clearInterval(ticker);
        ticker = undefined;
        if (exited !== undefined) {
            console.error(`soak: the service exited (${exited}) during the run. Last output:\n${tail.join('\n')}`);
            return 1;
        }
        // Let retries and deletions finish before the bookkeeping is checked.
        const settleBy = Date.now() + 20_000;
        let summary = await metricsSummary(metricsPort);
        while (Date.now() < settleBy && (inFlight > 0 || (summary.queue_tokens ?? 0) > 0)) {
            await new Promise((r) => setTimeout(r, 500));
            summary = await metricsSummary(metricsPort);
        }
        const samples = readSamples(probeFile).filter((s) => s.t >= start);
        const warm = samples.slice(Math.floor(samples.length * 0.2));
        const heapSlope = slopeMbPerHour(warm.map((s) => ({ t: s.t, y: s.heapUsed })));
        const rssSlope = slopeMbPerHour(warm.map((s) => ({ t: s.t, y: s.rss })));
        const tokensAccepted = accepted * TOKENS_PER_REQUEST;
        const finished = (summary.delivered ?? 0) + (summary.dead ?? 0) + (summary.gave_up ?? 0);
        console.log('');
        console.log(`requests: sent ${sent}, accepted ${accepted}, refused ${refused}, failed ${failed}, skipped (in-flight cap) ${skipped}; ` +
            `child log lines (warn+) ${logLines}`);
        console.log(`tokens: accepted ${tokensAccepted}, finished ${finished} (${JSON.stringify(summary)})`);
        console.log(`fakes: apns requests ${fakes.apns.counters.requests}, fcm sends ${fakes.fcm.counters.sends}, wiki deletions ${wiki.deletedTokens.length}`);
        console.log(`samples: ${samples.length} (${warm.length} after the 20% warm-up), heap after GC ` +
            `${mb(warm[0]?.heapUsed ?? 0)} -> ${mb(warm[warm.length - 1]?.heapUsed ?? 0)} MB, rss ` +
            `${mb(warm[0]?.rss ?? 0)} -> ${mb(warm[warm.length - 1]?.rss ?? 0)} MB`);
        const heapRise = riseMb(warm.map((s) => s.heapUsed));
        const rssRise = riseMb(warm.map((s) => s.rss));
        console.log(`growth per hour (linear fit after warm-up): heap ${heapSlope.toFixed(1)} MB/h ` +
            `(limit ${o.maxHeapMbPerHour}), rss ${rssSlope.toFixed(1)} MB/h (limit ${o.maxRssMbPerHour})`);
        console.log(`rise, last-quarter vs first-quarter median: heap ${heapRise.toFixed(1)} MB (noise floor ${NOISE_FLOOR_MB.heap}), ` +
            `rss ${rssRise.toFixed(1)} MB (noise floor ${NOISE_FLOOR_MB.rss})`);
        let ok = true;
        const heapGrows = !(heapSlope <= o.maxHeapMbPerHour) && !(heapRise <= NOISE_FLOOR_MB.heap);
        const rssGrows = !(rssSlope <= o.maxRssMbPerHour) && !(rssRise <= NOISE_FLOOR_MB.rss);
        if (heapGrows || rssGrows) {
            console.error('soak: FAIL: memory grows faster than the limit');
            ok = false;
        }
        if ((summary.queue_tokens ?? 0) !== 0 || finished !== tokensAccepted) {
            console.error(`soak: FAIL: accepted ${tokensAccepted} tokens, finished ${finished}, still queued ${summary.queue_tokens ?? 0}`);
            ok = false;
        }
        if (o.minutes < 10) {
            console.log('note: a short run extrapolates a lot; rerun for 10+ minutes on a quiet machine for the figure that counts.');
        }
        return ok ? 0 : 1;
    } finally {
        if (ticker) {
            clearInterval(ticker);
        }
        if (exited === undefined) {
            child.kill('SIGTERM');
            await new Promise((r) => {
                const t = setTimeout(() => {
                    child.kill('SIGKILL');
                    r(undefined);
                }, 15_000);
                child.once('exit', () => {
                    clearTimeout(t);
                    r(undefined);
                });
            });
        }
        await Promise.allSettled([fakes.close(), wiki.close()]);
        rmSync(dir, { recursive: true, force: true });
    }
}

function readSamples(file: string): Sample[] {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Sample);
}

function mb(bytes: number): string {
    return (bytes / (1024 * 1024)).toFixed(1);
}

main().then((code) => process.exit(code), (e: unknown) => {
    console.error(e);
    process.exit(1);
});
