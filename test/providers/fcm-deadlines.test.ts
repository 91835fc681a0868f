import assert from 'node:assert/strict';
import * as https from 'node:https';
import { AddressInfo, Socket } from 'node:net';
import { createHttpsAgent } from '../../src/egress/agents';
import { RequestDeadlineError, requestTarget, requestWithDeadline } from '../../src/providers/fcm/deadline-request';
import { FcmProvider } from '../../src/providers/fcm/fcm-provider';
import { ProviderFakes, startProviderFakes } from '../fakes/provider-fakes';
import { TestLogger } from '../helpers/test-logger';
import { BlackHole, collect, fcmBatch, fcmFrom, outcomes, until } from './fcm-helpers';
import { configFor, newLogger } from './helpers';

/**
 * Issue 11 §3: no outbound step waits without a bound. A black hole accepts TCP and never
 * answers (no TLS handshake, no CONNECT reply, no HTTP answer).
 */
describe('FCM deadlines: black-hole FCM, OAuth endpoint and proxy', function () {
    this.timeout(20000);
    let fakes: ProviderFakes;
    let hole: BlackHole;
    const open: FcmProvider[] = [];

    function provider(overrides: Record<string, unknown>, logger: TestLogger = newLogger()): FcmProvider {
        const p = fcmFrom(configFor(fakes, overrides), logger);
        open.push(p);
        return p;
    }

    function warnLines(logger: TestLogger): Record<string, unknown>[] {
        return logger.at('warn').map((e) => e.entry as Record<string, unknown>);
    }

    before(async () => {
        fakes = await startProviderFakes();
    });
    beforeEach(async () => {
        hole = await BlackHole.start();
    });
    afterEach(async () => {
        await Promise.all(open.splice(0).map((p) => p.close()));
        await hole.close();
        fakes.fcm.reset();
    });
    after(async () => {
        await fakes.close();
    });

    it('a black-hole FCM: every request ends at its deadline as transient timeout, slots freed, one log line', async () => {
        const logger = newLogger();
        const p = provider({ fcm: { fcm_endpoint: `https://127.0.0.1:${hole.port}`, requestTimeoutMs: 300, max_sockets: 2 } }, logger);
        const started = Date.now();
        const { results } = await collect(p, fcmBatch(['bh-1', 'bh-2', 'bh-3']));
        const took = Date.now() - started;
        assert.deepEqual(outcomes(results), { 'bh-1': 'transient:timeout', 'bh-2': 'transient:timeout', 'bh-3': 'transient:timeout' });
        // Two slots: two requests time out together, then the third in a freed slot.
        assert.ok(took >= 550 && took < 3000, `took ${took} ms`);
        assert.equal(hole.accepted, 3);
        await until('condition', () => hole.closedByClient === 3);
        assert.equal((p as unknown as { window: { tokensInFlight: number } }).window.tokensInFlight, 0);
        const warn = warnLines(logger);
        assert.equal(warn.length, 1, JSON.stringify(warn));
        assert.equal(warn[0].reason, 'timeout');
        assert.equal(warn[0].count, 3);
        assert.equal(warn[0].timeoutMs, 300);
    });

    it('a request that never gets its answer ends at its deadline; its neighbours are delivered', async () => {
        const logger = newLogger();
        const p = provider({ fcm: { requestTimeoutMs: 400 } }, logger);
        const { results } = await collect(p, fcmBatch(['hang-1', 'ok-1', 'ok-2']));
        assert.deepEqual(outcomes(results), { 'hang-1': 'transient:timeout', 'ok-1': 'delivered:ok', 'ok-2': 'delivered:ok' });
        await until('condition', () => fakes.fcm.inFlightSends === 0);
        // The next batch works (the timed-out request's socket was destroyed, not left in the pool).
        const again = await collect(p, fcmBatch(['ok-3']));
        assert.deepEqual(outcomes(again.results), { 'ok-3': 'delivered:ok' });
    });

    it('a black-hole OAuth endpoint: the exchange ends at its deadline, tokens transient oauth-unavailable, nothing sent', async () => {
        for (const scheme of ['https', 'http']) {
            const logger = newLogger();
            const p = provider({ fcm: { oauth_token_uri: `${scheme}://127.0.0.1:${hole.port}/token`, requestTimeoutMs: 300 } }, logger);
            const started = Date.now();
            const { results } = await collect(p, fcmBatch(['o-1', 'o-2']));
            const took = Date.now() - started;
            assert.deepEqual(outcomes(results), { 'o-1': 'transient:oauth-unavailable', 'o-2': 'transient:oauth-unavailable' }, scheme);
            assert.ok(took >= 280 && took < 2000, `${scheme}: took ${took} ms`);
            const warn = warnLines(logger);
            assert.equal(warn.length, 1);
            assert.equal(warn[0].count, 2);
            assert.match(String(warn[0].detail), /OAuth token exchange timed out after 300 ms/);
        }
        assert.equal(fakes.fcm.counters.sends, 0);
        await until('condition', () => hole.closedByClient === hole.accepted);
    });

    it('a black-hole egress proxy (CONNECT never answered): FCM requests end at their deadline as transient timeout', async () => {
        const logger = newLogger();
        // The OAuth endpoint (the fake, 127.0.0.1) is reached directly; fcm.googleapis.com through the proxy.
        const p = provider({
            proxy: `http://127.0.0.1:${hole.port}`, no_proxy_list: ['127.0.0.1'],
            fcm: { fcm_endpoint: undefined, requestTimeoutMs: 300, max_sockets: 4 }
        }, logger);
        const started = Date.now();
        const { results } = await collect(p, fcmBatch(['px-1', 'px-2']));
        const took = Date.now() - started;
        assert.deepEqual(outcomes(results), { 'px-1': 'transient:timeout', 'px-2': 'transient:timeout' });
        assert.ok(took >= 280 && took < 2000, `took ${took} ms`);
        assert.ok(hole.accepted >= 1, 'the CONNECT went to the proxy');
        assert.equal(fakes.fcm.counters.oauthExchanges, 1);
        assert.equal(fakes.fcm.counters.sends, 0);
        assert.equal(warnLines(logger)[0].count, 2);
    });
});

describe('requestWithDeadline', function () {
    this.timeout(10000);
    let fakes: ProviderFakes;
    before(async () => {
        fakes = await startProviderFakes();
    });
    after(async () => {
        await fakes.close();
    });

    async function server(handler: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse, n: number) => void):
        Promise<{ url: URL; close: () => Promise<void> }> {
        let n = 0;
        const sockets = new Set<Socket>();
        const s = https.createServer({ cert: fakes.tls.cert, key: fakes.tls.key, keepAliveTimeout: 60000 }, (req, res) => {
            req.resume();
            req.on('end', () => handler(req, res, ++n));
        });
        s.on('secureConnection', (sock: Socket) => {
            sockets.add(sock);
            sock.on('close', () => sockets.delete(sock));
        });
        await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
        return {
            url: new URL(`https://localhost:${(s.address() as AddressInfo).port}/x`),
            close: async () => {
                for (const sock of sockets) {
                    sock.destroy();
                }
                await new Promise<void>((resolve) => s.close(() => resolve()));
            }
        };
    }

    it('is a total deadline: an answer trickling a byte every 100 ms (never idle) is cut at 500 ms', async () => {
        const srv = await server((_req, res) => {
            res.writeHead(200, { 'content-type': 'text/plain' });
            const t = setInterval(() => res.write('.'), 100);
            res.on('close', () => clearInterval(t));
        });
        const agent = createHttpsAgent({ host: 'localhost', policy: { no_proxy_list: [] }, maxSockets: 1, ca: fakes.tls.ca });
        try {
            const started = Date.now();
            await assert.rejects(requestWithDeadline({ target: requestTarget(srv.url), method: 'POST', headers: {}, body: 'x', agent, deadlineMs: 500, keepSuccessBody: true }),
                (e: unknown) => e instanceof RequestDeadlineError && e.deadlineMs === 500);
            const took = Date.now() - started;
            assert.ok(took >= 480 && took < 1500, `took ${took}`);
        } finally {
            agent.destroy();
            await srv.close();
        }
    });

    it('sends again, once, a request whose reused keep-alive socket was reset before any answer', async () => {
        // Answers the first request on each connection; resets the connection on a second one
        // (as a server that closed an idle keep-alive socket the client had not noticed yet).
        const perSocket = new WeakMap<Socket, number>();
        let resets = 0;
        const srv = await server((req, res) => {
            const seen = (perSocket.get(req.socket) ?? 0) + 1;
            perSocket.set(req.socket, seen);
            if (seen > 1) {
                resets++;
                req.socket.destroy();
                return;
            }
            res.writeHead(200, { 'content-length': 2 });
            res.end('ok');
        });
        const agent = createHttpsAgent({ host: 'localhost', policy: { no_proxy_list: [] }, maxSockets: 1, ca: fakes.tls.ca });
        try {
            const opts = { target: requestTarget(srv.url), method: 'POST' as const, headers: {}, body: 'x', agent, deadlineMs: 2000 };
            assert.equal((await requestWithDeadline(opts)).status, 200);
            const second = await requestWithDeadline(opts);
            assert.equal(second.status, 200);
            assert.equal(resets, 1, 'the reused socket was reset once, then a fresh one answered');
        } finally {
            agent.destroy();
            await srv.close();
        }
    });

    it('a request cut by its owner closing (sockets destroyed) is not sent again, even on a reused socket', async () => {
        let requests = 0;
        const srv = await server((_req, res, n) => {
            requests++;
            if (n === 1) {
                res.writeHead(200, { 'content-length': 2 });
                res.end('ok');
            }
            // Later requests hang: the owner closes while they wait.
        });
        const agent = createHttpsAgent({ host: 'localhost', policy: { no_proxy_list: [] }, maxSockets: 1, ca: fakes.tls.ca });
        let closed = false;
        try {
            const opts = { target: requestTarget(srv.url), method: 'POST' as const, headers: {}, body: 'x', agent, deadlineMs: 5000, cancelled: () => closed };
            assert.equal((await requestWithDeadline(opts)).status, 200);
            const p = requestWithDeadline(opts);
            await new Promise((r) => setTimeout(r, 150));
            const started = Date.now();
            closed = true;
            agent.destroy();
            await assert.rejects(p, (e: unknown) => (e as NodeJS.ErrnoException).code === 'ECONNRESET');
            assert.ok(Date.now() - started < 1000);
            await new Promise((r) => setTimeout(r, 100));
            assert.equal(requests, 2, 'not sent a third time');
        } finally {
            agent.destroy();
            await srv.close();
        }
    });
});
