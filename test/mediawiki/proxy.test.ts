import assert from 'node:assert/strict';
import { FakeConnectProxy } from '../fakes/connect-proxy';
import { fakeTokens, startHarness } from './helpers';

describe('MediaWiki cleanup through the egress proxy', () => {
    let proxy: FakeConnectProxy;
    beforeEach(async () => {
        proxy = await FakeConnectProxy.start({ allowUnmapped: true });
    });
    afterEach(async () => {
        await proxy.close();
    });

    const tunnelsOpened = () => Object.values(proxy.tunnels).reduce((a, b) => a + b, 0);

    it('goes through the proxy (CONNECT to the wiki host:port)', async () => {
        const tokens = fakeTokens(3);
        const h = await startHarness({ fake: { subscriptions: tokens }, conf: { proxy: proxy.url } });
        try {
            h.cleanup.deadTokens('fcm', tokens, 'echo');
            assert.deepEqual(await h.cleanup.drain(Date.now() + 5000), { pending: 0 });
            assert.deepEqual(h.fake.deletedTokens, tokens);
            const target = new URL(h.fake.uri).host;
            assert.ok(proxy.count(target) >= 1, JSON.stringify(proxy.tunnels));
            assert.equal(tunnelsOpened(), proxy.count(target));
        } finally {
            await h.close();
        }
    });

    it('goes direct when the host is on no_proxy_list', async () => {
        const tokens = fakeTokens(3);
        const h = await startHarness({ fake: { subscriptions: tokens }, conf: { proxy: proxy.url, no_proxy_list: ['127.0.0.1'] } });
        try {
            h.cleanup.deadTokens('fcm', tokens, 'echo');
            await h.cleanup.drain(Date.now() + 5000);
            assert.deepEqual(h.fake.deletedTokens, tokens);
            assert.equal(tunnelsOpened(), 0);
        } finally {
            await h.close();
        }
    });
});
