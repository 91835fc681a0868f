import assert from 'node:assert/strict';
import Ajv from 'ajv';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as yaml from 'js-yaml';
import { answerFirst, answerSchemaErrors, answerUnavailable, CONFIG_ERROR_ANSWERS, healthcheckAnswer, NO_MATCHING_POOL }
    from '../../../src/front-doors/mongoosepush/answers';
import { parseDeviceId, parseV3Body } from '../../../src/front-doors/mongoosepush/request';
import { ApiSpec, loadApiSpec } from '../../../src/http/api-spec';

/**
 * The MongoosePush part of spec.yaml: the schema compiles
 * under the service's own strict validator, it and request.ts accept and refuse the same
 * bodies, and the x-amples agree with what request.ts and answers.ts produce (the x-amples
 * themselves run against the service once the route is wired).
 */
type Json = Record<string, any>;
const ROOT = path.join(__dirname, '..', '..', '..');
const V3 = '/v3/notification/{device_id}';

const fragment = yaml.load(readFileSync(path.join(ROOT, 'spec.yaml'), 'utf8')) as Json;

/** spec.yaml, which holds the MongoosePush paths and schemas. */
function merged(): Json {
    return yaml.load(readFileSync(path.join(ROOT, 'spec.yaml'), 'utf8')) as Json;
}

describe('MongoosePush in spec.yaml', () => {
    let dir: string;
    let spec: ApiSpec;
    let validateBody: ReturnType<ApiSpec['requestValidator']>;
    // The response schemas, compiled with the same options as the request validators.
    const ajv = new Ajv({ allErrors: true, strict: true, coerceTypes: false, verbose: true });
    ajv.addVocabulary(['example', 'discriminator', 'xml', 'externalDocs', 'components']);

    before(() => {
        dir = mkdtempSync(path.join(tmpdir(), 'mp-spec-'));
        const file = path.join(dir, 'spec.yaml');
        writeFileSync(file, yaml.dump(merged()));
        spec = loadApiSpec(file, { messageTypes: ['checkEchoV1'], maxDeviceTokens: 500, version: '1.0.0' });
        validateBody = spec.requestValidator(V3, 'post');
        ajv.addSchema({ components: spec.document.components }, 'spec');
    });
    after(() => {
        rmSync(dir, { recursive: true, force: true });
    });

    const responseSchema = (status: number): object => {
        const op = fragment.paths[V3].post;
        const schema = op.responses[String(status)].content['application/json'].schema as Json;
        return schema.$ref ? { $ref: `spec${schema.$ref as string}` } : schema;
    };
    const assertResponse = (status: number, body: unknown): void => {
        const v = ajv.compile(responseSchema(status));
        assert.ok(v(body), `${status} ${JSON.stringify(body)}: ${JSON.stringify(v.errors)}`);
    };

    it('the merged spec knows both paths and their methods', () => {
        assert.deepEqual(spec.methodsByPath.get(V3), ['POST']);
        assert.deepEqual(spec.methodsByPath.get('/healthcheck'), ['GET']);
    });

    describe('x-amples', () => {
        const xamples = fragment.paths[V3].post['x-amples'] as Json[];
        for (const x of xamples) {
            it(`${x.title as string}: consistent with request.ts and answers.ts`, () => {
                assert.ok(parseDeviceId(x.request.params.device_id).ok);
                const parsed = parseV3Body(x.request.body);
                assert.equal(validateBody(structuredClone(x.request.body)), parsed.ok, 'spec and parser agree');
                if (x.response.status === 422) {
                    assert.ok(!parsed.ok);
                    assert.deepEqual(answerSchemaErrors(parsed.errors).body, x.response.body);
                } else {
                    assert.ok(parsed.ok, JSON.stringify(parsed));
                }
                assertResponse(x.response.status, x.response.body);
            });
        }
        it('cover 200, 410, 400 and 422', () => {
            assert.deepEqual([...new Set(xamples.map((x) => x.response.status))].sort(), [200, 400, 410, 422]);
        });
    });

    it('every answer answers.ts can give matches its response schema', () => {
        for (const [status, body] of Object.values(CONFIG_ERROR_ANSWERS)) {
            assertResponse(status, { reason: body });
        }
        for (const outcome of ['delivered', 'transient', 'pending', 'dead', 'dead_held', 'invalid'] as const) {
            const a = answerFirst({ outcome, reason: 'x' });
            assertResponse(a.status, a.body);
        }
        assertResponse(NO_MATCHING_POOL.status, NO_MATCHING_POOL.body);
        assertResponse(503, answerUnavailable(3).body);
        const errors = parseV3Body({});
        assert.ok(!errors.ok);
        assertResponse(422, answerSchemaErrors(errors.errors).body);
    });

    it('the healthcheck body matches its schema', () => {
        const schema = fragment.paths['/healthcheck'].get.responses['200'].content['application/json'].schema as Json;
        const v = ajv.compile({ $ref: `spec${schema.$ref as string}` });
        const a = healthcheckAnswer([{ provider: 'apns', kind: 'apns', usable: false, detail: 'x' }, { provider: 'fcm', kind: 'fcm', usable: true }],
            '1.0.0', new Date());
        assert.ok(v(a.body), JSON.stringify(v.errors));
    });

    it('the device_id parameter schema is what parseDeviceId checks', () => {
        const param = (fragment.paths[V3].post.parameters as Json[]).find((p) => p.name === 'device_id')!;
        const v = ajv.compile(param.schema);
        for (const id of ['abc', 'x'.repeat(4096), 'x'.repeat(4097), 'a b', '', 'caf\u00e9', 'a:b-c_d']) {
            assert.equal(v(id), parseDeviceId(encodeURIComponent(id)).ok, id);
        }
    });

    describe('the schema and request.ts accept and refuse the same bodies', () => {
        // Each field is mostly valid and sometimes not, so that both sides are exercised.
        const mostly = (good: unknown[], bad: unknown[]) =>
            fc.oneof({ arbitrary: fc.constantFrom(...good), weight: 12 }, { arbitrary: fc.constantFrom(...bad), weight: 1 });
        const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 2 });
        /** Mostly absent (undefined values vanish in the JSON round trip below). */
        const rare = (v: unknown) => fc.oneof({ arbitrary: fc.constant(undefined), weight: 12 }, { arbitrary: fc.constant(v), weight: 1 });
        const goodInt = fc.oneof(fc.integer({ min: 0, max: 5 }), fc.constantFrom(2147483647),
            fc.integer({ min: 0, max: 999999999 }).map(String), fc.constantFrom('+60', '-0', '-00', '0060'));
        const badInt = fc.constantFrom<unknown>(-1, '-5', 2147483648, -2147483648, 3.5, '1e3', ' 6', '', 'x', '6.0', true, null);
        const intField = fc.oneof({ arbitrary: goodInt, weight: 12 }, { arbitrary: badInt, weight: 1 });
        const alert = fc.oneof({
            weight: 12,
            arbitrary: fc.record({
                body: mostly(['b', ''], [1, null]), title: mostly(['t'], [null, ['t']]),
                badge: maybe(fc.oneof(intField, fc.integer({ min: -5, max: -1 }))),
                click_action: maybe(mostly(['REPLY'], [5])), tag: maybe(fc.constant('g')), sound: maybe(fc.constant('default')),
                subtitle: rare('s')
            }, { requiredKeys: ['body', 'title'] })
        }, { weight: 1, arbitrary: fc.constantFrom<unknown>('x', null, [], {}, { body: 'b' }) });
        const body = fc.record({
            service: fc.oneof({ arbitrary: mostly(['fcm', 'apns'], ['gcm', 5, null]), weight: 12 }, { arbitrary: fc.constant(undefined), weight: 1 }),
            mode: mostly(['prod', 'dev'], ['x', 1, null]),
            priority: mostly(['normal', 'high'], ['low', true]),
            time_to_live: intField,
            mutable_content: mostly([true, false, 'true', 'false'], ['TRUE', 'yes', 1, null]),
            tags: mostly([[], ['a']], [['a', 1], 'a', null]),
            topic: mostly(['com.example.app', 'com.app.voip'], ['bad topic', '', 5, 'x'.repeat(256)]),
            alert,
            data: mostly([{}, { a: 1, b: { c: null } }], [[], 'x', null]),
            extra: rare(1)
        }, { requiredKeys: ['service', 'extra'] }).map((b) => JSON.parse(JSON.stringify(b)) as Record<string, unknown>);

        it('for generated bodies, valid and invalid', () => {
            let valid = 0;
            const runs = 3000;
            fc.assert(fc.property(body, (b) => {
                const viaSpec = validateBody(structuredClone(b));
                const viaParser = parseV3Body(b).ok;
                assert.equal(viaParser, viaSpec, `${JSON.stringify(b)}: parser ${String(viaParser)}, spec ${String(viaSpec)}`);
                valid += viaParser ? 1 : 0;
            }), { numRuns: runs });
            assert.ok(valid > runs * 0.15 && valid < runs * 0.85, `valid share ${valid / runs}: the generator is off balance`);
        });

        it('for any JSON value, and the parser never throws', () => {
            fc.assert(fc.property(fc.jsonValue({ maxDepth: 3 }), (b) => {
                assert.equal(parseV3Body(b).ok, validateBody(structuredClone(b)));
            }), { numRuns: 500 });
        });
    });
});
