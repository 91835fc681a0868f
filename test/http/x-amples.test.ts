import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as yaml from 'js-yaml';
import { ProviderFakes, startProviderFakes } from '../fakes/provider-fakes';
import { startTestService, TestService } from '../helpers/service-harness';

/**
 * Runs every `x-amples` entry of spec.yaml against the running service, as the
 * service-template does. Strings written /like this/ in an expectation are regexes.
 */
interface Xample {
    title: string;
    request: { params?: Record<string, string>; query?: Record<string, unknown>; headers?: Record<string, string>; body?: unknown };
    response: { status: number; headers?: Record<string, string>; body?: unknown };
}

const spec = yaml.load(readFileSync(path.join(__dirname, '..', '..', 'spec.yaml'), 'utf8')) as any;

function matches(expected: unknown, actual: unknown, where: string): void {
    if (typeof expected === 'string' && /^\/.+\/$/.test(expected)) {
        assert.match(String(actual), new RegExp(expected.slice(1, -1)), where);
    } else if (expected && typeof expected === 'object' && !Array.isArray(expected)) {
        assert.ok(actual && typeof actual === 'object', `${where}: expected an object, got ${JSON.stringify(actual)}`);
        const keys = Object.keys(expected);
        if (keys.length === 0) {
            assert.deepEqual(actual, expected, where);
        }
        for (const k of keys) {
            matches((expected as any)[k], (actual as any)[k], `${where}.${k}`);
        }
    } else {
        assert.deepEqual(actual, expected, where);
    }
}

describe('spec.yaml x-amples', function () {
    this.timeout(20000);
    let svc: TestService;
    let fakes: ProviderFakes;
    before(async () => {
        // Every front door on, against the provider fakes (the MongoosePush examples need real
        // provider answers: 'dead-' tokens are unregistered at the fakes).
        fakes = await startProviderFakes();
        svc = await startTestService({
            ...fakes.conf,
            matrix: { apps: { 'org.example.app': { provider: 'apns' } } },
            mongoosepush: { fcm: 'fcm', apns: { prod: 'apns' } },
            webpush: { mock: true }
        });
    });
    after(async () => {
        await svc.close();
        await fakes.close();
    });

    const cases: [string, string, Xample][] = [];
    for (const [p, ops] of Object.entries<any>(spec.paths)) {
        for (const [method, op] of Object.entries<any>(ops)) {
            for (const x of (op['x-amples'] ?? []) as Xample[]) {
                cases.push([p, method, x]);
            }
        }
    }

    it('has examples for every path', () => {
        for (const p of Object.keys(spec.paths)) {
            assert.ok(cases.some(([cp]) => cp === p), `no x-amples for ${p}`);
        }
    });

    for (const [p, method, x] of cases) {
        it(`${method.toUpperCase()} ${p}: ${x.title}`, async () => {
            let uri = p;
            for (const [k, v] of Object.entries(x.request.params ?? {})) {
                uri = uri.replace(`{${k}}`, encodeURIComponent(v));
            }
            const qs = new URLSearchParams();
            for (const [k, v] of Object.entries(x.request.query ?? {})) {
                qs.set(k, String(v));
            }
            const res = await fetch(`${svc.baseUrl}${uri}${qs.size ? `?${qs.toString()}` : ''}`, {
                method: method.toUpperCase(),
                headers: x.request.headers,
                body: x.request.body === undefined ? undefined : JSON.stringify(x.request.body),
                redirect: 'manual'
            });
            const text = await res.text();
            assert.equal(res.status, x.response.status, `status; body: ${text.slice(0, 300)}`);
            for (const [h, v] of Object.entries(x.response.headers ?? {})) {
                matches(/^\//.test(v) ? v : `/^${v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/`, res.headers.get(h), `header ${h}`);
            }
            if (x.response.body !== undefined) {
                matches(x.response.body, JSON.parse(text), 'body');
            }
        });
    }
});
