import assert from 'node:assert/strict';
import { MAX_SCHEMA_ERRORS, parseDeviceId, parseV3Body, SchemaError, V3Request } from '../../../src/front-doors/mongoosepush/request';
import { chatSummary, jingleSummary, mongooseImRequest } from './mongooseim';

const APNS_TOKEN = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';
const FCM_TOKEN = 'cXample0Fcm:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx_abcdefghij';

function ok(body: unknown): V3Request {
    const r = parseV3Body(body);
    assert.ok(r.ok, `expected a valid body, got ${JSON.stringify(r)}`);
    return r.value;
}

function errors(body: unknown): readonly SchemaError[] {
    const r = parseV3Body(body);
    assert.ok(!r.ok, `expected schema errors for ${JSON.stringify(body)}`);
    return r.errors;
}

const err = (pointer: string, message: string): SchemaError => ({ title: 'Invalid value', source: { pointer }, message });

describe('MongoosePush v3 request: what MongooseIM sends', () => {
    it('the builder writes the body byte for byte as jiffy does (atoms first, then binaries)', () => {
        const req = mongooseImRequest({
            device_id: APNS_TOKEN, service: 'apns', mode: 'dev', priority: 'high', topic: 'com.example.chat',
            mutable_content: 'true', time_to_live: '3600', click_action: 'REPLY', sound: 'default', tags: 'never-forwarded'
        }, chatSummary('alice@localhost', 'OH, HAI!', 3));
        assert.equal(req.path, `v3/notification/${APNS_TOKEN}`);
        assert.equal(req.json, '{"alert":{"badge":3,"body":"OH, HAI!","tag":"alice@localhost","title":"alice@localhost",' +
            '"click_action":"REPLY","sound":"default"},"service":"apns","mode":"dev","mutable_content":"true",' +
            '"priority":"high","time_to_live":"3600","topic":"com.example.chat"}');
    });

    it('an alert with no options: mode prod, mutable_content false, badge from message-count', () => {
        const req = mongooseImRequest({ device_id: APNS_TOKEN, service: 'apns' }, chatSummary('alice@localhost', 'OH, HAI!'));
        assert.deepEqual(ok(JSON.parse(req.json)), {
            service: 'apns', mode: 'prod', mutableContent: false, tags: [],
            alert: { title: 'alice@localhost', body: 'OH, HAI!', badge: 1, tag: 'alice@localhost' }
        });
    });

    it('every option as a string: "true" is a boolean, "3600" an integer', () => {
        const req = mongooseImRequest({
            device_id: APNS_TOKEN, service: 'apns', mode: 'dev', priority: 'high', topic: 'com.example.chat',
            mutable_content: 'true', time_to_live: '3600', click_action: 'REPLY', sound: 'default'
        }, chatSummary('room@muc.localhost/bob', 'hello all', 12));
        assert.deepEqual(ok(JSON.parse(req.json)), {
            service: 'apns', mode: 'dev', priority: 'high', timeToLive: 3600, mutableContent: true, tags: [],
            topic: 'com.example.chat',
            alert: { title: 'room@muc.localhost/bob', body: 'hello all', badge: 12, clickAction: 'REPLY', tag: 'room@muc.localhost/bob', sound: 'default' }
        });
    });

    it('"false" is false', () => {
        const req = mongooseImRequest({ device_id: FCM_TOKEN, service: 'fcm', mutable_content: 'false' }, chatSummary('a@b', 'x'));
        assert.equal(ok(JSON.parse(req.json)).mutableContent, false);
    });

    it('silent=true: the summary form as data, message-count an integer', () => {
        const req = mongooseImRequest({ device_id: FCM_TOKEN, service: 'fcm', silent: 'true', priority: 'high', time_to_live: '60' },
            chatSummary('alice@localhost', 'OH, HAI!', 2));
        assert.equal(req.json, '{"data":{"last-message-body":"OH, HAI!","last-message-sender":"alice@localhost","message-count":2},' +
            '"service":"fcm","priority":"high","time_to_live":"60"}');
        assert.deepEqual(ok(JSON.parse(req.json)), {
            service: 'fcm', mode: 'prod', priority: 'high', timeToLive: 60, mutableContent: false, tags: [],
            data: { 'last-message-body': 'OH, HAI!', 'last-message-sender': 'alice@localhost', 'message-count': 2 }
        });
    });

    it('a silent Jingle call (plugin_hints): data without a message count', () => {
        const req = mongooseImRequest({ device_id: APNS_TOKEN, service: 'apns', silent: 'true' }, jingleSummary('bob@localhost/phone', 'propose', 'sid-1'));
        assert.deepEqual(ok(JSON.parse(req.json)).data,
            { 'jingle-message': 'propose', 'jingle-session-id': 'sid-1', 'message-sender': 'bob@localhost/phone' });
    });

    it('a non-silent Jingle message never reaches us: MongooseIM fails to build it', () => {
        assert.throws(() => mongooseImRequest({ device_id: APNS_TOKEN, service: 'apns' }, jingleSummary('b@l', 'propose', 's')),
            /make_notification_failed/);
    });

    it('a mixed body (alert and data; other clients) keeps both', () => {
        const r = ok({ service: 'fcm', alert: { title: 't', body: 'b' }, data: { k: { nested: true } } });
        assert.deepEqual(r.alert, { title: 't', body: 'b' });
        assert.deepEqual(r.data, { k: { nested: true } });
    });
});

describe('MongoosePush v3 request: MongoosePush\'s own controller tests', () => {
    // test/support/controllers_helper.ex
    const alertRequest = () => ({
        service: 'apns', mode: 'prod', priority: 'normal', time_to_live: 3600, mutable_content: false,
        tags: ['some', 'tags', 'for', 'pool', 'selection'], topic: 'com.someapp',
        alert: { body: 'A message from someone', title: 'Notification title', badge: 7, click_action: '.SomeApp.Handler.action', tag: 'info', sound: 'standard.mp3' }
    });
    const silentRequest = () => ({
        service: 'apns', mode: 'prod', priority: 'normal', time_to_live: 3600, mutable_content: false,
        tags: ['some', 'tags', 'for', 'pool', 'selection'], topic: 'com.someapp',
        data: { custom: 'data fields', some_id: 345645332, nested: { fields: 'allowed' } }
    });
    const drop = (o: Record<string, unknown>, k: string) => Object.fromEntries(Object.entries(o).filter(([key]) => key !== k));

    it('correct Alert and Silent bodies pass', () => {
        ok(alertRequest());
        ok(silentRequest());
    });
    for (const field of ['service', 'alert']) {
        it(`Alert without ${field}: Missing field`, () => {
            assert.deepEqual(errors(drop(alertRequest(), field)), [err(`/${field}`, `Missing field: ${field}`)]);
        });
    }
    it('Alert with priority "the highest in the world": Invalid value for enum', () => {
        assert.deepEqual(errors({ ...alertRequest(), priority: 'the highest in the world' }), [err('/priority', 'Invalid value for enum')]);
    });
    it('Alert and Silent with an unexpected field', () => {
        assert.deepEqual(errors({ ...alertRequest(), field: 'peek-a-boo' }), [err('/field', 'Unexpected field: field')]);
        assert.deepEqual(errors({ ...silentRequest(), field: 'peek-a-boo' }), [err('/field', 'Unexpected field: field')]);
    });
    it('Silent without service: Missing field: service; without data: Missing field: alert', () => {
        assert.deepEqual(errors(drop(silentRequest(), 'service')), [err('/service', 'Missing field: service')]);
        assert.deepEqual(errors(drop(silentRequest(), 'data')), [err('/alert', 'Missing field: alert')]);
    });
    it('Silent with time_to_live "infinity": Invalid integer. Got: string', () => {
        assert.deepEqual(errors({ ...silentRequest(), time_to_live: 'infinity' }), [err('/time_to_live', 'Invalid integer. Got: string')]);
    });
    it('an empty body: service and alert missing, in that order', () => {
        assert.deepEqual(errors({}), [err('/service', 'Missing field: service'), err('/alert', 'Missing field: alert')]);
    });
    for (const field of ['body', 'title']) {
        it(`alert without ${field}: /alert/${field}`, () => {
            const body = alertRequest();
            assert.deepEqual(errors({ ...body, alert: drop(body.alert, field) }), [err(`/alert/${field}`, `Missing field: ${field}`)]);
        });
    }
    it('decoder: all possible fields of an alert', () => {
        assert.deepEqual(ok(alertRequest()), {
            service: 'apns', mode: 'prod', priority: 'normal', timeToLive: 3600, mutableContent: false,
            tags: ['some', 'tags', 'for', 'pool', 'selection'], topic: 'com.someapp',
            alert: { body: 'A message from someone', title: 'Notification title', badge: 7, clickAction: '.SomeApp.Handler.action', tag: 'info', sound: 'standard.mp3' }
        });
    });
    it('decoder: only the required fields; mutable_content defaults to false, mode to prod', () => {
        assert.deepEqual(ok({ service: 'fcm', alert: { body: 'b', title: 't' } }),
            { service: 'fcm', mode: 'prod', mutableContent: false, tags: [], alert: { body: 'b', title: 't' } });
        assert.deepEqual(ok({ service: 'apns', data: { acme1: 'value1' } }),
            { service: 'apns', mode: 'prod', mutableContent: false, tags: [], data: { acme1: 'value1' } });
    });
});

describe('MongoosePush v3 request: 422 table', () => {
    const alert = { body: 'b', title: 't' };
    const rows: [string, unknown, SchemaError[]][] = [
        ['a JSON array body', [], [err('/', 'Invalid object. Got: array')]],
        ['a string body', 'hello', [err('/', 'Invalid object. Got: string')]],
        ['a null body', null, [err('/', 'null value where object expected')]],
        ['service not a string', { service: 5, alert }, [err('/service', 'Invalid string. Got: integer')]],
        ['service gcm', { service: 'gcm', alert }, [err('/service', 'Invalid value for enum')]],
        ['mode null', { service: 'fcm', mode: null, alert }, [err('/mode', 'null value where string expected')]],
        ['mode staging', { service: 'fcm', mode: 'staging', alert }, [err('/mode', 'Invalid value for enum')]],
        ['time_to_live 3.5', { service: 'fcm', time_to_live: 3.5, alert }, [err('/time_to_live', 'Invalid integer. Got: number')]],
        ['time_to_live "1e3"', { service: 'fcm', time_to_live: '1e3', alert }, [err('/time_to_live', 'Invalid integer. Got: string')]],
        ['time_to_live " 60"', { service: 'fcm', time_to_live: ' 60', alert }, [err('/time_to_live', 'Invalid integer. Got: string')]],
        ['time_to_live true', { service: 'fcm', time_to_live: true, alert }, [err('/time_to_live', 'Invalid integer. Got: boolean')]],
        ['time_to_live -5', { service: 'fcm', time_to_live: -5, alert }, [err('/time_to_live', '-5 is smaller than inclusive minimum 0')]],
        ['time_to_live "-5"', { service: 'fcm', time_to_live: '-5', alert }, [err('/time_to_live', '-5 is smaller than inclusive minimum 0')]],
        ['time_to_live 2^31', { service: 'fcm', time_to_live: 2147483648, alert }, [err('/time_to_live', 'Invalid format. Expected :int32')]],
        ['time_to_live "99999999999"', { service: 'fcm', time_to_live: '99999999999', alert }, [err('/time_to_live', 'Invalid format. Expected :int32')]],
        ['mutable_content "yes"', { service: 'apns', mutable_content: 'yes', alert }, [err('/mutable_content', 'Invalid boolean. Got: string')]],
        ['mutable_content "TRUE"', { service: 'apns', mutable_content: 'TRUE', alert }, [err('/mutable_content', 'Invalid boolean. Got: string')]],
        ['mutable_content 1', { service: 'apns', mutable_content: 1, alert }, [err('/mutable_content', 'Invalid boolean. Got: integer')]],
        ['tags a string', { service: 'apns', tags: 'a', alert }, [err('/tags', 'Invalid array. Got: string')]],
        ['tags with a number and a null', { service: 'apns', tags: ['a', 1, null], alert },
            [err('/tags/1', 'Invalid string. Got: integer'), err('/tags/2', 'null value where string expected')]],
        ['topic with a line break', { service: 'apns', topic: 'com.app\r\nx: y', alert },
            [err('/topic', 'Invalid format. Expected ~r/^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/')]],
        ['topic an object', { service: 'apns', topic: {}, alert }, [err('/topic', 'Invalid string. Got: object')]],
        ['alert a string', { service: 'apns', alert: 'hi' }, [err('/alert', 'Invalid object. Got: string')]],
        ['alert null, with data', { service: 'apns', alert: null, data: {} }, [err('/alert', 'null value where object expected')]],
        ['alert empty', { service: 'apns', alert: {} }, [err('/alert/body', 'Missing field: body'), err('/alert/title', 'Missing field: title')]],
        ['alert with subtitle', { service: 'apns', alert: { ...alert, subtitle: 's' } }, [err('/alert/subtitle', 'Unexpected field: subtitle')]],
        ['alert.badge "seven"', { service: 'apns', alert: { ...alert, badge: 'seven' } }, [err('/alert/badge', 'Invalid integer. Got: string')]],
        ['alert.body a number', { service: 'apns', alert: { body: 1, title: 't' } }, [err('/alert/body', 'Invalid string. Got: integer')]],
        ['data an array, with alert', { service: 'fcm', alert, data: [] }, [err('/data', 'Invalid object. Got: array')]],
        ['data a string, silent', { service: 'fcm', data: 'x' }, [err('/data', 'Invalid object. Got: string')]],
        ['errors in key order, nested ones included', { service: 'x', priority: 'y', mode: 'z', alert: { body: 1, title: 't' } },
            [err('/alert/body', 'Invalid string. Got: integer'), err('/mode', 'Invalid value for enum'),
                err('/priority', 'Invalid value for enum'), err('/service', 'Invalid value for enum')]],
        ['an unknown field hides missing ones', { field: 1 }, [err('/field', 'Unexpected field: field')]],
        ['only the first unknown field, in key order', { zz: 1, aa: 1, service: 'fcm', alert }, [err('/aa', 'Unexpected field: aa')]],
        ['a long unknown name: 40 characters in the message, all in the pointer', { service: 'fcm', alert, ['x'.repeat(50)]: 1 },
            [err(`/${'x'.repeat(50)}`, `Unexpected field: ${'x'.repeat(40)}`)]],
        ['a field name with / and ~ (RFC 6901 pointer)', { service: 'fcm', alert, 'a/b~c': 1 }, [err('/a~1b~0c', 'Unexpected field: a/b~c')]],
        ['__proto__ is an unknown field, not a prototype', JSON.parse('{"service":"fcm","alert":{"body":"b","title":"t"},"__proto__":{"x":1}}'),
            [err('/__proto__', 'Unexpected field: __proto__')]]
    ];
    for (const [title, body, expected] of rows) {
        it(title, () => {
            assert.deepEqual(errors(body), expected);
        });
    }

    it(`lists at most ${MAX_SCHEMA_ERRORS} errors`, () => {
        const list = errors({ service: 'fcm', alert, tags: Array.from({ length: 50 }, (_, i) => i) });
        assert.equal(list.length, MAX_SCHEMA_ERRORS);
        assert.deepEqual(list[0], err('/tags/0', 'Invalid string. Got: integer'));
    });

    it('accepts what OpenApiSpex accepts: signs, leading zeros, int32 bounds', () => {
        assert.equal(ok({ service: 'fcm', alert, time_to_live: '+0003600' }).timeToLive, 3600);
        assert.equal(ok({ service: 'fcm', alert, time_to_live: 2147483647 }).timeToLive, 2147483647);
        assert.equal(ok({ service: 'fcm', alert: { ...alert, badge: '-2147483647' } }).alert?.badge, -2147483647);
        assert.deepEqual(errors({ service: 'fcm', alert: { ...alert, badge: -2147483648 } }), [err('/alert/badge', 'Invalid format. Expected :int32')]);
    });

    it('data keeps any values, nested ones included, as sent', () => {
        const data = { a: 1, b: null, c: [1, 'x'], d: { e: { f: true } }, aps: { x: 1 } };
        assert.deepEqual(ok({ service: 'fcm', data }).data, data);
    });
});

describe('MongoosePush v3 request: device_id', () => {
    const good: [string, string][] = [
        [APNS_TOKEN, APNS_TOKEN],
        [FCM_TOKEN, FCM_TOKEN],
        ['123456', '123456'],
        ['%41bc%3Adef', 'Abc:def'],
        ['x'.repeat(4096), 'x'.repeat(4096)]
    ];
    for (const [raw, value] of good) {
        it(`accepts ${raw.slice(0, 24)}${raw.length > 24 ? '…' : ''}`, () => {
            assert.deepEqual(parseDeviceId(raw), { ok: true, value });
        });
    }
    const pattern = 'Invalid format. Expected ~r/^[!-~]+$/';
    const bad: [string, string][] = [
        ['', pattern],
        ['a%20b', pattern],
        ['tab%09', pattern],
        ['%E0%A4%A', pattern],
        ['caf\u00e9', pattern],
        ['x'.repeat(4097), 'String length is larger than maxLength: 4096']
    ];
    for (const [raw, message] of bad) {
        it(`refuses ${JSON.stringify(raw.slice(0, 24))}: ${message}`, () => {
            assert.deepEqual(parseDeviceId(raw), { ok: false, errors: [err('/device_id', message)] });
        });
    }
});
