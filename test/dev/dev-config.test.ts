import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as yaml from 'js-yaml';
import { pointAtFakes, RunnerConfig, wikiAccount } from '../../scripts/dev/dev-config';
import { apnsToken } from '../fakes/apns-server';
import { FakeMediaWiki } from '../fakes/mediawiki-server';
import { ProviderFakes, startProviderFakes } from '../fakes/provider-fakes';
import { startTestService, TestService } from '../helpers/service-harness';

/**
 * `npm start`'s config: config.dev.yaml as the launcher rewrites it (dev-config.ts) starts the
 * real service with every provider pointed at its fake and all four APIs on, and each answers
 * a request the way the launcher's printed curl lines send it.
 */
const source = yaml.load(readFileSync(path.join(__dirname, '..', '..', 'config.dev.yaml'), 'utf8')) as RunnerConfig;

describe('dev mode: config.dev.yaml through pointAtFakes', function () {
    this.timeout(30_000);
    let fakes: ProviderFakes;
    let wiki: FakeMediaWiki;
    let svc: TestService;

    before(async () => {
        fakes = await startProviderFakes();
        const account = wikiAccount(source)!;
        wiki = await FakeMediaWiki.start({ everyTokenExists: true, accounts: { [account.username]: { password: account.password } } });
        const { config, faked } = pointAtFakes(source, {
            apns: fakes.conf.apns, fcm: fakes.conf.fcm, webpush: fakes.conf.webpush, mediawikiUri: wiki.uri
        });
        assert.deepEqual(faked, { apns: true, fcm: true, webpush: true, mediawiki: true });
        // The harness's loopback port and test logger; everything else as `npm start` runs it.
        svc = await startTestService({ ...config.services[0].conf, port: 0, num_workers: 1 });
    });

    after(async () => {
        await svc?.close();
        await Promise.allSettled([fakes?.close(), wiki?.close()]);
    });

    it('webpush: {mock: true} becomes the fake Web Push service (its VAPID keys, CA, loopback endpoint), like apns and fcm', () => {
        const { config } = pointAtFakes(source, { apns: {}, fcm: {}, webpush: { vapid: { subject: 'mailto:a@b.c' }, ca: '/x' }, mediawikiUri: 'http://w' });
        const conf = config.services[0].conf;
        assert.deepEqual(conf.webpush, { mock: false, vapid: { subject: 'mailto:a@b.c' }, ca: '/x' });
        const off = structuredClone(source);
        off.services[0].conf.webpush = { mock: false, ttl: 60 };
        assert.deepEqual(pointAtFakes(off, { apns: {}, fcm: {}, webpush: { ca: '/x' }, mediawikiUri: 'http://w' }).faked.webpush, false);
    });

    async function post(url: string, body: unknown): Promise<{ status: number; body: unknown }> {
        const res = await fetch(`${svc.baseUrl}${url}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        return { status: res.status, body: await res.json() };
    }

    it('Echo: fcm, apns and webpush reach their fakes', async () => {
        const sub = fakes.webpush.createSubscription('');
        assert.equal((await post('/v1/message/fcm', { deviceTokens: ['ok-dev-1'], messageType: 'checkEchoV1' })).status, 200);
        assert.equal((await post('/v1/message/apns', { deviceTokens: [apnsToken('ok-dev-2')], messageType: 'checkEchoV1' })).status, 200);
        assert.equal((await post('/v1/message/webpush', { deviceTokens: [sub.token], messageType: 'checkEchoV1' })).status, 200);
        const until = Date.now() + 10_000;
        while (!(fakes.fcm.requestsFor('ok-dev-1') && fakes.apns.requestsFor(apnsToken('ok-dev-2')) && fakes.webpush.requestsFor(sub.id))) {
            assert.ok(Date.now() < until, 'every Echo message flushed to its fake');
            await new Promise((r) => setTimeout(r, 50));
        }
        assert.equal(JSON.parse(fakes.webpush.receivedFor(sub.id)[0].plaintext!).type, 'checkEchoV1');
    });

    it('Matrix: the iOS, Android and Web apps are configured; a dead iOS pushkey is rejected', async () => {
        const sub = JSON.parse(fakes.webpush.createSubscription('').token) as { endpoint: string; keys: { p256dh: string; auth: string } };
        const ios = (label: string): string => Buffer.from(apnsToken(label), 'hex').toString('base64');
        const a = await post('/_matrix/push/v1/notify', { notification: {
            event_id: '$dev', room_id: '!r:example.org', type: 'm.room.message', sender: '@a:example.org', counts: { unread: 1 },
            content: { msgtype: 'm.text', body: 'hi' },
            devices: [
                { app_id: 'org.example.chat.ios', pushkey: ios('ok-dev-3') },
                { app_id: 'org.example.chat.ios', pushkey: ios('dead-dev-4') },
                { app_id: 'org.example.chat.android', pushkey: 'ok-dev-5' },
                { app_id: 'org.example.chat.web', pushkey: sub.keys.p256dh, data: { endpoint: sub.endpoint, auth: sub.keys.auth } }
            ]
        } });
        assert.deepEqual(a, { status: 200, body: { rejected: [ios('dead-dev-4')] } });
        assert.equal(fakes.fcm.requestsFor('ok-dev-5'), 1);
    });

    it('MongoosePush v3: apns prod and fcm are routed; /healthcheck passes', async () => {
        assert.deepEqual(await post(`/v3/notification/${apnsToken('ok-dev-6')}`, { service: 'apns', alert: { title: 't', body: 'b' } }),
            { status: 200, body: null });
        assert.deepEqual(await post('/v3/notification/dead-dev-7', { service: 'fcm', data: { a: 1 } }),
            { status: 410, body: { reason: 'unregistered' } });
        const health = await fetch(`${svc.baseUrl}/healthcheck`);
        assert.equal(health.status, 200);
        assert.equal(((await health.json()) as { status: string }).status, 'pass');
    });
});
