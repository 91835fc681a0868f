import assert from 'node:assert/strict';
import Ajv from 'ajv';
import { ConfigError } from '../../../src/config/config-error';
import {
    DEFAULT_ANSWER_WITHIN_MS, MongoosePushConfig, MongoosePushConfigInput, mongoosepushSchema, resolveMongoosePushConfig, resolveRoute
} from '../../../src/front-doors/mongoosepush/config';
import { ProviderKind } from '../../../src/push/provider';

// The service config's own ajv options (src/config/service-config.ts).
const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, allowUnionTypes: true });
const validate = ajv.compile(mongoosepushSchema);

const REGISTRY = new Map<string, ProviderKind>([['apns', 'apns'], ['apns-sandbox', 'apns'], ['fcm', 'fcm'], ['web', 'webpush']]);

function load(raw: unknown): MongoosePushConfig | undefined {
    const copy = structuredClone(raw);
    assert.ok(validate(copy), JSON.stringify(validate.errors));
    return resolveMongoosePushConfig(copy as MongoosePushConfigInput, REGISTRY);
}

describe('MongoosePush config', () => {
    it('absent: the front door is off', () => {
        assert.equal(resolveMongoosePushConfig(undefined, REGISTRY), undefined);
    });

    it('ids as strings or {provider, topic}; answerWithinMs defaults to 1500', () => {
        assert.deepEqual(load({ apns: { prod: 'apns', dev: { provider: 'apns-sandbox', topic: 'com.example.chat' } }, fcm: 'fcm' }), {
            apns: { prod: { provider: 'apns' }, dev: { provider: 'apns-sandbox', topic: 'com.example.chat' } },
            fcm: { provider: 'fcm' },
            answerWithinMs: DEFAULT_ANSWER_WITHIN_MS
        });
        assert.ok(DEFAULT_ANSWER_WITHIN_MS < 2000, 'under MongooseIM\'s default request_timeout');
    });

    it('one route is enough', () => {
        assert.deepEqual(load({ fcm: { provider: 'fcm' }, answerWithinMs: 900 }),
            { apns: { prod: undefined, dev: undefined }, fcm: { provider: 'fcm' }, answerWithinMs: 900 });
    });

    const refused: [string, unknown, RegExp][] = [
        ['an unknown id', { apns: { prod: 'apns-prod' } }, /mongoosepush\.apns\.prod: unknown provider id "apns-prod" \(known: apns, apns-sandbox, fcm, web\)/],
        ['an FCM id for APNs', { apns: { dev: 'fcm' } }, /mongoosepush\.apns\.dev: provider "fcm" is fcm, not apns/],
        ['a Web Push id for FCM', { fcm: 'web' }, /mongoosepush\.fcm: provider "web" is webpush, not fcm/],
        ['a section that routes nothing', {}, /mongoosepush: routes nothing/]
    ];
    for (const [title, raw, message] of refused) {
        it(`refuses ${title}, naming the key`, () => {
            assert.throws(() => load(raw), (e: unknown) => e instanceof ConfigError && message.test(e.message));
        });
    }

    const invalid: [string, unknown][] = [
        ['an unknown key', { fcm: 'fcm', tags: ['x'] }],
        ['an unknown mode', { apns: { staging: 'apns' } }],
        ['a topic on the FCM route', { fcm: { provider: 'fcm', topic: 'com.x' } }],
        ['a topic that cannot be a header', { apns: { prod: { provider: 'apns', topic: 'com.x\r\nx' } } }],
        ['an empty id', { fcm: '' }],
        ['answerWithinMs below 100', { fcm: 'fcm', answerWithinMs: 50 }],
        ['answerWithinMs above a minute', { fcm: 'fcm', answerWithinMs: 60001 }]
    ];
    for (const [title, raw] of invalid) {
        it(`the schema refuses ${title}`, () => {
            assert.equal(validate(structuredClone(raw)), false);
        });
    }
});

describe('MongoosePush config: routes', () => {
    const config = load({ apns: { prod: 'apns' }, fcm: 'fcm' })!;
    const rows: [string, 'fcm' | 'apns', 'prod' | 'dev', string[], string | undefined][] = [
        ['fcm, prod', 'fcm', 'prod', [], 'fcm'],
        ['fcm, dev (FCM has no sandbox)', 'fcm', 'dev', [], 'fcm'],
        ['apns, prod', 'apns', 'prod', [], 'apns'],
        ['apns, dev: not configured', 'apns', 'dev', [], undefined],
        ['tags: no tagged pools here', 'fcm', 'prod', ['vip'], undefined]
    ];
    for (const [title, service, mode, tags, provider] of rows) {
        it(title, () => {
            const r = resolveRoute(config, service, mode, tags);
            assert.deepEqual(r, provider ? { ok: true, route: { provider } } : { ok: false, reason: 'no_matching_pool' });
        });
    }
    it('no FCM route: FCM requests match nothing', () => {
        assert.deepEqual(resolveRoute(load({ apns: { dev: 'apns-sandbox' } })!, 'fcm', 'prod'), { ok: false, reason: 'no_matching_pool' });
    });
    it('the route carries its default topic', () => {
        const c = load({ apns: { prod: { provider: 'apns', topic: 'com.example.chat' } } })!;
        assert.deepEqual(resolveRoute(c, 'apns', 'prod'), { ok: true, route: { provider: 'apns', topic: 'com.example.chat' } });
    });
});
