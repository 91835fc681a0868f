import assert from 'node:assert/strict';
import fc from 'fast-check';
import { startTestService, TestService } from '../helpers/service-harness';
import { assertNoInternals, send } from './http-helpers';
import { rawBytes, rawRequest, RawResponse } from './raw-http';

/**
 * Property-based fuzzing of the running HTTP API (issue 7): whatever arrives, the answer is
 * a 2xx, or a 4xx problem+json; never a 5xx, never a stack trace; the process stays up and
 * logs no error.
 *
 * The bounded run in `npm test` makes FUZZ_RUNS (default 300) requests in all, spread over
 * the properties below by weight. For a long manual run:
 *   FUZZ_RUNS=20000 npx mocha --no-config -r ts-node/register --extension ts --timeout 0 test/http/fuzz.test.ts
 * A failure prints fast-check's seed and path; replay with FUZZ_SEED=<seed>.
 */
const TOTAL_RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
const MAX_BODY = 32 * 1024;
const MAX_TOKENS = 50;

const WEIGHTS = { json: 20, fields: 20, unicode: 15, contentType: 15, bytes: 10, framing: 10, paths: 10 };
const WEIGHT_SUM = Object.values(WEIGHTS).reduce((a, b) => a + b, 0);
const runsFor = (k: keyof typeof WEIGHTS): number => Math.max(1, Math.round(TOTAL_RUNS * WEIGHTS[k] / WEIGHT_SUM));

const PATHS = ['/v1/message/fcm', '/v1/message/apns'];
const VALID = { deviceTokens: ['fuzz-token'], messageType: 'checkEchoV1' };

/** Strings that have broken parsers and loggers before. */
const NASTY = ['', '\u0000', 'a\u0000b', '\ud800', '\udfff', 'x\udc00y', '\ud83d\ude00', '\u202eevil', '\u200f\u05d0',
    '\ufeff', '\u2028\u2029', '\\', '"', '</script>', '%00', '%', '{{user-agent}}', '__proto__', 'constructor',
    'a'.repeat(5000), '\r\n\r\nHTTP/1.1 200 OK', '\x7f', '\u00ff', 'ＡＢＣ'];

const nasty = fc.constantFrom(...NASTY);
const weirdString = fc.oneof(nasty, fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ maxLength: 40 }));
const anyJson = fc.jsonValue({ maxDepth: 4 });

interface Answer {
    readonly status?: number;
    readonly contentType: string;
    readonly body: string;
}

/** The one rule every answer obeys. */
function check(a: Answer, what: string, allowNoAnswer = false): void {
    if (a.status === undefined) {
        assert.ok(allowNoAnswer, `${what}: no answer`);
        return;
    }
    assert.ok(a.status >= 200 && a.status < 500 && !(a.status >= 300 && a.status < 400),
        `${what}: status ${a.status}: ${a.body.slice(0, 300)}`);
    assertNoInternals(a.body, what);
    if (a.status >= 400) {
        assert.match(a.contentType, /^application\/problem\+json/, `${what}: content-type of a ${a.status}`);
        const problem = JSON.parse(a.body) as Record<string, unknown>;
        assert.equal(problem.status, a.status, what);
        assert.equal(typeof problem.type, 'string', what);
        assert.equal(typeof problem.title, 'string', what);
    } else {
        assert.equal(a.body, '{}', what);
    }
}

const fromRaw = (r: RawResponse): Answer => ({ status: r.status, contentType: r.headers['content-type'] ?? '', body: r.body });

describe('fuzzing the HTTP API (fast-check)', function () {
    this.timeout(120_000);
    let svc: TestService;
    let port: number;
    let requests = 0;
    const params = (numRuns: number) => ({ numRuns, seed: SEED, endOnFailure: true });

    before(async () => {
        svc = await startTestService({ max_body_size: MAX_BODY, max_device_tokens: MAX_TOKENS });
        port = svc.service.port;
    });
    after(async () => {
        await svc.close();
        console.log(`      fuzz: ${requests} requests (FUZZ_RUNS=${TOTAL_RUNS})`);
    });

    async function post(path: string, body: string | Uint8Array, headers: Record<string, string>): Promise<Answer> {
        requests++;
        const res = await send(svc.baseUrl, { path, headers, body });
        return { status: res.status, contentType: res.headers.get('content-type') ?? '', body: res.text };
    }

    async function raw(bytes: Buffer, endAfterWrite = false): Promise<RawResponse> {
        requests++;
        return rawRequest(port, bytes, { endAfterWrite });
    }

    it('arbitrary JSON values, and huge or deeply nested ones', async () => {
        const body = fc.oneof(
            { weight: 6, arbitrary: anyJson.map((v) => JSON.stringify(v) ?? 'null') },
            { weight: 2, arbitrary: fc.integer({ min: 1, max: 200_000 }).map((d) => `${'['.repeat(d)}${']'.repeat(d)}`) },
            { weight: 1, arbitrary: fc.integer({ min: 1, max: 50_000 }).map((d) => `${'{"a":'.repeat(d)}1${'}'.repeat(d)}`) },
            { weight: 2, arbitrary: fc.integer({ min: 1, max: MAX_BODY * 3 }).map((n) => JSON.stringify({ ...VALID, deviceTokens: ['t'.repeat(n)] })) },
            { weight: 1, arbitrary: fc.integer({ min: 1, max: 20_000 }).map((n) => JSON.stringify({ ...VALID, deviceTokens: Array(n).fill('t') })) }
        );
        await fc.assert(fc.asyncProperty(fc.constantFrom(...PATHS), body, async (path, b) => {
            check(await post(path, b, { 'content-type': 'application/json' }), `${path} ${b.slice(0, 80)}`);
        }), params(runsFor('json')));
    });

    it('every field with a value of the wrong type (or the right one)', async () => {
        const field = <T>(valid: fc.Arbitrary<T>) => fc.option(fc.oneof(valid, anyJson), { nil: undefined });
        const request = fc.record({
            deviceTokens: field(fc.array(fc.string({ minLength: 1, maxLength: 64 }), { minLength: 1, maxLength: MAX_TOKENS + 5 })),
            messageType: field(fc.constantFrom('checkEchoV1', 'checkEchoV2', 'CHECKECHOV1')),
            topic: field(fc.constantFrom('org.wikimedia.wikipedia', 'bad topic')),
            dryRun: field(fc.boolean()),
            extra: fc.option(anyJson, { nil: undefined })
        }, { requiredKeys: [] });
        await fc.assert(fc.asyncProperty(fc.constantFrom(...PATHS), request, async (path, r) => {
            const b = JSON.stringify(r);
            const a = await post(path, b, { 'content-type': 'application/json' });
            check(a, `${path} ${b.slice(0, 200)}`);
        }), params(runsFor('fields')));
    });

    it('odd Unicode in tokens, types, topics and keys (lone surrogates, NUL, RTL, BOM)', async () => {
        await fc.assert(fc.asyncProperty(fc.constantFrom(...PATHS), fc.array(weirdString, { minLength: 1, maxLength: 5 }),
            weirdString, weirdString, fc.boolean(), async (path, tokens, type, key, bom) => {
                // JSON.stringify escapes lone surrogates; Buffer.from(…, 'utf8') would send U+FFFD.
                const b = `${bom ? '\ufeff' : ''}${JSON.stringify({ deviceTokens: tokens, messageType: type, [key]: key })}`;
                check(await post(path, b, { 'content-type': 'application/json' }), `${path} ${JSON.stringify(b).slice(0, 200)}`);
            }), params(runsFor('unicode')));
    });

    it('wrong, odd and missing content types', async () => {
        const types = fc.oneof(
            fc.constantFrom('application/json', 'application/json; charset=utf-8', 'application/json; charset=UTF-16',
                'application/json; charset=latin1', 'application/json; charset="', 'application/json;;;', 'application/JSON',
                'text/json', 'application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain', '*/*', '', ';',
                'application/json, text/plain', 'application/problem+json', 'application/merge-patch+json'),
            fc.stringMatching(/^[\x20-\x7e]{0,60}$/)
        );
        await fc.assert(fc.asyncProperty(fc.constantFrom(...PATHS), fc.option(types, { nil: undefined }),
            fc.constantFrom(JSON.stringify(VALID), '{"a":', 'x=1'), async (path, type, b) => {
                const headers: [string, string][] = [['content-length', String(Buffer.byteLength(b))], ['connection', 'close']];
                if (type !== undefined) {
                    headers.push(['content-type', type]);
                }
                check(fromRaw(await raw(rawBytes('POST', path, headers, b))), `${path} content-type ${JSON.stringify(type)}`);
            }), params(runsFor('contentType')));
    });

    it('random bytes as the body, with and without a JSON content type', async () => {
        await fc.assert(fc.asyncProperty(fc.constantFrom(...PATHS), fc.uint8Array({ maxLength: 2048 }), fc.boolean(),
            async (path, bytes, json) => {
                const headers: Record<string, string> = json ? { 'content-type': 'application/json' } : {};
                check(await post(path, bytes, headers), `${path} ${bytes.length} random bytes`);
            }), params(runsFor('bytes')));
    });

    it('truncated bodies and wrong, invalid or conflicting framing (raw socket)', async () => {
        const framing = fc.record({
            body: fc.constantFrom(JSON.stringify(VALID), '{"deviceTokens":["a"],"messageType":"checkEchoV1"', 'x'.repeat(1000)),
            declared: fc.oneof(fc.constant('exact'), fc.constant('more'), fc.constant('less'), fc.constantFrom('abc', '-1', '1e3',
                '0x10', ' 5', '99999999999999999999', '', '5, 6'), fc.constant('conflict'), fc.constant('chunked+length'),
            fc.constant('bad chunks')),
            endAfterWrite: fc.boolean()
        });
        await fc.assert(fc.asyncProperty(fc.constantFrom(...PATHS), framing, async (path, f) => {
            const len = Buffer.byteLength(f.body);
            const headers: [string, string][] = [['content-type', 'application/json'], ['connection', 'close']];
            let body = f.body;
            switch (f.declared) {
                case 'exact': headers.push(['content-length', String(len)]); break;
                case 'more': headers.push(['content-length', String(len + 10)]); break;
                case 'less': headers.push(['content-length', String(Math.max(0, len - 10))]); break;
                case 'conflict': headers.push(['content-length', String(len)], ['content-length', String(len + 1)]); break;
                case 'chunked+length': headers.push(['content-length', String(len)], ['transfer-encoding', 'chunked']); break;
                case 'bad chunks': headers.push(['transfer-encoding', 'chunked']); body = `zz\r\n${f.body}\r\n0\r\n\r\n`; break;
                default: headers.push(['content-length', f.declared]);
            }
            // 'more' without a half-close would wait for the server's request timeout: always end it.
            const end = f.endAfterWrite || f.declared === 'more';
            const res = await raw(rawBytes('POST', path, headers, body), end);
            // A client that hangs up before its body is complete may get no answer at all.
            check(fromRaw(res), `${path} ${JSON.stringify(f)}`, end);
        }), params(runsFor('framing')));
    });

    it('random methods and paths', async () => {
        const method = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE', 'PURGE');
        const path = fc.oneof(fc.constantFrom(...PATHS, '/v1/message/', '/v1/message/fcm/', '/v1/message/FCM', '/%', '/%00',
            '/v1/message/fcm?x=%zz', '//v1/message/fcm', '/v1/message/fcm;x', '/' + 'a'.repeat(4000), '/?spec&doc', '/?doc&path=../../package.json'),
        fc.webPath());
        await fc.assert(fc.asyncProperty(method, path, async (m, p) => {
            const target = p.startsWith('/') ? p : `/${p}`;
            const res = await raw(rawBytes(m, target, [['connection', 'close'], ['content-type', 'application/json'],
                ['content-length', '2']], m === 'GET' || m === 'HEAD' ? '' : '{}'));
            const a = fromRaw(res);
            if (m === 'HEAD' || (a.status !== undefined && a.status < 400)) {
                // HEAD has no body; 2xx/3xx on the admin routes are documents, not '{}'.
                assert.ok(a.status !== undefined && a.status < 500, `${m} ${target}: ${a.status}`);
                return;
            }
            check(a, `${m} ${target}`);
        }), params(runsFor('paths')));
    });

    it('the process is still up, and the HTTP layer logged no error (no 500)', async () => {
        const res = await send(svc.baseUrl, { method: 'GET', path: '/healthz' });
        assert.equal(res.status, 200);
        const ok = await send(svc.baseUrl, { path: PATHS[0], headers: { 'content-type': 'application/json' }, body: JSON.stringify(VALID) });
        assert.equal(ok.status, 200);
        // Only the HTTP layer's own errors: delivery may log its own (no provider in tests).
        const errors = [...svc.logger.at('error'), ...svc.logger.at('fatal')].filter((e) => e.component.startsWith('http'));
        assert.deepEqual(errors, [], JSON.stringify(errors).slice(0, 500));
    });
});
