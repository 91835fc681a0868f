import assert from 'node:assert/strict';
import { notificationShape, parseNotifyJson } from '../../../src/front-doors/matrix/notification';
import { fragment, mergedSpec, notifyValidator, parseNotification } from './helpers';

/**
 * The notify body check, compiled from the spec fragment by the service's own ApiSpec (as the
 * lead will compile it from spec.yaml). Sygnal's 400s (notifications.py, http.py) plus the
 * types Sygnal leaves unchecked and then fails on with a 500.
 */

const device = { app_id: 'com.example.app', pushkey: 'spqr', pushkey_ts: 42 };
const full = {
    id: '$ev', event_id: '$ev', room_id: '!r:example.org', type: 'm.room.message', sender: '@a:example.org',
    sender_display_name: 'A', room_name: 'R', prio: 'high', content: { msgtype: 'm.text', body: 'hi' },
    counts: { unread: 2, missed_calls: 1 }, devices: [{ ...device, data: { format: 'x' }, tweaks: { sound: 'default', highlight: true } }]
};

describe('Matrix notify body: valid shapes', () => {
    const valid: [string, unknown][] = [
        ['Synapse full', { notification: full }],
        ['Synapse event_id_only', { notification: { event_id: '$ev', room_id: '!r', prio: 'high', counts: { unread: 1 }, devices: [device] } }],
        ['Synapse badge-only (type null, sender "")', { notification: { id: '', type: null, sender: '', counts: { unread: 0 }, devices: [{ ...device, data: {} }] } }],
        ['only devices', { notification: { devices: [device] } }],
        ['nulls read as absent', {
            notification: {
                event_id: null, room_id: null, type: null, sender: null, sender_display_name: null, room_name: null, room_alias: null,
                membership: null, user_is_target: null, prio: null, content: null, counts: null,
                devices: [{ ...device, pushkey_ts: null, data: null, tweaks: null }]
            }
        }],
        ['counts with nulls', { notification: { counts: { unread: null, missed_calls: null }, devices: [device] } }],
        ['tweaks sound null, other tweaks of any type', { notification: { devices: [{ ...device, tweaks: { sound: null, highlight: 'yes', x: [1] } }] } }],
        ['unknown properties everywhere', { extra: 1, notification: { unknown: { a: 1 }, devices: [{ ...device, unknown: true }] } }],
        ['prio low', { notification: { prio: 'low', devices: [device] } }],
        ['an empty pushkey (a per-device problem, not a bad request)', { notification: { devices: [{ app_id: 'a', pushkey: '' }] } }],
        ['many devices', { notification: { devices: [device, { ...device, pushkey: 'b' }] } }],
        ['user_is_target and membership', { notification: { type: 'm.room.member', membership: 'invite', user_is_target: true, devices: [device] } }]
    ];
    for (const [title, body] of valid) {
        it(title, () => {
            const r = notifyValidator()(structuredClone(body));
            assert.ok(r.ok, r.ok ? '' : r.error.error);
        });
    }
});

describe('Matrix notify body: every 400 (M_BAD_JSON)', () => {
    const n = (fields: Record<string, unknown>): unknown => ({ notification: { devices: [device], ...fields } });
    const bad: [string, unknown, RegExp][] = [
        ['no notification', {}, /missing required property 'notification'/],
        ['notification is not an object', { notification: [] }, /notification: must be an object/],
        ['notification is null', { notification: null }, /notification: must be an object/],
        ['the body is an array', [1], /body: must be an object/],
        ['the body is a string', 'notify', /body: must be an object/],
        ['the body is a number', 5, /body: must be an object/],
        ['the body is null', null, /body: must be an object/],
        ['devices missing', { notification: { event_id: '$e' } }, /missing required property 'devices'/],
        ['devices not a list', { notification: { devices: { app_id: 'a', pushkey: 'b' } } }, /notification\.devices: must be an array/],
        ['devices empty', { notification: { devices: [] } }, /notification\.devices: must contain at least 1 item/],
        ['a device that is not an object', { notification: { devices: ['spqr'] } }, /devices\[0\]: must be an object/],
        ['a device without app_id', { notification: { devices: [{ pushkey: 'p' }] } }, /devices\[0\]: missing required property 'app_id'/],
        ['a device without pushkey', { notification: { devices: [{ app_id: 'a' }] } }, /devices\[0\]: missing required property 'pushkey'/],
        ['a non-string app_id', { notification: { devices: [{ app_id: 5, pushkey: 'p' }] } }, /devices\[0\]\.app_id: must be a string/],
        ['a non-string pushkey', { notification: { devices: [{ app_id: 'a', pushkey: ['p'] }] } }, /devices\[0\]\.pushkey: must be a string/],
        ['the second device is bad', { notification: { devices: [device, { app_id: 'a', pushkey: null }] } }, /devices\[1\]\.pushkey/],
        ['pushkey_ts not an integer', { notification: { devices: [{ ...device, pushkey_ts: 1.5 }] } }, /pushkey_ts: must be an integer/],
        ['pushkey_ts a string', { notification: { devices: [{ ...device, pushkey_ts: '42' }] } }, /pushkey_ts: must be an integer/],
        ['data not an object', { notification: { devices: [{ ...device, data: 'x' }] } }, /data: must be an object/],
        ['tweaks not an object', { notification: { devices: [{ ...device, tweaks: [] }] } }, /tweaks: must be an object/],
        ['tweaks.sound not a string', { notification: { devices: [{ ...device, tweaks: { sound: true } }] } }, /tweaks\.sound: must be a string/],
        ['counts not an object', n({ counts: 3 }), /counts: must be an object/],
        ['counts.unread a string', n({ counts: { unread: '2' } }), /counts\.unread: must be an integer/],
        ['counts.unread a boolean (Python would take it as an int)', n({ counts: { unread: true } }), /counts\.unread: must be an integer/],
        ['counts.missed_calls a float', n({ counts: { missed_calls: 0.5 } }), /counts\.missed_calls: must be an integer/],
        ['prio not high or low', n({ prio: 'urgent' }), /notification\.prio: must be one of: high, low/],
        ['content not an object', n({ content: 'hello' }), /notification\.content: must be an object/],
        ['type not a string', n({ type: 5 }), /notification\.type: must be a string/],
        ['event_id not a string', n({ event_id: {} }), /notification\.event_id: must be a string/],
        ['room_id not a string', n({ room_id: 1 }), /notification\.room_id: must be a string/],
        ['sender not a string', n({ sender: [] }), /notification\.sender: must be a string/],
        ['sender_display_name not a string', n({ sender_display_name: 1 }), /sender_display_name: must be a string/],
        ['room_name not a string', n({ room_name: false }), /room_name: must be a string/],
        ['room_alias not a string', n({ room_alias: 1 }), /room_alias: must be a string/],
        ['membership not a string', n({ membership: 1 }), /membership: must be a string/],
        ['user_is_target not a boolean', n({ user_is_target: 'true' }), /user_is_target: must be a boolean/]
    ];
    for (const [title, body, message] of bad) {
        it(title, () => {
            const r = notifyValidator()(structuredClone(body));
            assert.equal(r.ok, false);
            if (!r.ok) {
                assert.equal(r.error.errcode, 'M_BAD_JSON');
                assert.match(r.error.error, /^Invalid notification: /);
                assert.match(r.error.error, message);
            }
        });
    }

    it('names at most a few problems however many there are', () => {
        const devices = Array.from({ length: 5000 }, () => ({ app_id: 1, pushkey: 2 }));
        const r = notifyValidator()({ notification: { devices } });
        assert.ok(!r.ok && r.error.error.length < 2000);
    });
});

describe('Matrix notify body: M_NOT_JSON', () => {
    it('not JSON', () => {
        for (const raw of ['', '{', 'notify', '{"notification": NaN}', '{"a": Infinity}', "{'a': 1}"]) {
            assert.deepEqual(parseNotifyJson(raw), { ok: false, error: { errcode: 'M_NOT_JSON', error: 'Expected a JSON request body' } }, raw);
        }
    });

    it('not UTF-8', () => {
        const r = parseNotifyJson(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]));
        assert.ok(!r.ok && r.error.errcode === 'M_NOT_JSON' && /UTF-8/.test(r.error.error));
    });

    it('JSON, as bytes or text', () => {
        assert.deepEqual(parseNotifyJson(Buffer.from('{"notification":{"devices":[]}}')), { ok: true, body: { notification: { devices: [] } } });
        assert.deepEqual(parseNotifyJson('"just a string"'), { ok: true, body: 'just a string' });
    });
});

describe('Matrix notify body: the typed notification', () => {
    it('keeps known fields, drops nulls, always has counts', () => {
        assert.deepEqual(parseNotification({ notification: full }), {
            event_id: '$ev', room_id: '!r:example.org', type: 'm.room.message', sender: '@a:example.org',
            sender_display_name: 'A', room_name: 'R', prio: 'high', content: { msgtype: 'm.text', body: 'hi' },
            counts: { unread: 2, missed_calls: 1 },
            devices: [{ app_id: 'com.example.app', pushkey: 'spqr', pushkey_ts: 42, data: { format: 'x' }, tweaks: { sound: 'default', highlight: true } }]
        });
        assert.deepEqual(parseNotification({ notification: { id: '', type: null, sender: '', devices: [{ app_id: 'a', pushkey: 'p', tweaks: { sound: null } }] } }),
            { sender: '', counts: {}, devices: [{ app_id: 'a', pushkey: 'p', tweaks: {} }] });
    });

    it('keeps pusher data as sent (a null default_payload stays visible)', () => {
        const n = parseNotification({ notification: { devices: [{ app_id: 'a', pushkey: 'p', data: { default_payload: null } }] } });
        assert.deepEqual(n.devices[0].data, { default_payload: null });
    });

    it('tells the three Synapse shapes apart', () => {
        assert.equal(notificationShape(parseNotification({ notification: full })), 'full');
        assert.equal(notificationShape(parseNotification({ notification: { event_id: '$e', room_id: '!r', devices: [device] } })), 'event_id_only');
        assert.equal(notificationShape(parseNotification({ notification: { event_id: '$e', type: '', devices: [device] } })), 'event_id_only');
        assert.equal(notificationShape(parseNotification({ notification: { id: '', type: null, sender: '', counts: { unread: 1 }, devices: [device] } })), 'badge_only');
    });
});

describe('Matrix spec fragment', () => {
    it('merges into spec.yaml without a name clash and compiles in strict mode', () => {
        const spec = mergedSpec();
        assert.deepEqual(spec.methodsByPath.get('/_matrix/push/v1/notify'), ['POST']);
    });

    it('its x-amples agree with the validator (the 400s name what the spec says; the 200s are valid)', () => {
        const op = fragment().paths['/_matrix/push/v1/notify'].post;
        assert.ok(op['x-amples'].length >= 4);
        for (const x of op['x-amples']) {
            const r = notifyValidator()(structuredClone(x.request.body));
            if (x.response.status === 400) {
                assert.ok(!r.ok, x.title);
                if (!r.ok) {
                    assert.equal(r.error.errcode, x.response.body.errcode, x.title);
                    assert.match(r.error.error, new RegExp(x.response.body.error.slice(1, -1)), x.title);
                }
            } else {
                assert.equal(x.response.status, 200);
                assert.ok(r.ok, x.title);
                // Every 200 x-ample uses an app id no test config may define: it must be rejected.
                assert.deepEqual(x.response.body.rejected, x.request.body.notification.devices.map((d: any) => d.pushkey));
                assert.ok(x.request.body.notification.devices.every((d: any) => d.app_id === 'org.example.not-configured'));
            }
        }
    });

    it('its schema example is a valid notification', () => {
        const example = fragment().components.schemas.matrixNotifyRequest.properties.notification.example;
        assert.ok(notifyValidator()({ notification: example }).ok);
    });
});
