import assert from 'node:assert/strict';
import { apnsRequestParts, renderApnsNotification } from '../../src/providers/apns/apns-render';
import { PushMessage } from '../../src/push/message';
import { echoMessage } from './apns-helpers';

/** The body node-apn sends for a rendered notification, and its headers. */
function wire(message: PushMessage, topic = 'org.example.app', now = 1_700_000_000_000): { body: string; headers: Record<string, unknown> } {
    const note = renderApnsNotification(message, topic, now) as unknown as { compile(): string; headers(): Record<string, unknown> };
    return { body: note.compile(), headers: note.headers() };
}

describe('APNs rendering of a PushMessage', () => {
    it('Echo\'s checkEchoV1: exactly the original body and headers', () => {
        assert.deepEqual(wire(echoMessage(), 'org.wikimedia.wikipedia'), {
            body: '{"data":{"type":"checkEchoV1"},"aps":{"alert":"checkEchoV1","mutable-content":1,"thread-id":"checkEchoV1"}}',
            headers: { 'apns-priority': 10, 'apns-topic': 'org.wikimedia.wikipedia', 'apns-push-type': 'alert' }
        });
    });

    it('aps keys in the documented order, custom keys first', () => {
        const { body } = wire({
            type: 't', data: { z: 1, a: 'x' }, badge: 2, sound: 's', contentAvailable: true, mutableContent: true,
            alert: { title: 'T', body: 'B', locKey: 'k', locArgs: ['1'], titleLocKey: 'tk', titleLocArgs: ['2'], clickAction: 'CAT', tag: 'ignored' },
            apns: { threadId: 'th' }
        });
        assert.equal(body, '{"z":1,"a":"x","aps":{"alert":{"title":"T","body":"B","loc-key":"k","loc-args":["1"],"title-loc-key":"tk","title-loc-args":["2"]},' +
            '"badge":2,"sound":"s","content-available":1,"mutable-content":1,"category":"CAT","thread-id":"th"}}');
    });

    it('apns.payload replaces data, and its aps is merged over the built one (its keys win, new ones last)', () => {
        const { body } = wire({
            type: 't', data: { ignored: true }, badge: 1, alert: { body: 'B' },
            apns: { payload: { custom: { n: 1 }, aps: { badge: 9, 'interruption-level': 'passive' } } }
        });
        assert.equal(body, '{"custom":{"n":1},"aps":{"alert":{"body":"B"},"badge":9,"interruption-level":"passive"}}');
    });

    it('apns.alertText wins over alert; an alert with no displayable field is left out', () => {
        assert.equal(wire({ type: 't', alert: { title: 'T' }, apns: { alertText: 'plain' } }).body, '{"aps":{"alert":"plain"}}');
        assert.equal(wire({ type: 't', alert: { tag: 'x' } }).body, '{"aps":{}}', 'an empty aps is still sent');
    });

    it('push type: background for content-available without alert, alert otherwise, apns.pushType wins', () => {
        assert.equal(apnsRequestParts({ type: 't', contentAvailable: true }).pushType, 'background');
        assert.equal(apnsRequestParts({ type: 't', contentAvailable: true, alert: { body: 'b' } }).pushType, 'alert');
        assert.equal(apnsRequestParts({ type: 't', data: { a: 1 } }).pushType, 'alert');
        assert.equal(apnsRequestParts({ type: 't', contentAvailable: true, apns: { pushType: 'voip' } }).pushType, 'voip');
    });

    it('priority, expiration (now + ttl, epoch seconds), collapse id; collapseKey is not APNs\' collapse id', () => {
        const { headers } = wire({ type: 't', priority: 'normal', ttlSeconds: 3600, collapseKey: 'k', apns: { collapseId: 'c' } }, 'org.x', 1_700_000_000_500);
        assert.deepEqual(headers, { 'apns-priority': 5, 'apns-collapse-id': 'c', 'apns-expiration': 1_700_003_600, 'apns-topic': 'org.x', 'apns-push-type': 'alert' });
        assert.equal(wire({ type: 't', priority: 'high' }).headers['apns-priority'], 10);
        assert.equal(wire({ type: 't', collapseKey: 'k' }).headers['apns-collapse-id'], undefined);
    });
});
