import assert from 'node:assert/strict';
import { fcmBodyTemplate, renderFcmMessage } from '../../src/providers/fcm/fcm-message';
import { fcmTokenSyntax } from '../../src/providers/fcm/fcm-token-syntax';
import { PushMessage } from '../../src/push/message';
import { ECHO_CHECK, pinnedEchoBody } from './fcm-helpers';

function body(m: PushMessage, token: string, dryRun = false): string {
    const t = fcmBodyTemplate(m, dryRun);
    const b = t.prefix + JSON.stringify(token) + t.suffix;
    assert.equal(t.fixedBytes + JSON.stringify(token).length, Buffer.byteLength(b));
    return b;
}

describe('FCM rendering of a PushMessage', () => {
    it('Echo\'s checkEchoV1: exactly the bytes firebase-admin sent (the APNs-only fields stay out)', () => {
        assert.equal(body(ECHO_CHECK, 'tok-1'), pinnedEchoBody('tok-1'));
        assert.equal(body(ECHO_CHECK, 'tok-1', true), pinnedEchoBody('tok-1', true));
        assert.equal(body(ECHO_CHECK, 'tok-1'),
            '{"message":{"token":"tok-1","android":{"collapse_key":"checkEchoV1"},"data":{"type":"checkEchoV1"}}}');
    });

    it('a message with nothing but a type is just the token', () => {
        assert.equal(body({ type: 'x' }, 't'), '{"message":{"token":"t"}}');
        assert.equal(body({ type: 'x' }, 't', true), '{"message":{"token":"t"},"validate_only":true}');
    });

    it('a token with JSON-special characters is encoded, and its length counted', () => {
        assert.equal(JSON.parse(body(ECHO_CHECK, 'a"b\\c')).message.token, 'a"b\\c');
    });

    it('android: collapse_key, priority, ttl as a Duration; a notification only with an alert', () => {
        assert.deepEqual(renderFcmMessage({ type: 'x', collapseKey: 'k', priority: 'normal', ttlSeconds: 3600 }),
            { android: { collapse_key: 'k', priority: 'normal', ttl: '3600s' } });
        assert.deepEqual(renderFcmMessage({ type: 'x', priority: 'high', ttlSeconds: 0 }), { android: { priority: 'high', ttl: '0s' } });
        assert.deepEqual(renderFcmMessage({ type: 'x', sound: 'ding' }), {}, 'a sound alone is not a notification');
    });

    it('an alert: android.notification with every field, and an apns block so iOS through FCM sees it', () => {
        const m: PushMessage = {
            type: 'x',
            alert: { title: 'T', body: 'B', locKey: 'bk', locArgs: ['1'], titleLocKey: 'tk', titleLocArgs: ['2'], clickAction: 'OPEN', tag: 'g' },
            sound: 'ding', badge: 2, mutableContent: true, contentAvailable: true
        };
        assert.deepEqual(renderFcmMessage(m), {
            android: {
                notification: {
                    title: 'T', body: 'B', click_action: 'OPEN', tag: 'g', sound: 'ding',
                    body_loc_key: 'bk', body_loc_args: ['1'], title_loc_key: 'tk', title_loc_args: ['2']
                }
            },
            apns: { payload: { aps: { alert: { title: 'T', body: 'B' }, badge: 2, sound: 'ding', 'mutable-content': 1, 'content-available': 1 } } }
        });
    });

    it('a badge alone: the apns block without an alert', () => {
        assert.deepEqual(renderFcmMessage({ type: 'x', badge: 0 }), { apns: { payload: { aps: { badge: 0 } } } });
    });

    it('data: every value a string, non-strings as JSON text', () => {
        assert.deepEqual(renderFcmMessage({ type: 'x', data: { s: 'a', n: 1, b: false, o: { k: [1, 'x'] }, z: null } }),
            { data: { s: 'a', n: '1', b: 'false', o: '{"k":[1,"x"]}', z: 'null' } });
    });

    it('fcm.message is deep-merged last: objects merge, arrays and scalars replace; the target stays ours', () => {
        const m: PushMessage = {
            type: 'x', collapseKey: 'k', alert: { title: 'T', locArgs: ['a', 'b'] }, data: { a: '1' },
            fcm: {
                message: {
                    token: 'someone-else', topic: 'news', condition: '\'a\' in topics',
                    android: { collapse_key: 'k2', notification: { body_loc_args: ['c'], channel_id: 'ch' }, direct_boot_ok: true },
                    data: { b: '2' },
                    webpush: { headers: { Urgency: 'high' } }
                }
            }
        };
        const out = renderFcmMessage(m);
        assert.deepEqual(out, {
            android: { collapse_key: 'k2', notification: { title: 'T', body_loc_args: ['c'], channel_id: 'ch' }, direct_boot_ok: true },
            apns: { payload: { aps: { alert: { title: 'T' } } } },
            data: { a: '1', b: '2' },
            webpush: { headers: { Urgency: 'high' } }
        });
        assert.equal(JSON.parse(body(m, 'mine')).message.token, 'mine');
        // The input is not modified.
        assert.deepEqual(m.fcm?.message?.data, { b: '2' });
    });

    it('fcm.message cannot reach Object.prototype', () => {
        const extra = JSON.parse('{"__proto__": {"polluted": true}, "android": {"__proto__": {"polluted": true}}}') as Record<string, unknown>;
        const out = renderFcmMessage({ type: 'x', fcm: { message: extra } });
        assert.equal(({} as Record<string, unknown>).polluted, undefined);
        assert.equal(out.polluted, undefined);
    });
});

describe('FCM token syntax', () => {
    it('accepts printable ASCII without whitespace, as is', () => {
        const real = 'fJ3x9kQ2R0e:APA91bH-4l_Vx2s' + 'A'.repeat(120);
        for (const t of [real, 'a', '!~', 'x'.repeat(4096)]) {
            assert.deepEqual(fcmTokenSyntax(t), { ok: true, wire: t, key: t });
        }
    });

    it('refuses whitespace, control characters, non-ASCII, empty and over-long tokens as invalid_token', () => {
        for (const t of ['', ' a', 'a b', 'a\n', '\ta', 'a\u0000b', 'a\u007fb', 'é', 'a\u200bb', 'x'.repeat(4097)]) {
            assert.deepEqual(fcmTokenSyntax(t), { ok: false, reason: 'invalid_token' }, JSON.stringify(t));
        }
    });
});
