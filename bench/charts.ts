/**
 * The benchmark's charts, as SVG, with Vega-Lite (compiled to Vega, rendered headless by
 * Vega's own SVG renderer: no browser, no canvas, no native module).
 *
 *   npx ts-node bench/charts.ts [--from docs/bench] [--out docs/bench]   # re-render from saved results
 *
 * `npm run bench` calls renderCharts() at the end of a run with every results file of the
 * chart folder (one per Node major, `results-node<major>.json`), so each chart shows the
 * Node versions side by side:
 * - accept-throughput.svg, accept-p99.svg: POST /v1/message/apns (setup a) against tokens per
 *   request, the service and the bare node:http baseline;
 * - delivery-throughput.svg, delivery-cpu.svg: tokens/s and worker CPU µs per token, per
 *   provider kind, the service's delivery path and a bare client sending the same requests.
 */
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import type { AbResult } from './accept';
import type { DeliverySummary } from './delivery';
import { ROOT } from './lib/paths';

/** What a chart needs of one run's results (bench-results/latest.json has it all). */
export interface ChartInput {
    readonly measuredNode: { readonly version: string };
    readonly machine: { readonly cpuModel: string; readonly cores: number; readonly date: string; readonly gitCommit: string };
    readonly http?: readonly AbResult[];
    readonly delivery?: { readonly summary: readonly DeliverySummary[] };
}

type Spec = Record<string, unknown>;

// Vega and Vega-Lite are ES modules with top-level await: require() cannot load them, and
// TypeScript's CommonJS output turns import() into require(); this keeps a real import().
// eslint-disable-next-line @typescript-eslint/no-implied-eval
const importEsm = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<any>;

const KIND_LABEL: Record<string, string> = { apns: 'APNs', fcm: 'FCM', webpush: 'Web Push' };
const SIDE = { service: 'this service', baseline: 'bare node:http baseline', floor: 'bare client, same requests' };

function nodeLabel(r: ChartInput): string {
    return `Node ${r.measuredNode.version.replace(/^v/, '')}`;
}

function subtitle(results: readonly ChartInput[]): string {
    const m = results[0].machine;
    return `${m.cpuModel}, ${m.cores} cores; ${results.map((r) => `${nodeLabel(r)} (${r.machine.date.slice(0, 10)}, ${r.machine.gitCommit})`).join(', ')}`;
}

const CONFIG = { font: 'sans-serif', view: { stroke: '#ddd' }, axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { labelFontSize: 11, labelLimit: 400 } };
const COLORS = ['#1f77b4', '#999999'];

function lineChart(title: string, sub: string, values: Spec[], y: { field: string; title: string; log?: boolean }): Spec {
    return {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        title: { text: title, subtitle: sub, anchor: 'start' },
        width: 460, height: 280, config: CONFIG,
        data: { values },
        mark: { type: 'line', point: true },
        encoding: {
            x: { field: 'tokens', type: 'quantitative', title: 'device tokens per request', scale: { type: 'log' }, axis: { values: [1, 10, 100, 500] } },
            y: { field: y.field, type: 'quantitative', title: y.title, ...(y.log ? { scale: { type: 'log' } } : {}) },
            color: { field: 'side', type: 'nominal', title: null, scale: { domain: [SIDE.service, SIDE.baseline], range: COLORS } },
            strokeDash: { field: 'node', type: 'nominal', title: null },
            shape: { field: 'node', type: 'nominal', title: null },
            tooltip: [{ field: 'node' }, { field: 'side' }, { field: 'tokens' }, { field: y.field }]
        }
    };
}

function barChart(title: string, sub: string, values: Spec[], y: { field: string; title: string }): Spec {
    return {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        title: { text: title, subtitle: sub, anchor: 'start' },
        config: CONFIG,
        data: { values },
        facet: { column: { field: 'node', type: 'nominal', title: null } },
        spec: {
            width: 220, height: 260,
            layer: [
                { mark: { type: 'bar' } },
                { mark: { type: 'text', dy: -6, fontSize: 10 }, encoding: { text: { field: y.field, type: 'quantitative', format: ',.0f' } } }
            ],
            encoding: {
                x: { field: 'kind', type: 'nominal', title: null, sort: ['APNs', 'FCM', 'Web Push'], axis: { labelAngle: 0 } },
                xOffset: { field: 'side', type: 'nominal', sort: [SIDE.service, SIDE.floor] },
                y: { field: y.field, type: 'quantitative', title: y.title },
                color: { field: 'side', type: 'nominal', title: null, scale: { domain: [SIDE.service, SIDE.floor], range: COLORS } }
            }
        }
    };
}

/** The chart specs (Vega-Lite) for a set of runs, one per Node version. */
export function chartSpecs(results: readonly ChartInput[]): Record<string, Spec> {
    const sub = subtitle(results);
    const accept: Spec[] = [];
    const delivery: Spec[] = [];
    for (const r of results) {
        const node = nodeLabel(r);
        for (const a of (r.http ?? []).filter((x) => x.group === 'accept' && x.endpoint === '/v1/message/apns')) {
            for (const s of ['service', 'baseline'] as const) {
                accept.push({ node, side: SIDE[s], tokens: a.tokensPerRequest, reqPerSec: a[s].reqPerSec, p99: a[s].latencyP99Ms });
            }
        }
        for (const d of r.delivery?.summary ?? []) {
            for (const s of ['service', 'floor'] as const) {
                delivery.push({ node, side: SIDE[s], kind: KIND_LABEL[d.kind] ?? d.kind, tokensPerSec: d[s].tokensPerSec, cpuUs: d[s].cpuUsPerToken });
            }
        }
    }
    const specs: Record<string, Spec> = {};
    if (accept.length > 0) {
        specs['accept-throughput'] = lineChart('Accept path: POST /v1/message/apns, 50 connections, requests/s', sub, accept,
            { field: 'reqPerSec', title: 'requests/s (median)' });
        specs['accept-p99'] = lineChart('Accept path: POST /v1/message/apns, 50 connections, p99 answer time', sub, accept,
            { field: 'p99', title: 'p99 latency, ms (median)', log: true });
    }
    if (delivery.length > 0) {
        specs['delivery-throughput'] = barChart('Delivery to the fakes: tokens/s (fakes in another process)', sub, delivery,
            { field: 'tokensPerSec', title: 'tokens/s (median)' });
        specs['delivery-cpu'] = barChart('Delivery: worker CPU per delivered token (user + system)', sub, delivery,
            { field: 'cpuUs', title: 'µs per token (median)' });
    }
    return specs;
}

/** Renders every chart of `results` into `outDir` as <name>.svg; returns the files written. */
export async function renderCharts(results: readonly ChartInput[], outDir: string): Promise<string[]> {
    if (results.length === 0) {
        return [];
    }
    const vega = await importEsm('vega');
    const vl = await importEsm('vega-lite');
    mkdirSync(outDir, { recursive: true });
    const written: string[] = [];
    for (const [name, spec] of Object.entries(chartSpecs(results))) {
        const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
        const svg = await view.toSVG() as string;
        view.finalize();
        const file = path.join(outDir, `${name}.svg`);
        writeFileSync(file, svg);
        written.push(file);
    }
    return written;
}

/** The results files of a chart folder, oldest Node first. */
export function readResults(dir: string): ChartInput[] {
    let files: string[];
    try {
        files = readdirSync(dir).filter((f) => /^results-node\d+\.json$/.test(f));
    } catch {
        return [];
    }
    return files.sort((a, b) => Number(/\d+/.exec(a)![0]) - Number(/\d+/.exec(b)![0]))
        .map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as ChartInput);
}

if (require.main === module) {
    const arg = (name: string, fallback: string): string => {
        const i = process.argv.indexOf(`--${name}`);
        return path.resolve(ROOT, i > 0 ? process.argv[i + 1] : fallback);
    };
    const from = arg('from', 'docs/bench');
    const out = arg('out', from);
    renderCharts(readResults(from), out).then((files) => {
        process.stdout.write(`${files.length === 0 ? `no results-node*.json in ${from}` : files.map((f) => `wrote ${path.relative(ROOT, f)}`).join('\n')}\n`);
    }, (e: unknown) => {
        process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
        process.exit(1);
    });
}
