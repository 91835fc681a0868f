/**
 * The load generator of the HTTP benchmarks, in its own process (never in a measured one):
 * autocannon's API, so that a fresh number can go into the path as well as the body (the
 * MongoosePush token is in the path; APNs tokens must stay hex, which autocannon's own
 * `[<id>]` replacement is not).
 *
 *   node .bench/bench/load-runner.js '<json LoadSpec>'   # prints one JSON LoadSummary line
 *
 * Every `{{hex}}` in `path` and `body` becomes the same 16-hex-digit number, a fresh one per
 * request (counting up from a random start, so two runs never repeat); without any, the one
 * request is built once and repeated as is (as `autocannon -i body.json` does).
 */
import { randomBytes } from 'node:crypto';

/** The part of autocannon's API used here (it ships no types). */
interface Request { method?: string; path?: string; body?: string; headers?: Record<string, string>; setupRequest?: (req: Request) => Request }
interface Result {
    requests: { total: number }; latency: { p50: number; p99: number; max: number }; duration: number;
    non2xx: number; errors: number; timeouts: number; '1xx': number; '2xx': number; '3xx': number; '4xx': number; '5xx': number;
}
type Autocannon = (o: { url: string; connections: number; duration: number; timeout: number; requests: Request[] },
    cb: (err: Error | null, r: Result) => void) => unknown;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as Autocannon;

export interface LoadSpec {
    /** `http://127.0.0.1:<port>` */
    readonly origin: string;
    readonly path: string;
    readonly body: string;
    readonly connections: number;
    readonly durationSec: number;
}

export interface LoadSummary {
    readonly requests: number;
    readonly reqPerSec: number;
    readonly latencyP50Ms: number;
    readonly latencyP99Ms: number;
    readonly latencyMaxMs: number;
    readonly non2xx: number;
    readonly errors: number;
    readonly timeouts: number;
    /** Status codes seen, e.g. {"2xx": 1234}. */
    readonly statusCodes: Record<string, number>;
}

const HEX = /\{\{hex\}\}/g;
const HAS_HEX = /\{\{hex\}\}/;

function run(spec: LoadSpec): Promise<LoadSummary> {
    const templated = HAS_HEX.test(spec.path) || HAS_HEX.test(spec.body);
    let n = randomBytes(6).readUIntBE(0, 6);
    const headers = { 'content-type': 'application/json' };
    const request: Request = templated ?
        {
            method: 'POST', headers,
            setupRequest: (req: Request): Request => {
                const id = (n++).toString(16).padStart(16, '0');
                return { ...req, path: spec.path.replace(HEX, id), body: spec.body.replace(HEX, id) };
            }
        } :
        { method: 'POST', headers, path: spec.path, body: spec.body };
    return new Promise((resolve, reject) => {
        autocannon({
            url: spec.origin, connections: spec.connections, duration: spec.durationSec, timeout: 10,
            requests: [request]
        }, (err, r) => {
            if (err) {
                reject(err);
                return;
            }
            resolve({
                requests: r.requests.total,
                reqPerSec: r.requests.total / r.duration,
                latencyP50Ms: r.latency.p50,
                latencyP99Ms: r.latency.p99,
                latencyMaxMs: r.latency.max,
                non2xx: r.non2xx,
                errors: r.errors,
                timeouts: r.timeouts,
                statusCodes: { '1xx': r['1xx'], '2xx': r['2xx'], '3xx': r['3xx'], '4xx': r['4xx'], '5xx': r['5xx'] }
            });
        });
    });
}

run(JSON.parse(process.argv[2]) as LoadSpec).then((s) => {
    process.stdout.write(`${JSON.stringify(s)}\n`);
}, (e: unknown) => {
    process.stderr.write(`${String((e as Error).stack ?? e)}\n`);
    process.exit(1);
});
