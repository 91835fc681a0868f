/**
 * `npm run bench [-- --quick] [-- --node 24] [-- --only accept,independent,endpoints,delivery,scaling,memory]`
 *
 * Every figure beside a same-run baseline, on the Node of `--node` (bench/lib/node.ts; the
 * orchestrator, the fakes and the load generator stay on the Node running the bench):
 * 1. accept (setup a, this bench's own): autocannon (its own process, 50 connections) against
 *    the service (dist/server.js under service-runner, num_workers: 0, info logs, the queue on
 *    with 1-3 s timer-only flushes, providers pointed at the fakes) and against a bare
 *    node:http server that parses the JSON and answers 200, alternated A B A B; medians.
 *    POST /v1/message/{apns,fcm}, 1 and 10 tokens per request.
 *    scaling adds 100 and 500 tokens per request (APNs) and delivery queue depths.
 * 2. independent (setup b, issue 16's): POST /v1/message/apns, 1 token, dryRun, 50 connections,
 *    the service under service-runner with num_workers: 0, warn-level logs and the production
 *    queueing and delivery settings (config.prod.yaml), alternated with the same bare server.
 * 3. endpoints: the Matrix notify endpoint and the MongoosePush v3 endpoint, one device token
 *    per request (fresh per request), through the real APNs provider to the fake APNs, against
 *    a bare relay (node:http in, one node:http2 request to the fake APNs, answer).
 * 4. delivery: one flush of N queued tokens per run through the real queue, delivery and
 *    providers (APNs, FCM, Web Push) to the fakes in another process; worker CPU µs per
 *    delivered token and tokens/s, beside the bare client floor (same requests) in the same
 *    worker; memory per queued token.
 * 5. memory: idle RSS of the service after start and a full GC, beside bare Node's and Node +
 *    service-runner's (same probe preloaded in each).
 * Prints tables; writes bench-results/latest.json and bench-results/node<major>.json; a
 * complete full run (no --quick, --only, --profile or other narrowing) also writes
 * docs/bench/results-node<major>.json and the SVG charts of every Node version found there
 * (bench/charts.ts); other runs write their charts to bench-results/charts/ (or --charts-dir,
 * which also keeps the run's results beside them).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as yaml from 'js-yaml';
import { loadServiceConfig } from '../src/config/service-config';
import type { ProviderKind } from '../src/push/provider';
import { FAKE_FCM_PROJECT, startProviderFakes } from '../test/fakes/provider-fakes';
import { AbResult, abScenario, acceptScaling, HttpScenario } from './accept';
import { renderCharts, readResults } from './charts';
import { deliveryScaling, DeliveryResults, runDelivery } from './delivery';
import { ApnsFloorTarget } from './lib/apns-floor';
import { compileHelpers } from './lib/compile';
import { cacheApnsJwtChecks } from './lib/fake-tuning';
import { idleRssMB } from './lib/idle';
import { machineInfo } from './lib/machine';
import { selectBenchNode } from './lib/node';
import { ROOT } from './lib/paths';
import { MB, median, round, sleep } from './lib/stats';
import { table } from './lib/table';
import { probe, startBaseline, startService, Target } from './lib/targets';
import { loadBody, StringTokenKind, uniqueToken } from './lib/tokens';

const SECTIONS = ['accept', 'independent', 'endpoints', 'delivery', 'scaling', 'memory'] as const;

interface Options {
    quick: boolean;
    rounds: number;
    durationSec: number;
    warmupSec: number;
    connections: number;
    only: Set<string>;
    out: string;
    /** Extra APNs delivery runs at these queue depths (scaling). */
    depths: number[];
    scalingSizes: number[];
    /** Directory for CPU profiles of the measured processes, when --profile is given. */
    profileDir?: string;
    /** Tokens per measured delivery run, per kind. */
    deliveryTokens: Record<ProviderKind, number>;
    deliveryKinds: ProviderKind[];
    deliveryRounds: number;
    /** Let the fake APNs verify the JWT on every request (as in tests) instead of once per JWT. */
    fakeJwtPerRequest: boolean;
    /** --no-floor: delivery runs of the service only, no memory step (for a CPU profile of the service's path alone). */
    noFloor: boolean;
    /** Only these setup-a accept scenarios (`apns:100,fcm:1`), for profiling. */
    acceptPlan?: [StringTokenKind, number][];
    /** Fresh tokens in every request (setup a): the service then delivers what it accepts. */
    uniqueTokens: boolean;
    /** `--node`: the Node of the measured processes (bench/lib/node.ts); undefined = PN_BENCH_NODE or this one. */
    node?: string;
    /** Where the charts go (default docs/bench for a complete full run, else bench-results/charts). */
    chartsDir: string;
    /** Whether this run's results go into the chart folder (full runs). */
    saveToCharts: boolean;
}

function parseArgs(argv: string[]): Options {
    const get = (name: string): string | undefined => {
        const i = argv.indexOf(`--${name}`);
        return i >= 0 ? argv[i + 1] : undefined;
    };
    const quick = argv.includes('--quick');
    const n = (name: string, full: number, q: number): number => Number(get(name) ?? (quick ? q : full));
    const only = new Set((get('only') ?? SECTIONS.join(',')).split(','));
    for (const s of only) {
        if (!(SECTIONS as readonly string[]).includes(s)) {
            throw new Error(`--only: unknown section ${s} (sections: ${SECTIONS.join(', ')})`);
        }
    }
    const chartsArg = get('charts-dir');
    // Only a complete, unmodified full run goes into docs/bench (what the README shows).
    const complete = !quick && only.size === SECTIONS.length && !argv.some((a) =>
        ['--no-floor', '--profile', '--accept-plan', '--unique-tokens', '--delivery-kinds', '--fake-jwt-per-request'].includes(a));
    return {
        quick,
        rounds: n('rounds', 2, 1),
        durationSec: n('duration', 10, 2),
        warmupSec: n('warmup', 2, 1),
        connections: n('connections', 50, 50),
        only,
        out: path.resolve(ROOT, get('out') ?? 'bench-results/latest.json'),
        depths: (get('depths') ?? (quick ? '' : '10000,100000')).split(',').filter(Boolean).map(Number),
        scalingSizes: quick ? [1, 10, 100] : [1, 10, 100, 500],
        deliveryTokens: {
            apns: n('apns-tokens', 100_000, 10_000),
            fcm: n('fcm-tokens', 50_000, 5_000),
            webpush: n('webpush-tokens', 10_000, 1_000)
        },
        deliveryKinds: (get('delivery-kinds') ?? 'apns,fcm,webpush').split(',') as ProviderKind[],
        deliveryRounds: n('delivery-rounds', 2, 1),
        acceptPlan: get('accept-plan')?.split(',').map((x) => {
            const [p, size] = x.split(':');
            return [p as StringTokenKind, Number(size)];
        }),
        uniqueTokens: argv.includes('--unique-tokens'),
        fakeJwtPerRequest: argv.includes('--fake-jwt-per-request'),
        noFloor: argv.includes('--no-floor'),
        profileDir: argv.includes('--profile') ? path.resolve(ROOT, 'bench-results', 'profiles') : undefined,
        node: get('node'),
        chartsDir: path.resolve(ROOT, chartsArg ?? (complete ? 'docs/bench' : 'bench-results/charts')),
        saveToCharts: complete || chartsArg !== undefined
    };
}

const log = (line: string): void => {
    process.stdout.write(`${line}\n`);
};

const TARGETS = {
    acceptRatio: 0.5,
    acceptP99Ms: 5,
    apnsCpuUsPerToken: 50,
    eventLoopMaxMs: 50,
    idleRssMB: 80
};

type FakesConf = { fcm: Record<string, unknown>; apns: Record<string, unknown>; webpush: Record<string, unknown> };

const USER_AGENT = 'push-notifications-bench/1.0 (loopback benchmark)';

/** Setup a: this bench's own service conf. */
function serviceConf(fakesConf: FakesConf): Record<string, unknown> {
    return {
        user_agent: USER_AGENT,
        max_body_size: '100kb',
        message_types: ['checkEchoV1'],
        max_device_tokens: 500,
        fcm: fakesConf.fcm,
        apns: fakesConf.apns,
        webpush: fakesConf.webpush,
        mediawiki: { mock: true },
        // config.dev.yaml's random 1-3 s flushes, but flushed by the timer only (maxSize high)
        // and a cap a load run never hits: the load repeats one body, so each flush
        // de-duplicates to a handful of provider calls and the accept path is what is measured.
        // --unique-tokens makes every request's tokens different (accept + delivery together).
        queueing: { flushTimeoutMs: 'random', flushTimeoutMin: 1000, flushTimeoutMax: 3000, maxSize: 5_000_000, maxQueuedTokens: 10_000_000 }
    };
}

/** Setup b: production's queueing and delivery blocks (config.prod.yaml), the providers at the fakes. */
function independentConf(fakesConf: FakesConf): Record<string, unknown> {
    const prod = yaml.load(readFileSync(path.join(ROOT, 'config.prod.yaml'), 'utf8')) as
        { services: { conf: Record<string, unknown> }[] };
    const p = prod.services[0].conf;
    return { ...serviceConf(fakesConf), queueing: p.queueing, delivery: p.delivery };
}

/** The Matrix and MongoosePush front doors, both routed to the `apns` instance (the fake APNs). */
function endpointsConf(fakesConf: FakesConf): Record<string, unknown> {
    return {
        ...serviceConf(fakesConf),
        matrix: { apps: { 'org.wikimedia.bench': { provider: 'apns' } } },
        mongoosepush: { apns: { prod: 'apns', dev: 'apns' } }
    };
}

function matrixBody(pushkey: string): string {
    return JSON.stringify({
        notification: {
            event_id: '$bench{{hex}}', room_id: '!bench:example.org', type: 'm.room.message',
            sender: '@alice:example.org', sender_display_name: 'Alice', room_name: 'Bench', prio: 'high',
            content: { msgtype: 'm.text', body: 'hello' }, counts: { unread: 1 },
            devices: [{ app_id: 'org.wikimedia.bench', pushkey, pushkey_ts: 1_700_000_000, data: {} }]
        }
    });
}

const MONGOOSEPUSH_BODY = JSON.stringify({ service: 'apns', mode: 'prod', alert: { title: 'Alice', body: 'hello', tag: 'alice', badge: 1 } });

interface Idle {
    serviceMB: number;
    bareNodeMB: number;
    serviceRunnerMB: number;
    baselineServerMB: number;
}

async function main(): Promise<void> {
    const o = parseArgs(process.argv.slice(2));
    const started = Date.now();
    const machine = machineInfo(ROOT);
    const node = selectBenchNode(o.node, log);
    log(`push-notifications bench (${o.quick ? 'quick' : 'full'}): ${machine.cpuModel}, ${machine.cores} cores, ` +
        `Node ${machine.node} (measured processes: Node ${node.version}, ${node.source}), load ${machine.loadAvg1}, ${machine.date}`);
    if (machine.loadAvg1 > 0.5) {
        log(`  note: the 1-minute load average is ${machine.loadAvg1}: the machine is busy, figures will be noisy`);
    }
    const helpers = compileHelpers();
    if (o.profileDir) {
        mkdirSync(o.profileDir, { recursive: true });
    }
    const fakes = await startProviderFakes();
    fakes.apns.record = false;
    fakes.fcm.record = false;
    fakes.webpush.record = false;
    if (!o.fakeJwtPerRequest) {
        cacheApnsJwtChecks(fakes.apns);
    }
    const rel = (f: string | undefined) => (f === undefined ? undefined : path.relative(ROOT, f));
    const result: Record<string, unknown> = {
        machine, measuredNode: { version: node.version, source: node.source },
        options: { ...o, only: [...o.only], out: rel(o.out), chartsDir: rel(o.chartsDir), profileDir: rel(o.profileDir) }, targets: TARGETS
    };
    const warnings: string[] = [];
    const http: AbResult[] = [];
    let idle: Idle | undefined;
    let delivery: DeliveryResults | undefined;
    const ab = { connections: o.connections, durationSec: o.durationSec, warmupSec: o.warmupSec, rounds: o.rounds, log };
    const profile = (name: string): string | undefined => (o.profileDir ? path.join(o.profileDir, `${name}.cpuprofile`) : undefined);

    /** Runs `scenarios` against a fresh service (conf, log level) and a fresh baseline (args). */
    const against = async (conf: Record<string, unknown>, logLevel: string, baselineArgs: string[], name: string,
        scenarios: HttpScenario[], beforeLoad?: (service: Target, baseline: Target) => Promise<void>): Promise<void> => {
        const baseline = await startBaseline(helpers.baseline, { probe: helpers.probe, args: baselineArgs });
        let service: Target | undefined;
        try {
            service = await startService({ conf, probe: helpers.probe, logLevel, cpuProfile: profile(name) });
            await sleep(1000);
            await beforeLoad?.(service, baseline);
            for (const s of scenarios) {
                http.push(await abScenario(service, baseline, s, ab));
            }
        } finally {
            await Promise.allSettled([baseline.stop(), service?.stop()]);
        }
    };

    try {
        // ---- 1. accept, setup a (+ scaling sizes), and the idle RSS --------------------------
        if (o.only.has('accept') || o.only.has('scaling') || o.only.has('memory')) {
            const plan: [StringTokenKind, number][] = [];
            if (o.only.has('accept')) {
                plan.push(['apns', 1], ['apns', 10], ['fcm', 1], ['fcm', 10]);
            }
            if (o.only.has('scaling')) {
                for (const size of o.scalingSizes) {
                    if (!plan.some(([p, s]) => p === 'apns' && s === size)) {
                        plan.push(['apns', size]);
                    }
                }
            }
            const scenarios = (o.acceptPlan ?? plan).map(([kind, size]): HttpScenario => ({
                group: 'accept', endpoint: `/v1/message/${kind}`, path: `/v1/message/${kind}`,
                body: loadBody(kind, size, { unique: o.uniqueTokens }), tokensPerRequest: size
            }));
            await against(serviceConf(fakes.conf), 'info', [], 'service-accept', scenarios, async (service, baseline) => {
                if (!o.only.has('memory')) {
                    return;
                }
                await sleep(1000);
                const serviceMB = round((await probe(service, 'gc')).rss / MB, 1);
                const baselineServerMB = round((await probe(baseline, 'gc')).rss / MB, 1);
                const bare: number[] = [];
                const sr: number[] = [];
                for (let i = 0; i < (o.quick ? 1 : 3); i++) {
                    bare.push(await idleRssMB(helpers.probe, ''));
                    sr.push(await idleRssMB(helpers.probe, `require(${JSON.stringify(require.resolve('service-runner'))})`));
                }
                idle = { serviceMB, bareNodeMB: median(bare), serviceRunnerMB: median(sr), baselineServerMB };
                log(`idle RSS after GC: service ${serviceMB} MB, bare Node ${idle.bareNodeMB} MB, Node + require('service-runner') ` +
                    `${idle.serviceRunnerMB} MB, bare node:http baseline server ${baselineServerMB} MB`);
            });
        }
        // ---- 2. accept, setup b (issue 16's independent setup) -------------------------------
        if (o.only.has('independent')) {
            await against(independentConf(fakes.conf), 'warn', [], 'service-independent', [{
                group: 'independent', endpoint: '/v1/message/apns', path: '/v1/message/apns',
                body: loadBody('apns', 1, { dryRun: true }), tokensPerRequest: 1
            }]);
        }
        // ---- 3. Matrix notify and MongoosePush, against the relay baseline -------------------
        if (o.only.has('endpoints')) {
            const a = fakes.conf.apns as { address: string; port: number; ca: string; topic: string; token: ApnsFloorTarget['token'] };
            const target: ApnsFloorTarget = { address: a.address, port: a.port, ca: a.ca, topic: a.topic, token: a.token };
            const before = { ...fakes.apns.counters };
            const from = http.length;
            await against(endpointsConf(fakes.conf), 'info', ['relay', Buffer.from(JSON.stringify(target)).toString('base64url')], 'service-endpoints', [
                { group: 'matrix', endpoint: '/_matrix/push/v1/notify', path: '/_matrix/push/v1/notify', body: matrixBody(uniqueToken('apns', 1)), tokensPerRequest: 1 },
                { group: 'mongoosepush', endpoint: '/v3/notification/{device_id}', path: `/v3/notification/${uniqueToken('apns', 2)}`, body: MONGOOSEPUSH_BODY, tokensPerRequest: 1 }
            ]);
            // Every answered request went through the fake APNs (the warm-ups too): it must have
            // delivered at least as many notifications, all to hex device tokens.
            const answered = http.slice(from).reduce((n, r) => n + [...r.service.runs, ...r.baseline.runs]
                .reduce((m, x) => m + x.statusCodes['2xx'], 0), 0);
            const delivered = fakes.apns.counters.delivered - before.delivered;
            log(`  the fake APNs delivered ${delivered} notifications during these runs (warm-ups included) for ${answered} measured 2xx answers`);
            if (delivered < answered || fakes.apns.counters.nonHexPaths > before.nonHexPaths) {
                warnings.push(`endpoints: the fake APNs delivered ${delivered} for ${answered} 2xx answers ` +
                    `(${fakes.apns.counters.nonHexPaths - before.nonHexPaths} non-hex paths)`);
            }
        }
        // ---- 4. delivery ----------------------------------------------------------------------
        if (o.only.has('delivery') || o.only.has('scaling')) {
            const conf = serviceConf(fakes.conf);
            const kinds = o.only.has('delivery') ? o.deliveryKinds : [];
            const warmup = { apns: 5000, fcm: 2000, webpush: 500 };
            const subscriptions = kinds.includes('webpush') ?
                Math.max(o.deliveryTokens.webpush, warmup.webpush) : 0;
            log(subscriptions > 0 ? `  delivery: ${subscriptions} Web Push subscriptions from the fake` : '  delivery');
            const webpushTokens = Array.from({ length: subscriptions }, () => fakes.webpush.createSubscription('bench-').token);
            const fcmSettings = loadServiceConfig(conf).providerInstances.find((i) => i.id === 'fcm')?.settings as { max_sockets?: number } | undefined;
            const a = fakes.conf.apns as { address: string; port: number; ca: string; topic: string; token: ApnsFloorTarget['token'] };
            delivery = await runDelivery({
                conf, kinds, tokens: o.deliveryTokens, warmupTokens: warmup, rounds: o.deliveryRounds, floor: !o.noFloor,
                depths: o.only.has('scaling') ? o.depths : [],
                memoryTokens: o.only.has('delivery') && !o.noFloor ? (o.quick ? 20_000 : 100_000) : 0,
                timeoutMs: o.quick ? 60_000 : 240_000,
                webpushTokens,
                floors: {
                    apns: { address: a.address, port: a.port, ca: a.ca, topic: a.topic, token: a.token },
                    fcm: {
                        origin: fakes.fcm.url, projectId: FAKE_FCM_PROJECT, accessToken: fakes.fcm.issueAccessToken(),
                        ca: fakes.files.ca, maxSockets: fcmSettings?.max_sockets ?? 100
                    },
                    webpush: { conf: fakes.conf.webpush, maxSockets: 50, userAgent: USER_AGENT }
                }
            }, log, o.profileDir);
        }
    } finally {
        await fakes.close();
    }

    // ---- report -----------------------------------------------------------------------------
    log('');
    log(`Machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.totalMemMB} MB, orchestrator Node ${machine.node}, ` +
        `measured processes Node ${node.version} (${node.source}), ${machine.platform}, commit ${machine.gitCommit}, ` +
        `${machine.date}, load average at start ${machine.loadAvg1}`);
    const httpTable = (rows: AbResult[], base: string): string => table(
        ['endpoint', 'tokens/req', 'service req/s', `${base} req/s`, 'ratio', 'svc p50 ms', 'svc p99 ms', 'base p99 ms', 'svc RSS MB', 'base RSS MB', 'errors'],
        rows.map((r) => [r.endpoint, r.tokensPerRequest, r.service.reqPerSec, r.baseline.reqPerSec, r.ratio.toFixed(2),
            r.service.latencyP50Ms, r.service.latencyP99Ms, r.baseline.latencyP99Ms, r.service.peakRssMB, r.baseline.peakRssMB,
            `${r.service.non2xx + r.service.errors}/${r.baseline.non2xx + r.baseline.errors}`]));
    const accept = http.filter((r) => r.group === 'accept');
    if (accept.length > 0) {
        log('');
        log(`Accept path, setup a (this bench's): ${o.connections} connections, ${o.durationSec} s per run, ${o.rounds} rounds A/B, medians; ` +
            'service-runner num_workers: 0, info logs, queue on (1-3 s timer-only flushes), providers -> fakes' +
            (o.uniqueTokens ? ', fresh tokens per request (accept + delivery)' : ', one body repeated'));
        log(httpTable(accept, 'baseline'));
    }
    const independent = http.filter((r) => r.group === 'independent');
    if (independent.length > 0) {
        log('');
        log(`Accept path, setup b (issue 16's): POST /v1/message/apns, 1 token, dryRun, ${o.connections} connections; ` +
            'service-runner num_workers: 0, warn logs, production queueing/delivery (config.prod.yaml: flush at 500 tokens or 5-30 s)');
        log(httpTable(independent, 'baseline'));
        for (const r of independent) {
            if (r.ratio < TARGETS.acceptRatio) {
                warnings.push(`accept (setup b): ${r.ratio.toFixed(2)} of bare node < ${TARGETS.acceptRatio}`);
            }
            if (r.service.latencyP99Ms > TARGETS.acceptP99Ms) {
                warnings.push(`accept (setup b): p99 ${r.service.latencyP99Ms} ms > ${TARGETS.acceptP99Ms} ms`);
            }
        }
    }
    const endpoints = http.filter((r) => r.group === 'matrix' || r.group === 'mongoosepush');
    if (endpoints.length > 0) {
        log('');
        log('Matrix notify and MongoosePush v3: one fresh APNs device token per request, answered after the (fake) APNs answered; ' +
            'baseline = bare relay (node:http in, one node:http2 request to the fake APNs, 200 out)');
        log(httpTable(endpoints, 'relay'));
    }
    for (const r of http) {
        if (r.service.non2xx > 0 || r.service.errors > 0) {
            warnings.push(`${r.group} ${r.endpoint} x${r.tokensPerRequest}: ${r.service.non2xx} non-2xx, ${r.service.errors} errors`);
        }
    }
    if (idle) {
        log('');
        log(`Idle RSS after start and a full GC: service ${idle.serviceMB} MB (target <= ${TARGETS.idleRssMB}); bare Node ${idle.bareNodeMB} MB; ` +
            `Node + require('service-runner') ${idle.serviceRunnerMB} MB; bare node:http baseline server ${idle.baselineServerMB} MB`);
        if (idle.serviceMB > TARGETS.idleRssMB) {
            warnings.push(`idle RSS ${idle.serviceMB} MB > ${TARGETS.idleRssMB} MB`);
        }
    }
    if (delivery) {
        if (delivery.summary.length > 0) {
            log('');
            log('Delivery: one flush of N queued tokens per run, first enqueue to last answer, through the real queue, delivery and ' +
                'providers; bare = a bare node:http2 (APNs) / node:https (FCM, Web Push) client sending the same requests from the ' +
                'same worker; CPU = process.cpuUsage of the worker (fakes in another process); medians of the rounds');
            log(table(['kind', 'tokens', 'svc tokens/s', 'bare tokens/s', 'svc µs/token', 'bare µs/token', 'CPU ratio',
                'svc user/sys µs', 'svc loop p99/max ms', 'fake µs/token', 'all delivered'],
            delivery.summary.map((d) => [d.kind, d.service.tokens, d.service.tokensPerSec, d.floor.tokensPerSec,
                d.service.cpuUsPerToken, d.floor.cpuUsPerToken, d.cpuRatio.toFixed(2),
                `${d.service.userUsPerToken}/${d.service.systemUsPerToken}`, `${d.service.eventLoopP99Ms}/${d.service.eventLoopMaxMs}`,
                d.service.fakeCpuUsPerToken, d.service.allDelivered && d.floor.allDelivered ? 'yes' : 'NO'])));
        }
        for (const d of delivery.summary) {
            if (d.kind === 'apns' && d.service.cpuUsPerToken > TARGETS.apnsCpuUsPerToken) {
                warnings.push(`delivery apns: ${d.service.cpuUsPerToken} µs/token > target ${TARGETS.apnsCpuUsPerToken}`);
            }
            if (d.service.eventLoopMaxMs >= TARGETS.eventLoopMaxMs) {
                warnings.push(`delivery ${d.kind}: event-loop max ${d.service.eventLoopMaxMs} ms >= ${TARGETS.eventLoopMaxMs} ms`);
            }
            if (!d.service.allDelivered || !d.floor.allDelivered) {
                warnings.push(`delivery ${d.kind}: not every token delivered (see the run lines)`);
            }
        }
        const m = delivery.memory;
        if (m) {
            log('');
            log(`Memory per queued token (${m.tokens} tokens, half FCM ${m.tokenLength.fcm} chars / half APNs ` +
                `${m.tokenLength.apns} chars, after full GC): heap ${m.heapBytesPerToken} B/token in all = parsed request ` +
                `${m.parsedBytesPerToken} B (string ${m.tokenStringBytes.fcm}/${m.tokenStringBytes.apns} B + array slot) + ` +
                `queue ${m.queueBytesPerToken} B; beyond the string itself ${m.heapBytesPerTokenBeyondString} B; ` +
                `RSS ${m.rssBytesPerToken} B/token`);
        }
    }
    const scaling: Record<string, unknown> = {};
    if (o.only.has('scaling')) {
        const series = accept.filter((r) => r.endpoint === '/v1/message/apns' && o.scalingSizes.includes(r.tokensPerRequest));
        if (series.length > 1) {
            const s = acceptScaling(series);
            scaling.accept = s;
            log('');
            log('Scaling, accept (APNs, setup a): per-token cost ratio between steps (< 1: per-token cost falls; > 1.5: worse than linear)');
            log(table(['tokens/req', 'service req/s', 'service tokens/s', 'baseline tokens/s', 'ratio', 'svc cost step', 'base cost step'],
                [...series].sort((a, b) => a.tokensPerRequest - b.tokensPerRequest).map((r, i) => [
                    r.tokensPerRequest, r.service.reqPerSec, r.service.tokensPerSec, r.baseline.tokensPerSec, r.ratio.toFixed(2),
                    i === 0 ? '-' : `x${s.service[i - 1].ratio}`, i === 0 ? '-' : `x${s.baseline[i - 1].ratio}`])));
            for (const step of s.service.filter((x) => x.superlinear)) {
                warnings.push(`accept scaling: per-token cost grows x${step.ratio} from ${step.from} to ${step.to} tokens/request`);
            }
        }
        if (delivery) {
            const d = deliveryScaling(delivery.runs);
            scaling.delivery = d;
            if (d.length > 0) {
                log(`Scaling, delivery (APNs): seconds per token, step ratios ${d.map((x) => `${x.from}->${x.to}: x${x.ratio}`).join(', ')}`);
            }
            for (const step of d.filter((x) => x.superlinear)) {
                warnings.push(`delivery scaling apns: per-token time grows x${step.ratio} from depth ${step.from} to ${step.to}`);
            }
        }
    }
    log('');
    log(warnings.length === 0 ? 'All targets met.' : `Targets missed / warnings:\n${warnings.map((w) => `  WARNING: ${w}`).join('\n')}`);
    const elapsed = round((Date.now() - started) / 1000, 1);
    const args = process.argv.slice(2).join(' ');
    const reproduce = `npm run bench${args ? ` -- ${args}` : ''}`;
    log(`Took ${elapsed} s. Reproduce: ${reproduce}`);
    Object.assign(result, { elapsedSec: elapsed, reproduce, idle, http, delivery, scaling, warnings });
    const text = JSON.stringify(result, null, 2);
    mkdirSync(path.dirname(o.out), { recursive: true });
    writeFileSync(o.out, text);
    writeFileSync(path.join(path.dirname(o.out), `node${node.major}.json`), text);
    log(`Wrote ${path.relative(ROOT, o.out)} and node${node.major}.json beside it`);
    if (o.saveToCharts) {
        mkdirSync(o.chartsDir, { recursive: true });
        writeFileSync(path.join(o.chartsDir, `results-node${node.major}.json`), text);
    }
    const charts = await renderCharts(o.saveToCharts ? readResults(o.chartsDir) : [result as never], o.chartsDir);
    log(charts.length > 0 ? `Charts: ${charts.map((f) => path.relative(ROOT, f)).join(', ')}` : 'No charts (no accept or delivery figures)');
}

main().then(() => process.exit(0), (e: unknown) => {
    process.stderr.write(`bench failed: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
});
