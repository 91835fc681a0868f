import assert from 'node:assert/strict';
import { EchoMessages } from '../../../src/front-doors/echo/echo-messages';
import { apnsRequestParts } from '../../../src/providers/apns/apns-render';
import { renderFcmMessage } from '../../../src/providers/fcm/fcm-message';

describe('Echo messages (one neutral message per type, rendered by each provider)', () => {
    it('checkEchoV1 keeps the original service\'s payloads exactly', () => {
        const m = new EchoMessages({});
        const apns = apnsRequestParts(m.get('checkEchoV1', 'apns', 'org.wikimedia.wikipedia'));
        assert.equal(JSON.stringify(apns.payload), '{"data":{"type":"checkEchoV1"},"aps":{"alert":"checkEchoV1","mutable-content":1,"thread-id":"checkEchoV1"}}');
        assert.equal(apns.pushType, 'alert');
        assert.equal(apns.priority, 10);
        assert.equal(apns.expiration, undefined);
        assert.equal(apns.collapseId, undefined);
        assert.equal(JSON.stringify(renderFcmMessage(m.get('checkEchoV1', 'fcm', undefined))),
            '{"android":{"collapse_key":"checkEchoV1"},"data":{"type":"checkEchoV1"}}');
    });

    it('one object per (type, kind, APNs topic): requests share provider calls; the topic matters only to APNs', () => {
        const m = new EchoMessages({});
        assert.equal(m.get('checkEchoV1', 'fcm', 'org.a'), m.get('checkEchoV1', 'fcm', 'org.b'));
        assert.notEqual(m.get('checkEchoV1', 'apns', 'org.a'), m.get('checkEchoV1', 'apns', 'org.b'));
        assert.equal(m.get('checkEchoV1', 'apns', 'org.a').apns?.topic, 'org.a');
    });

    it('a phase-3 type with options: background delivery, priority and time to live on every platform', () => {
        const m = new EchoMessages({ refreshV1: { delivery: 'background', ttlSeconds: 600 }, urgentV1: { priority: 'high', ttlSeconds: 60 } });
        const bg = apnsRequestParts(m.get('refreshV1', 'apns', 'org.a'), 1_000_000);
        assert.equal(JSON.stringify(bg.payload), '{"data":{"type":"refreshV1"},"aps":{"content-available":1}}');
        assert.equal(bg.pushType, 'background');
        assert.equal(bg.priority, 5, 'Apple requires priority 5 for background pushes');
        assert.equal(bg.expiration, 1000 + 600);
        assert.deepEqual(renderFcmMessage(m.get('refreshV1', 'fcm', undefined)),
            { android: { collapse_key: 'refreshV1', priority: 'normal', ttl: '600s' }, data: { type: 'refreshV1' } });
        const urgent = m.get('urgentV1', 'fcm', undefined);
        assert.equal(urgent.priority, 'high');
        assert.equal((renderFcmMessage(urgent).android as { ttl: string }).ttl, '60s');
    });
});
