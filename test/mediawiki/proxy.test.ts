import assert from 'node:assert/strict';
import { createServer, Server } from 'node:http';
import { AddressInfo, connect } from 'node:net';
import { fakeTokens, startHarness } from './helpers';

/** A minimal HTTP CONNECT proxy that counts the tunnels it opens. */
async function startConnectProxy(): Promise<{ server: Server; url: string; tunnels: string[] }> {
    const tunnels: string[] = [];
    const server = createServer((_req, res) => res.writeHead(405).end());
    server.on('connect', (req, client, head) => {
        tunnels.push(req.url ?? '');
        const [host, port] = (req.url ?? '').split(':');
        const upstream = connect(Number(port), host, () => {
            client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
            upstream.write(head);
            upstream.pipe(client);
            client.pipe(upstream);
        });
        upstream.on('error', () => client.destroy());
        client.on('error', () => upstream.destroy());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, tunnels };
}

describe('MediaWiki cleanup through the egress proxy', () => {
    it('goes through the proxy, unless the host is on no_proxy_list', async () => {
        const proxy = await startConnectProxy();
        try {
            const tokens = fakeTokens(3);
            const h = await startHarness({ fake: { subscriptions: tokens }, conf: { proxy: proxy.url } });
            h.cleanup.deadTokens('fcm', tokens);
            assert.deepEqual(await h.cleanup.drain(Date.now() + 5000), { pending: 0 });
            await h.close();
            assert.deepEqual(h.fake.deletedTokens, tokens);
            assert.ok(proxy.tunnels.length >= 1);
            assert.ok(proxy.tunnels.every((t) => t.startsWith('127.0.0.1:')));

            const direct = await startHarness({ fake: { subscriptions: tokens }, conf: { proxy: proxy.url, no_proxy_list: ['127.0.0.1'] } });
            const before = proxy.tunnels.length;
            direct.cleanup.deadTokens('fcm', tokens);
            await direct.cleanup.drain(Date.now() + 5000);
            await direct.close();
            assert.deepEqual(direct.fake.deletedTokens, tokens);
            assert.equal(proxy.tunnels.length, before);
        } finally {
            proxy.server.closeAllConnections();
            proxy.server.close();
        }
    });
});
