import assert from 'node:assert/strict';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import type { Dispatcher } from 'undici';
import { egressDispatcher } from '../../src/egress/undici-dispatcher';
import { BlackHole } from '../fakes/black-hole';
import { FakeConnectProxy } from '../fakes/connect-proxy';

/**
 * egressDispatcher (the MediaWiki API's fetch): the one no-proxy rule, the Host header, and a
 * deadline on every step even when the caller passes no signal of its own, so no socket
 * outlives a call that gave up on it.
 */

const DEADLINE_MS = 300;
/** undici's own timers are coarse (~1 s resolution for some steps): bounded, not exact. */
const SLACK_MS = 2500;

type FetchError = Error & { cause?: { code?: string } };

async function timedFetch(url: string, dispatcher: Dispatcher): Promise<{ status?: number; body?: string; error?: FetchError; ms: number }> {
    const started = Date.now();
    const guard = AbortSignal.timeout(5000); // a test-side guard only: the dispatcher must fail first
    try {
        const res = await fetch(url, { dispatcher, signal: guard });
        const body = await res.text();
        return { status: res.status, body, ms: Date.now() - started };
    } catch (e) {
        return { error: e as FetchError, ms: Date.now() - started };
    }
}

function assertBounded(o: Awaited<ReturnType<typeof timedFetch>>, codes: readonly string[]): void {
    assert.ok(o.error, `expected a failure, got HTTP ${o.status}`);
    assert.notEqual(o.error.name, 'TimeoutError', `no deadline of its own: the test guard fired after ${o.ms} ms`);
    assert.ok(codes.includes(o.error.cause?.code ?? ''), `cause ${o.error.cause?.code} (${o.error.message})`);
    assert.ok(o.ms < DEADLINE_MS + SLACK_MS, `failed after ${o.ms} ms`);
}

describe('egress: egressDispatcher (undici)', function () {
    this.timeout(15_000);
    let server: http.Server;
    let base: string;
    const seen: http.IncomingHttpHeaders[] = [];
    const dispatchers: Dispatcher[] = [];
    let hole: BlackHole;
    let proxy: FakeConnectProxy;

    before(async () => {
        server = http.createServer((req, res) => {
            seen.push(req.headers);
            res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
        });
        await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
        base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(async () => {
        server.closeAllConnections();
        await new Promise<void>((r) => server.close(() => r()));
    });
    beforeEach(async () => {
        seen.length = 0;
        hole = await BlackHole.start();
        proxy = await FakeConnectProxy.start({ allowUnmapped: true });
    });
    afterEach(async () => {
        await Promise.all(dispatchers.splice(0).map((d) => d.destroy()));
        await hole.close();
        await proxy.close();
    });

    function dispatcher(uri: string, policy: { proxy?: string; no_proxy_list: string[] }, hostHeader?: string): Dispatcher {
        const d = egressDispatcher(uri, policy, { timeoutMs: DEADLINE_MS, hostHeader }).get();
        dispatchers.push(d);
        return d;
    }

    const routes: Array<{ name: string; noProxy: string[]; tunnels: number }> = [
        { name: 'through the proxy', noProxy: [], tunnels: 1 },
        { name: 'direct: host on no_proxy_list', noProxy: ['127.0.0.1'], tunnels: 0 },
        { name: 'direct: entry with a port and spaces (the shared rule)', noProxy: [' 127.0.0.1:1 '], tunnels: 0 },
        { name: 'direct: *', noProxy: ['*'], tunnels: 0 },
        { name: 'through the proxy: look-alikes do not match', noProxy: ['.7.0.0.1', '27.0.0.1', '127.0.0.10'], tunnels: 1 }
    ];
    for (const r of routes) {
        it(r.name, async () => {
            const o = await timedFetch(`${base}/w/api.php`, dispatcher(`${base}/w/api.php`, { proxy: proxy.url, no_proxy_list: r.noProxy }));
            assert.equal(o.status, 200, o.error?.message);
            assert.equal(Object.values(proxy.tunnels).reduce((a, b) => a + b, 0), r.tunnels);
        });
    }

    it('sends the configured Host header, which fetch alone would drop', async () => {
        const o = await timedFetch(`${base}/w/api.php`, dispatcher(`${base}/w/api.php`, { no_proxy_list: [] }, 'meta.wikimedia.org'));
        assert.equal(o.status, 200);
        assert.equal(seen[0].host, 'meta.wikimedia.org');
    });

    it('a proxy that never answers CONNECT: the call fails at the deadline, and the socket to it is closed', async () => {
        const o = await timedFetch(`${base}/w/api.php`, dispatcher(`${base}/w/api.php`, { proxy: hole.url, no_proxy_list: [] }));
        assertBounded(o, ['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_ABORTED']);
        assert.match(hole.firstBytes[0], /^CONNECT 127\.0\.0\.1:\d+ HTTP\/1\.1\r\n/);
        await hole.waitForAllClosed(2000);
    });

    it('a wiki that accepts and never answers: the call fails at the deadline, and the socket is closed', async () => {
        const o = await timedFetch(`${hole.url}/w/api.php`, dispatcher(`${hole.url}/w/api.php`, { no_proxy_list: [] }));
        assertBounded(o, ['UND_ERR_HEADERS_TIMEOUT']);
        assert.match(hole.firstBytes[0], /^GET \/w\/api\.php HTTP\/1\.1\r\n/);
        await hole.waitForAllClosed(2000);
    });

    it('an https wiki that never completes the TLS handshake: fails at the deadline', async () => {
        const uri = `https://${hole.hostPort}/w/api.php`;
        const o = await timedFetch(uri, dispatcher(uri, { no_proxy_list: [] }));
        assertBounded(o, ['UND_ERR_CONNECT_TIMEOUT']);
        await hole.waitForAllClosed(2000);
    });

    it('an https wiki behind the proxy that never completes the TLS handshake: fails at the deadline', async () => {
        const mapped = await FakeConnectProxy.start({ map: { 'meta.wikimedia.org:443': hole.hostPort } });
        try {
            const uri = 'https://meta.wikimedia.org/w/api.php';
            const o = await timedFetch(uri, dispatcher(uri, { proxy: mapped.url, no_proxy_list: [] }));
            assertBounded(o, ['UND_ERR_CONNECT_TIMEOUT']);
            assert.equal(mapped.count('meta.wikimedia.org:443'), 1);
            await hole.waitForAllClosed(2000);
        } finally {
            await mapped.close();
        }
    });
});
