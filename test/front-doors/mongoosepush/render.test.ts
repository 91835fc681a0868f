import assert from 'node:assert/strict';
import { FCM_MAX_TTL_SECONDS, MONGOOSEPUSH_MESSAGE_TYPE, toPushMessage } from '../../../src/front-doors/mongoosepush/render';
import { parseV3Body, V3Request } from '../../../src/front-doors/mongoosepush/request';
import { chatSummary, mongooseImRequest } from './mongooseim';
import { renderApns, renderFcm } from './wire';

const APNS_TOKEN = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';
const FCM_TOKEN = 'cXample0Fcm:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx_abcdefghij';
const INSTANCE_TOPIC = 'org.example.instance';
const ALICE = chatSummary('alice@localhost', 'OH, HAI!', 3);

function parse(body: unknown): V3Request {
    const r = parseV3Body(body);
    assert.ok(r.ok, JSON.stringify(r));
    return r.value;
}

/** The request MongooseIM sends for these publish options, parsed. */
function fromMongooseIm(options: Readonly<Record<string, string>> & { readonly service: string }, form = ALICE): V3Request {
    const token = options.service === 'apns' ? APNS_TOKEN : FCM_TOKEN;
    return parse(JSON.parse(mongooseImRequest({ device_id: token, ...options }, form).json));
}

describe('MongoosePush v3 render: APNs wire bytes for MongooseIM requests', () => {
    it('an alert with no options', () => {
        const wire = renderApns(toPushMessage(fromMongooseIm({ service: 'apns' })), INSTANCE_TOPIC);
        assert.equal(wire.body, '{"aps":{"alert":{"title":"alice@localhost","body":"OH, HAI!"},"badge":3}}');
        assert.deepEqual(wire.headers, { 'apns-topic': INSTANCE_TOPIC, 'apns-push-type': 'alert', 'apns-priority': '10' });
    });

    it('an alert with every option as a string; time_to_live is FCM\'s only', () => {
        const m = toPushMessage(fromMongooseIm({
            service: 'apns', mode: 'dev', priority: 'high', topic: 'com.example.chat', mutable_content: 'true',
            time_to_live: '3600', click_action: 'REPLY', sound: 'default'
        }));
        const wire = renderApns(m, INSTANCE_TOPIC, 1_700_000_000);
        assert.equal(wire.body, '{"aps":{"alert":{"title":"alice@localhost","body":"OH, HAI!"},"badge":3,"sound":"default",' +
            '"mutable-content":1,"category":"REPLY"}}');
        assert.deepEqual(wire.headers, { 'apns-topic': 'com.example.chat', 'apns-push-type': 'alert', 'apns-priority': '10' });
    });

    it('priority normal → apns-priority 5', () => {
        const wire = renderApns(toPushMessage(fromMongooseIm({ service: 'apns', priority: 'normal' })), INSTANCE_TOPIC);
        assert.equal(wire.headers['apns-priority'], '5');
    });

    it('silent: data keys at the top level, content-available, background, priority 5', () => {
        const wire = renderApns(toPushMessage(fromMongooseIm({ service: 'apns', silent: 'true' })), INSTANCE_TOPIC);
        assert.equal(wire.body, '{"last-message-body":"OH, HAI!","last-message-sender":"alice@localhost","message-count":3,' +
            '"aps":{"content-available":1}}');
        assert.deepEqual(wire.headers, { 'apns-topic': INSTANCE_TOPIC, 'apns-push-type': 'background', 'apns-priority': '5' });
    });

    it('silent with priority high and mutable_content: still priority 5 (Apple: background pushes use 5)', () => {
        const wire = renderApns(toPushMessage(fromMongooseIm({ service: 'apns', silent: 'true', priority: 'high', mutable_content: 'true' })),
            INSTANCE_TOPIC);
        assert.equal(wire.body, '{"last-message-body":"OH, HAI!","last-message-sender":"alice@localhost","message-count":3,' +
            '"aps":{"content-available":1,"mutable-content":1}}');
        assert.deepEqual(wire.headers, { 'apns-topic': INSTANCE_TOPIC, 'apns-push-type': 'background', 'apns-priority': '5' });
    });

    it('a mixed push: alert and data keys side by side', () => {
        const wire = renderApns(toPushMessage(parse({
            service: 'apns', alert: { title: 't', body: 'b', badge: '2', sound: 's.caf' }, data: { room: 'r1', n: 2, nested: { a: [1] } }
        })), INSTANCE_TOPIC);
        assert.equal(wire.body, '{"room":"r1","n":2,"nested":{"a":[1]},"aps":{"alert":{"title":"t","body":"b"},"badge":2,"sound":"s.caf"}}');
        assert.equal(wire.headers['apns-push-type'], 'alert');
    });

    it('a data key "aps" is dropped, not merged into aps (as Sparrow overwrites it)', () => {
        const wire = renderApns(toPushMessage(parse({ service: 'apns', data: { a: 1, aps: { alert: 'injected' }, z: 2 } })), INSTANCE_TOPIC);
        assert.equal(wire.body, '{"a":1,"z":2,"aps":{"content-available":1}}');
    });

    it('apns-topic: the request\'s, else the route\'s default, else the instance\'s', () => {
        const own = parse({ service: 'apns', topic: 'com.request', alert: { title: 't', body: 'b' } });
        const none = parse({ service: 'apns', alert: { title: 't', body: 'b' } });
        assert.equal(renderApns(toPushMessage(own, 'com.route'), INSTANCE_TOPIC).headers['apns-topic'], 'com.request');
        assert.equal(renderApns(toPushMessage(none, 'com.route'), INSTANCE_TOPIC).headers['apns-topic'], 'com.route');
        assert.equal(renderApns(toPushMessage(none), INSTANCE_TOPIC).headers['apns-topic'], INSTANCE_TOPIC);
    });
});

describe('MongoosePush v3 render: FCM v1 messages for MongooseIM requests', () => {
    it('an alert with every option as a string: android block and an apns block for iOS apps', () => {
        const m = toPushMessage(fromMongooseIm({
            service: 'fcm', priority: 'high', mutable_content: 'true', time_to_live: '3600', click_action: 'REPLY', sound: 'default'
        }));
        assert.deepEqual(renderFcm(m, FCM_TOKEN), {
            token: FCM_TOKEN,
            android: {
                priority: 'high',
                ttl: '3600s',
                notification: { title: 'alice@localhost', body: 'OH, HAI!', click_action: 'REPLY', tag: 'alice@localhost', sound: 'default' }
            },
            apns: {
                payload: {
                    aps: {
                        alert: { title: 'alice@localhost', body: 'OH, HAI!' }, badge: 3, sound: 'default', 'mutable-content': 1, category: 'REPLY'
                    }
                }
            }
        });
    });

    it('an alert with no options', () => {
        assert.deepEqual(renderFcm(toPushMessage(fromMongooseIm({ service: 'fcm' })), FCM_TOKEN), {
            token: FCM_TOKEN,
            android: { notification: { title: 'alice@localhost', body: 'OH, HAI!', tag: 'alice@localhost' } },
            apns: { payload: { aps: { alert: { title: 'alice@localhost', body: 'OH, HAI!' }, badge: 3 } } }
        });
    });

    it('silent: data values as strings (message-count too), no notification, no apns block', () => {
        const m = toPushMessage(fromMongooseIm({ service: 'fcm', silent: 'true', priority: 'normal', time_to_live: '60' }));
        assert.deepEqual(renderFcm(m, FCM_TOKEN), {
            token: FCM_TOKEN,
            data: { 'last-message-body': 'OH, HAI!', 'last-message-sender': 'alice@localhost', 'message-count': '3' },
            android: { priority: 'normal', ttl: '60s' }
        });
    });

    it('silent without a priority: FCM\'s default (no android.priority)', () => {
        assert.deepEqual(renderFcm(toPushMessage(fromMongooseIm({ service: 'fcm', silent: 'true' })), FCM_TOKEN), {
            token: FCM_TOKEN,
            data: { 'last-message-body': 'OH, HAI!', 'last-message-sender': 'alice@localhost', 'message-count': '3' }
        });
    });

    it('nested and non-string data values become JSON text', () => {
        const m = toPushMessage(parse({ service: 'fcm', data: { s: 'x', n: 1.5, b: true, z: null, o: { a: [1, 'b'] }, l: ['a', 'b'] } }));
        assert.deepEqual(renderFcm(m, FCM_TOKEN).data, { s: 'x', n: '1.5', b: 'true', z: 'null', o: '{"a":[1,"b"]}', l: '["a","b"]' });
    });

    it(`time_to_live is capped at 4 weeks (${FCM_MAX_TTL_SECONDS} s)`, () => {
        const m = toPushMessage(parse({ service: 'fcm', time_to_live: '99999999', alert: { title: 't', body: 'b' } }));
        assert.equal((renderFcm(m, FCM_TOKEN).android as Record<string, unknown>).ttl, `${FCM_MAX_TTL_SECONDS}s`);
        const zero = toPushMessage(parse({ service: 'fcm', time_to_live: 0, alert: { title: 't', body: 'b' } }));
        assert.equal((renderFcm(zero, FCM_TOKEN).android as Record<string, unknown>).ttl, '0s');
    });
});

describe('MongoosePush v3 render: the message itself', () => {
    it('is typed mongoosepush and carries nothing the request did not ask for', () => {
        assert.deepEqual(toPushMessage(parse({ service: 'fcm', alert: { title: 't', body: 'b' } })),
            { type: MONGOOSEPUSH_MESSAGE_TYPE, alert: { title: 't', body: 'b' } });
    });
});

/**
 * What MongoosePush itself sends (esl/MongoosePush `lib/mongoose_push/service/{apns,fcm}.ex`,
 * esl/sparrow 1.0.3 `apns.ex make_body/1`, `fcm/v1/android.ex`, `fcm/v1/notification.ex`), as a
 * port, so that every difference from it is written down here and nothing else differs.
 */
function mongoosePushApns(r: V3Request, defaultTopic: string): { headers: Record<string, string>; payload: Record<string, unknown> } {
    const headers: Record<string, string> = {};
    const aps: Record<string, unknown> = {};
    const priority = r.priority === undefined ? undefined : r.priority === 'high' ? '10' : '5';
    if (!r.alert) {
        aps['content-available'] = 1;
        if (r.topic !== undefined) {
            headers['apns-topic'] = r.topic;
        }
    } else {
        aps.alert = { title: r.alert.title, body: r.alert.body };
        headers['apns-topic'] = r.topic ?? defaultTopic;
        Object.assign(aps, r.alert.badge !== undefined && { badge: r.alert.badge },
            r.alert.clickAction !== undefined && { category: r.alert.clickAction }, r.alert.sound !== undefined && { sound: r.alert.sound });
    }
    if (r.mutableContent) {
        aps['mutable-content'] = 1;
    }
    if (priority) {
        headers['apns-priority'] = priority;
    }
    if (!r.alert) {
        headers['apns-push-type'] = 'background';
    }
    return { headers, payload: { ...r.data, aps } };
}

function mongoosePushFcm(r: V3Request, token: string): Record<string, unknown> {
    const notification: Record<string, unknown> = r.alert ? Object.fromEntries(Object.entries({
        title: r.alert.title, body: r.alert.body, click_action: r.alert.clickAction, tag: r.alert.tag, sound: r.alert.sound
    }).filter(([, v]) => v !== undefined)) : {};
    const android: Record<string, unknown> = { notification };
    if (r.priority) {
        android.priority = r.priority.toUpperCase();
    }
    if (r.timeToLive !== undefined) {
        android.ttl = `${r.timeToLive}s`;
    }
    if (r.data) {
        // Sparrow normalize: to_string/1 of each value (a map raises: invalid_notification).
        android.data = Object.fromEntries(Object.entries(r.data).map(([k, v]) => [k, elixirToString(v)]));
    }
    return { token, android };
}

/** Elixir's `to_string/1` on a decoded JSON scalar; Sparrow answers invalid_notification for the rest. */
function elixirToString(v: unknown): string {
    if (v === null) {
        return '';
    }
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
        return String(v);
    }
    throw new Error('invalid_notification');
}

describe('MongoosePush v3 render: the differences from MongoosePush, and only those', () => {
    const cases: [string, V3Request][] = [
        ['alert, no options', fromMongooseIm({ service: 'apns' })],
        ['alert, all options', fromMongooseIm({
            service: 'apns', mode: 'dev', priority: 'high', topic: 'com.example.chat', mutable_content: 'true', time_to_live: '3600',
            click_action: 'REPLY', sound: 'default'
        })],
        ['alert, priority normal', fromMongooseIm({ service: 'apns', priority: 'normal' })],
        ['silent, no options', fromMongooseIm({ service: 'apns', silent: 'true' })],
        ['silent, high, topic, mutable', fromMongooseIm({ service: 'apns', silent: 'true', priority: 'high', topic: 'com.t', mutable_content: 'true' })]
    ];
    for (const [title, request] of cases) {
        it(`APNs, ${title}`, () => {
            const ours = renderApns(toPushMessage(request), INSTANCE_TOPIC);
            const theirs = mongoosePushApns(request, INSTANCE_TOPIC);
            // Payload: the same JSON (Jason orders keys differently, which no client sees).
            assert.deepEqual(JSON.parse(ours.body), theirs.payload);
            const expected = { ...theirs.headers };
            // 1. apns-push-type alert on alerts too (Apple requires it on watchOS, recommends it everywhere).
            expected['apns-push-type'] ??= 'alert';
            // 2. A topic on silent pushes too (token auth refuses a push without one: MissingTopic).
            expected['apns-topic'] ??= INSTANCE_TOPIC;
            // 3. apns-priority always: 10 for an alert without priority (APNs' own default) and 5 for
            //    every silent push (Apple: background pushes must use 5).
            expected['apns-priority'] = request.alert ? (expected['apns-priority'] ?? '10') : '5';
            assert.deepEqual(ours.headers, expected);
        });
    }

    const fcmCases: [string, V3Request][] = [
        ['alert, all options', fromMongooseIm({ service: 'fcm', priority: 'high', mutable_content: 'true', time_to_live: '3600', click_action: 'REPLY', sound: 'default' })],
        ['silent, priority normal', fromMongooseIm({ service: 'fcm', silent: 'true', priority: 'normal', time_to_live: '60' })],
        ['mixed', parse({ service: 'fcm', alert: { title: 't', body: 'b', tag: 'g' }, data: { k: 'v', n: 1 } })]
    ];
    for (const [title, request] of fcmCases) {
        it(`FCM, ${title}`, () => {
            const ours = renderFcm(toPushMessage(request), FCM_TOKEN);
            const theirs = mongoosePushFcm(request, FCM_TOKEN);
            const android = { ...(theirs.android as Record<string, unknown>) };
            const expected: Record<string, unknown> = { token: FCM_TOKEN };
            // 1. data at message.data (Android apps see it the same; iOS apps through FCM see it too).
            if (android.data) {
                expected.data = android.data;
                delete android.data;
            }
            // 2. No empty android.notification on a silent push.
            if (!request.alert) {
                delete android.notification;
            }
            // 3. android.priority in FCM's JSON spelling, lower case as firebase-admin writes it.
            if (typeof android.priority === 'string') {
                android.priority = android.priority.toLowerCase();
            }
            if (Object.keys(android).length > 0) {
                expected.android = android;
            }
            // 4. An apns block on alerts, for iOS apps reached through FCM.
            if (request.alert) {
                expected.apns = ours.apns;
                const aps = (ours.apns as { payload: { aps: Record<string, unknown> } }).payload.aps;
                assert.deepEqual(aps.alert, { title: request.alert.title, body: request.alert.body });
            }
            assert.deepEqual(ours, expected);
        });
    }
});
