import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as https from 'node:https';
import { AddressInfo } from 'node:net';
import {
    createHttpsAgent, DEFAULT_PROXY_CONNECT_TIMEOUT_MS, DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS, EgressTimeoutError, HttpsAgentOptions
} from '../../src/egress/agents';
import { BlackHole } from '../fakes/black-hole';
import { FakeConnectProxy } from '../fakes/connect-proxy';
import { createFakeTls, FakeTls } from '../fakes/tls';

/**
 * createHttpsAgent (FCM sends, the OAuth exchange, Web Push): every step of opening a
 * connection has a deadline, a stuck step fails the request with a timeout error and closes
 * its socket, and the deadlines never touch a healthy kept-alive connection.
 */

const DEADLINE_MS = 300;
/** A failure must come at its deadline: not before it, and well under the test's timeout. */
const SLACK_MS = 1500;

type Outcome = { status: number; body: string } | { error: Error };

/** One GET through `agent`, with a test-side guard so a missing deadline fails clearly. */
function get(url: string, agent: http.Agent, guardMs = 5000): Promise<Outcome & { ms: number }> {
    const started = Date.now();
    return new Promise((resolve) => {
        const guard = setTimeout(() => {
            req.destroy();
            resolve({ error: new Error(`no deadline: still waiting after ${guardMs} ms`), ms: Date.now() - started });
        }, guardMs);
        const req = https.get(url, { agent }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => {
                body += c;
            });
            res.on('end', () => {
                clearTimeout(guard);
                resolve({ status: res.statusCode ?? 0, body, ms: Date.now() - started });
            });
        });
        req.on('error', (error) => {
            clearTimeout(guard);
            resolve({ error, ms: Date.now() - started });
        });
    });
}

function assertTimedOut(o: Outcome & { ms: number }, phase: EgressTimeoutError['phase']): void {
    assert.ok('error' in o, `expected a failure, got HTTP ${'status' in o ? o.status : '?'}`);
    const e = o.error as EgressTimeoutError;
    assert.ok(e instanceof EgressTimeoutError, `expected an EgressTimeoutError, got ${e.name}: ${e.message}`);
    assert.equal(e.phase, phase);
    assert.equal(e.code, 'ETIMEDOUT', 'Node-style code, so HTTP clients report a timeout');
    assert.ok(o.ms >= DEADLINE_MS - 20, `failed after ${o.ms} ms, before its deadline`);
    assert.ok(o.ms < DEADLINE_MS + SLACK_MS, `failed after ${o.ms} ms`);
}

describe('egress: createHttpsAgent deadlines', function () {
    this.timeout(15_000);
    let tls: FakeTls;
    let hole: BlackHole;
    let server: https.Server;
    let serverPort: number;
    const agents: http.Agent[] = [];
    const closers: Array<() => Promise<void>> = [];

    before(async () => {
        tls = await createFakeTls();
        server = https.createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
            res.writeHead(200, { 'content-type': 'text/plain' }).end(`ok ${req.socket.remotePort}`);
        });
        server.keepAliveTimeout = 10_000;
        await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
        serverPort = (server.address() as AddressInfo).port;
    });
    after(async () => {
        server.closeAllConnections();
        await new Promise<void>((r) => server.close(() => r()));
    });
    beforeEach(async () => {
        hole = await BlackHole.start();
    });
    afterEach(async () => {
        for (const a of agents.splice(0)) {
            a.destroy();
        }
        for (const c of closers.splice(0)) {
            await c();
        }
        await hole.close();
    });

    function agent(o: Partial<HttpsAgentOptions> & Pick<HttpsAgentOptions, 'host' | 'policy'>): http.Agent {
        const a = createHttpsAgent({
            maxSockets: 2, ca: tls.ca, proxyConnectTimeoutMs: DEADLINE_MS, tlsHandshakeTimeoutMs: DEADLINE_MS, ...o
        });
        agents.push(a);
        return a;
    }

    async function proxy(map: Record<string, string>): Promise<FakeConnectProxy> {
        const p = await FakeConnectProxy.start({ map });
        closers.push(() => p.close());
        return p;
    }

    it('has sane defaults', () => {
        assert.equal(DEFAULT_PROXY_CONNECT_TIMEOUT_MS, 10_000);
        assert.equal(DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS, 10_000);
    });

    it('a proxy that accepts and never answers CONNECT: a timeout at the deadline, and the socket is closed', async () => {
        const a = agent({ host: 'fcm.googleapis.com', policy: { proxy: hole.url, no_proxy_list: [] } });
        const o = await get('https://fcm.googleapis.com/v1/projects/p/messages:send', a);
        assertTimedOut(o, 'proxy-connect');
        assert.match(hole.firstBytes[0], /^CONNECT fcm\.googleapis\.com:443 HTTP\/1\.1\r\n/);
        await hole.waitForAllClosed(2000);
        // The next request tries again (a new tunnel), and fails the same bounded way.
        assertTimedOut(await get('https://fcm.googleapis.com/', a), 'proxy-connect');
        assert.equal(hole.accepted, 2);
    });

    it('a TLS server that accepts and never completes the handshake (direct): a timeout, socket closed', async () => {
        const a = agent({ host: '127.0.0.1', policy: { no_proxy_list: [] } });
        const o = await get(`https://127.0.0.1:${hole.port}/`, a);
        assertTimedOut(o, 'tls-handshake');
        assert.equal(hole.firstBytes[0].charCodeAt(0), 0x16, 'a TLS handshake record (ClientHello) arrived');
        await hole.waitForAllClosed(2000);
    });

    it('a tunnel that opens to a server that never completes the handshake: a timeout, tunnel closed', async () => {
        const p = await proxy({ 'fcm.googleapis.com:443': hole.hostPort });
        const a = agent({ host: 'fcm.googleapis.com', policy: { proxy: p.url, no_proxy_list: [] } });
        assertTimedOut(await get('https://fcm.googleapis.com/', a), 'tls-handshake');
        assert.equal(p.count('fcm.googleapis.com:443'), 1, 'the CONNECT itself succeeded');
        await hole.waitForAllClosed(2000);
    });

    it('connectTo a server that never completes the handshake: a timeout', async () => {
        const a = agent({ host: 'fcm.googleapis.com', policy: { no_proxy_list: [] }, connectTo: `https://${hole.hostPort}` });
        assertTimedOut(await get('https://fcm.googleapis.com/', a), 'tls-handshake');
        await hole.waitForAllClosed(2000);
    });

    it('a proxy that stalls, then recovers: the first request fails at its deadline, the next one is delivered', async () => {
        const p = await proxy({ 'fcm.googleapis.com:443': `127.0.0.1:${serverPort}` });
        const a = agent({ host: 'fcm.googleapis.com', policy: { proxy: p.url, no_proxy_list: [] } });
        p.setStalled(true);
        assertTimedOut(await get('https://fcm.googleapis.com/', a), 'proxy-connect');
        assert.deepEqual(p.stalled, ['fcm.googleapis.com:443']);
        p.setStalled(false);
        const ok = await get('https://fcm.googleapis.com/', a);
        assert.ok('status' in ok && ok.status === 200, JSON.stringify(ok));
    });

    for (const via of ['proxy', 'direct', 'connectTo'] as const) {
        it(`deadlines never touch a healthy kept-alive connection (${via})`, async () => {
            let a: http.Agent;
            let url = 'https://fcm.googleapis.com/';
            let p: FakeConnectProxy | undefined;
            if (via === 'proxy') {
                p = await proxy({ 'fcm.googleapis.com:443': `127.0.0.1:${serverPort}` });
                a = agent({ host: 'fcm.googleapis.com', policy: { proxy: p.url, no_proxy_list: [] } });
            } else if (via === 'direct') {
                url = `https://localhost:${serverPort}/`;
                a = agent({ host: 'localhost', policy: { proxy: hole.url, no_proxy_list: ['localhost'] } });
            } else {
                a = agent({ host: 'fcm.googleapis.com', policy: { no_proxy_list: [] }, connectTo: `https://127.0.0.1:${serverPort}` });
            }
            const first = await get(url, a);
            assert.ok('status' in first && first.status === 200, JSON.stringify(first));
            await new Promise((r) => setTimeout(r, DEADLINE_MS * 2)); // past every deadline
            const second = await get(url, a);
            assert.ok('status' in second && second.status === 200, JSON.stringify(second));
            assert.equal(second.body, first.body, 'the same socket served both (keep-alive)');
            if (p) {
                assert.equal(p.count('fcm.googleapis.com:443'), 1, 'one tunnel');
            }
            assert.equal(hole.accepted, 0, 'no_proxy_list kept it off the proxy');
        });
    }
});
