import assert from 'node:assert/strict';
import { PushMessage } from '../../../src/push/message';
import { renderApns, renderFcm } from './wire';

/**
 * The test renderers against the one payload whose wire bytes are fixed today (the common
 * brief's checkEchoV1), so that exact-payload tests built on them mean what they say.
 */
describe('the providers\' renderers, as the front-door tests read them', () => {
    const checkEchoV1: PushMessage = {
        type: 'checkEchoV1',
        data: { type: 'checkEchoV1' },
        collapseKey: 'checkEchoV1',
        mutableContent: true,
        apns: { alertText: 'checkEchoV1', threadId: 'checkEchoV1', pushType: 'alert', payload: { data: { type: 'checkEchoV1' } } }
    };

    it('APNs: checkEchoV1 renders to the bytes the service sends today', () => {
        const wire = renderApns(checkEchoV1, 'org.wikimedia.wikipedia');
        assert.equal(wire.body, '{"data":{"type":"checkEchoV1"},"aps":{"alert":"checkEchoV1","mutable-content":1,"thread-id":"checkEchoV1"}}');
        assert.deepEqual(wire.headers, { 'apns-topic': 'org.wikimedia.wikipedia', 'apns-push-type': 'alert', 'apns-priority': '10' });
    });

    it('FCM: checkEchoV1 renders to the message the service sends today', () => {
        assert.deepEqual(renderFcm(checkEchoV1, 'tok'),
            { token: 'tok', android: { collapse_key: 'checkEchoV1' }, data: { type: 'checkEchoV1' } });
    });

    it('APNs: apns.payload.aps wins over the built aps; ttl gives apns-expiration', () => {
        const wire = renderApns({ type: 't', alert: { title: 'a', body: 'b' }, ttlSeconds: 60, priority: 'normal',
            apns: { payload: { k: 1, aps: { badge: 3, 'interruption-level': 'passive' } }, collapseId: 'c' } }, 'topic', 1000);
        assert.equal(wire.body, '{"k":1,"aps":{"alert":{"title":"a","body":"b"},"badge":3,"interruption-level":"passive"}}');
        assert.deepEqual(wire.headers, {
            'apns-topic': 'topic', 'apns-push-type': 'alert', 'apns-priority': '5', 'apns-expiration': '1060', 'apns-collapse-id': 'c'
        });
    });
});
