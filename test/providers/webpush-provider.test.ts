import assert from 'node:assert/strict';
import { createECDH, randomBytes, verify } from 'node:crypto';
import type { LookupAddress } from 'node:dns';
import { mkdtempSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { WebPushConfig } from '../../src/config/sections/webpush';
import { EgressPolicy } from '../../src/egress/agents';
import { DnsLookup } from '../../src/providers/webpush/endpoint-policy';
import { createWebPushProvider, WebPushProvider } from '../../src/providers/webpush';
import { BlackHole } from '../fakes/black-hole';
import { FakeConnectProxy } from '../fakes/connect-proxy';
import { createFakeTls, FAKE_TLS_HOSTS, FakeTls } from '../fakes/tls';
import { FakeWebPushServer } from '../fakes/webpush-server';
import { TestLogger } from '../helpers/test-logger';
import { outcomeOf, resultOf, sendAll, vapidKeyPair, webpushBatch, webpushSettings } from './webpush-helpers';

const SUBJECT = 'mailto:push-admins@example.org';
const MOZILLA = 'updates.push.services.mozilla.com';

/** Keys of a subscription no fake holds (for endpoints that must never be contacted). */
function strayToken(endpoint: string): string {
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    return JSON.stringify({ endpoint, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') } });
}

/** A DNS that knows a few names and records every question (the connect-time check goes through it). */
class FakeDns {
    readonly asked: string[] = [];
    constructor(private readonly answers: Record<string, string[]>) {}
    readonly lookup: DnsLookup = (hostname, _options, callback) => {
        this.asked.push(hostname);
        const a = this.answers[hostname];
        setImmediate(() => a
            ? callback(null, a.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 })))
            : callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []));
    };
}

function verifiesAgainst(jwt: string, publicKey: string): boolean {
    const [h, c, s] = jwt.split('.');
    const point = Buffer.from(publicKey, 'base64url');
    return verify('sha256', Buffer.from(`${h}.${c}`), {
        key: { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') },
        format: 'jwk', dsaEncoding: 'ieee-p1363'
    }, Buffer.from(s, 'base64url'));
}

describe('WebPushProvider against the fake push service', function () {
    this.timeout(20000);
    let tls: FakeTls;
    let caFile: string;
    let fake: FakeWebPushServer;
    const vapid = vapidKeyPair();
    const providers: WebPushProvider[] = [];

    function make(overrides: Record<string, unknown> = {}, deps: { egress?: EgressPolicy; dns?: FakeDns; logger?: TestLogger } = {}): {
        provider: WebPushProvider; logger: TestLogger; config: WebPushConfig;
    } {
        const logger = deps.logger ?? new TestLogger();
        const config = webpushSettings({
            vapid: { subject: SUBJECT, ...vapid },
            ca: caFile,
            testOnlyLoopbackEndpoints: [fake.hostPort],
            requestTimeoutMs: 3000,
            maxSocketsPerOrigin: 4,
            ...overrides
        });
        const provider = createWebPushProvider('webpush', config, {
            logger, egress: deps.egress ?? { no_proxy_list: [] }, userAgent: 'push-notifications-test/1.0',
            dnsLookup: deps.dns?.lookup, env: {}
        });
        providers.push(provider);
        return { provider, logger, config };
    }

    before(async () => {
        tls = await createFakeTls([...FAKE_TLS_HOSTS, MOZILLA]);
        const dir = mkdtempSync(path.join(tmpdir(), 'webpush-'));
        caFile = path.join(dir, 'ca.pem');
        writeFileSync(caFile, tls.ca);
        fake = await FakeWebPushServer.start({ tls });
    });

    afterEach(async () => {
        await Promise.all(providers.splice(0).map((p) => p.close()));
        fake.reset();
        Object.assign(fake.behaviour, { delayMs: 0, slowMs: 2000, retryAfterSeconds: 7, retryAfterForm: undefined, failuresPerToken: undefined, expireVapidAfterSeconds: undefined });
    });

    after(async () => {
        await fake.close();
    });

    it('a browser-made subscription decrypts at the push service to {"type":"checkEchoV1"}, with a VAPID JWT that verifies against the configured key', async () => {
        const { provider, logger } = make();
        const sub = fake.createSubscription('', { applicationServerKey: vapid.publicKey });
        const results = await sendAll(provider, webpushBatch([sub.token]));
        assert.deepEqual(results, [{ token: sub.token, outcome: 'delivered', reason: 'ok' }]);
        assert.equal(provider.vapidPublicKey, vapid.publicKey);

        const [got] = fake.receivedFor(sub.id);
        assert.equal(got.status, 201);
        assert.equal(got.plaintext, '{"type":"checkEchoV1"}');
        assert.equal(got.headers['content-encoding'], 'aes128gcm');
        assert.equal(got.headers.ttl, '86400');
        assert.equal(got.headers.urgency, 'normal');
        assert.equal(got.headers.topic, 'checkEchoV1');
        assert.equal(got.headers['user-agent'], 'push-notifications-test/1.0');
        assert.match(String(got.headers.authorization), /^vapid t=[\w-]+\.[\w-]+\.[\w-]+, k=[\w-]{87}$/);
        const v = got.vapid;
        assert.ok(v?.signatureValid);
        assert.equal(v.k, vapid.publicKey);
        assert.ok(verifiesAgainst(v.jwt, vapid.publicKey), 'the JWT verifies against the configured public key');
        assert.equal(v.aud, fake.origin);
        assert.equal(v.sub, SUBJECT);
        const now = Date.now() / 1000;
        assert.ok(typeof v.exp === 'number' && v.exp > now + 3600 && v.exp <= now + 24 * 3600, `exp ${String(v.exp)} within 24 h`);
        assert.ok(!logger.text().includes(sub.id), 'no endpoint (capability URL) in the logs');
    });

    it('keeps one JWT per origin and reuses keep-alive connections, at most maxSocketsPerOrigin at once', async () => {
        const { provider } = make({ maxSocketsPerOrigin: 3 });
        fake.behaviour.delayMs = 20;
        const subs = Array.from({ length: 30 }, () => fake.createSubscription());
        const first = await sendAll(provider, webpushBatch(subs.slice(0, 15).map((s) => s.token)));
        const second = await sendAll(provider, webpushBatch(subs.slice(15).map((s) => s.token)));
        assert.ok([...first, ...second].every((r) => r.outcome === 'delivered'));
        assert.equal(fake.received.length, 30);
        assert.equal(new Set(fake.received.map((r) => r.vapid?.jwt)).size, 1, 'one JWT signed for the origin');
        assert.equal(new Set(fake.received.map((r) => r.plaintext)).size, 1);
        assert.ok(fake.counters.maxInFlight <= 3, `in flight at once: ${fake.counters.maxInFlight}`);
        assert.ok(fake.counters.connections <= 3, `connections: ${fake.counters.connections}`);
    });

    it('404 and 410 are dead (deleted at the wiki under the exact token string)', async () => {
        const { provider } = make();
        const gone = fake.createSubscription('gone-');
        const dead = fake.createSubscription('dead-');
        const notfound = fake.createSubscription('notfound-');
        const ok = fake.createSubscription();
        const results = await sendAll(provider, webpushBatch([gone.token, dead.token, notfound.token, ok.token]));
        assert.equal(outcomeOf(results, gone.token), 'dead:http-410');
        assert.equal(outcomeOf(results, dead.token), 'dead:http-410');
        assert.equal(outcomeOf(results, notfound.token), 'dead:http-404');
        assert.equal(outcomeOf(results, ok.token), 'delivered:ok');
        assert.equal(fake.requestsFor(gone.id), 1);
    });

    for (const form of ['seconds', 'http-date'] as const) {
        it(`429 and 503 are transient with Retry-After (${form}); 500 without; retried, they are delivered`, async () => {
            const { provider } = make();
            fake.behaviour.retryAfterForm = form;
            fake.behaviour.failuresPerToken = 1;
            const limited = fake.createSubscription('ratelimit-');
            const unavailable = fake.createSubscription('transient-');
            const internal = fake.createSubscription('internal-');
            const tokens = [limited.token, unavailable.token, internal.token];
            const results = await sendAll(provider, webpushBatch(tokens));
            assert.equal(outcomeOf(results, limited.token), 'transient:http-429');
            assert.equal(outcomeOf(results, unavailable.token), 'transient:http-5xx');
            assert.equal(outcomeOf(results, internal.token), 'transient:http-5xx');
            assert.equal(resultOf(results, internal.token).retryAfterMs, undefined);
            for (const t of [limited.token, unavailable.token]) {
                const ms = resultOf(results, t).retryAfterMs;
                if (form === 'seconds') {
                    assert.equal(ms, 7000);
                } else {
                    assert.ok(ms !== undefined && ms > 5500 && ms <= 8000, `Retry-After date honoured: ${ms}`);
                }
            }
            assert.equal(fake.retryAfters.length, 2);
            // The delivery layer retries them later; the fake has healed by then.
            const again = await sendAll(provider, webpushBatch(tokens));
            assert.ok(again.every((r) => r.outcome === 'delivered'), JSON.stringify(again.map((r) => r.reason)));
        });
    }

    it('400, 403 and 413 are config errors with the push service\'s answer in `detail`, never dead', async () => {
        const { provider } = make();
        const bad = fake.createSubscription('bad-');
        const auth = fake.createSubscription('auth-');
        const large = fake.createSubscription('toolarge-');
        const results = await sendAll(provider, webpushBatch([bad.token, auth.token, large.token]));
        assert.deepEqual(resultOf(results, bad.token), {
            token: bad.token, outcome: 'config_error', reason: 'http-400',
            detail: '400 {"code":400,"errno":111,"error":"Bad Request","message":"Invalid request"}'
        });
        assert.deepEqual(resultOf(results, auth.token), { token: auth.token, outcome: 'config_error', reason: 'http-403', detail: '403 {"reason":"BadJwtToken"}' });
        assert.equal(outcomeOf(results, large.token), 'config_error:http-413');
        assert.match(resultOf(results, large.token).detail ?? '', /^413 .*Payload too large/);
        assert.ok(results.every((r) => r.outcome !== 'dead'));
    });

    it('a redirect is not followed (config error), and a reset connection is transient', async () => {
        const { provider } = make();
        const redirect = fake.createSubscription('redirect-');
        const reset = fake.createSubscription('reset-');
        const results = await sendAll(provider, webpushBatch([redirect.token, reset.token]));
        assert.equal(outcomeOf(results, redirect.token), 'config_error:http-3xx');
        assert.equal(fake.requestsFor('elsewhere'), 0, 'the Location was never visited');
        assert.equal(outcomeOf(results, reset.token), 'transient:network_error');
    });

    it('malformed subscriptions are dead (invalid_subscription) and never sent', async () => {
        const { provider } = make();
        const good = fake.createSubscription();
        const k = JSON.parse(good.token) as { keys: { p256dh: string; auth: string } };
        const malformed = [
            'not json at all',
            JSON.stringify({ endpoint: good.endpoint }),
            JSON.stringify({ endpoint: good.endpoint, keys: { p256dh: k.keys.p256dh, auth: randomBytes(8).toString('base64url') } }),
            JSON.stringify({ endpoint: good.endpoint, keys: { p256dh: randomBytes(64).toString('base64url'), auth: k.keys.auth } }),
            JSON.stringify({ endpoint: good.endpoint.replace('https:', 'http:'), keys: k.keys })
        ];
        const results = await sendAll(provider, webpushBatch([...malformed, good.token]));
        for (const t of malformed) {
            assert.equal(outcomeOf(results, t), 'dead:invalid_subscription', t);
        }
        assert.equal(outcomeOf(results, good.token), 'delivered:ok');
        assert.equal(fake.counters.requests, 1, 'only the good one reached the push service');
    });

    it('loopback, private, link-local, plain-http, userinfo, non-443, not-allowed and rebinding endpoints are never contacted, in the same batch as good ones that are delivered', async () => {
        const canary = await BlackHole.start();
        const dns = new FakeDns({ 'rebind.push.apple.com': ['127.0.0.1'], 'inside.notify.windows.com': ['10.1.2.3', '52.1.2.3'] });
        try {
            const { provider } = make({}, { dns });
            const good1 = fake.createSubscription();
            const good2 = fake.createSubscription();
            const victim = fake.createSubscription();
            const refused: Record<string, string> = {
                loopbackOtherPort: strayToken(`https://127.0.0.1:${canary.port}/push/x`),
                localhostName: strayToken(`https://localhost:${fake.port}/push/${victim.id}`),
                ipv6Loopback: strayToken(`https://[::1]:${fake.port}/push/${victim.id}`),
                loopback443: strayToken('https://127.0.0.1/push/x'),
                private: strayToken('https://10.0.0.1/push/x'),
                linkLocalMetadata: strayToken('https://169.254.169.254/latest/meta-data/'),
                userinfo: strayToken(`https://user:secret@127.0.0.1:${fake.port}/push/${victim.id}`),
                non443: strayToken('https://fcm.googleapis.com:8443/fcm/send/x'),
                notAllowed: strayToken('https://push.example.org/x'),
                rebinding: strayToken('https://rebind.push.apple.com/x'),
                mixedAnswer: strayToken('https://inside.notify.windows.com/w/?token=x')
            };
            const plainHttp = strayToken(`http://127.0.0.1:${fake.port}/push/${victim.id}`);
            const results = await sendAll(provider, webpushBatch([good1.token, ...Object.values(refused), plainHttp, good2.token]));

            assert.equal(outcomeOf(results, good1.token), 'delivered:ok');
            assert.equal(outcomeOf(results, good2.token), 'delivered:ok');
            for (const [name, token] of Object.entries(refused)) {
                const r = resultOf(results, token);
                assert.equal(`${r.outcome}:${r.reason}`, 'config_error:endpoint_not_allowed', name);
                assert.ok(r.detail && !r.detail.includes('/push/'), `${name}: detail says why, without the path: ${r.detail}`);
            }
            assert.match(resultOf(results, refused.rebinding).detail ?? '', /non-public loopback address 127\.0\.0\.1/);
            assert.match(resultOf(results, refused.mixedAnswer).detail ?? '', /private address 10\.1\.2\.3/);
            assert.equal(outcomeOf(results, plainHttp), 'dead:invalid_subscription');
            assert.equal(canary.accepted, 0, 'the other loopback port was never connected to');
            assert.equal(fake.requestsFor(victim.id), 0);
            assert.equal(fake.counters.requests, 2, 'only the two good subscriptions reached the push service');
            // The rebinding names were refused at connect time, after resolution: the check is in the socket's lookup.
            assert.deepEqual([...new Set(dns.asked)].sort(), ['inside.notify.windows.com', 'rebind.push.apple.com']);
        } finally {
            await canary.close();
        }
    });

    it('a black-hole push service (accepts TCP, never answers) gives transient within the deadline, and frees its slot', async () => {
        const hole = await BlackHole.start();
        try {
            const { provider } = make({ testOnlyLoopbackEndpoints: [`127.0.0.1:${hole.port}`], requestTimeoutMs: 400, maxSocketsPerOrigin: 1 });
            const tokens = [strayToken(`https://127.0.0.1:${hole.port}/push/a`), strayToken(`https://127.0.0.1:${hole.port}/push/b`)];
            for (let round = 0; round < 2; round++) {
                const started = Date.now();
                const results = await sendAll(provider, webpushBatch(tokens));
                const took = Date.now() - started;
                assert.deepEqual(results.map((r) => `${r.outcome}:${r.reason}`), ['transient:timeout', 'transient:timeout']);
                // One slot: the two requests run one after the other, each bounded by the deadline.
                assert.ok(took >= 700 && took < 2000, `round ${round}: took ${took} ms`);
            }
            assert.ok(hole.accepted >= 2);
            await new Promise((r) => setTimeout(r, 50));
            assert.equal(hole.open, 0, 'timed-out connections are closed, not left hanging');
        } finally {
            await hole.close();
        }
    });

    it('a VAPID JWT refused with 401 is re-signed and the token retried at once', async () => {
        const { provider, logger } = make();
        fake.behaviour.expireVapidAfterSeconds = 1;
        const a = fake.createSubscription('', { applicationServerKey: vapid.publicKey });
        const b = fake.createSubscription('', { applicationServerKey: vapid.publicKey });
        assert.equal(outcomeOf(await sendAll(provider, webpushBatch([a.token])), a.token), 'delivered:ok');
        await new Promise((r) => setTimeout(r, 1300));
        const results = await sendAll(provider, webpushBatch([b.token]));
        assert.equal(outcomeOf(results, b.token), 'delivered:ok');
        const seen = fake.receivedFor(b.id);
        assert.deepEqual(seen.map((r) => r.status), [401, 201]);
        assert.notEqual(seen[0].vapid?.jwt, seen[1].vapid?.jwt, 'a new JWT');
        assert.ok(seen[1].vapid?.signatureValid && verifiesAgainst(seen[1].vapid.jwt, vapid.publicKey));
        assert.equal(fake.receivedFor(a.id)[0].vapid?.jwt, seen[0].vapid?.jwt, 'the first was the cached one');
        const lines = logger.entries.filter((e) => /re-signed/.test(JSON.stringify(e.entry)));
        assert.equal(lines.length, 1);
        assert.equal(lines[0].level, 'info');
    });

    it('only a refusal after a fresh JWT is a config error (one retry, then none while the JWT is fresh)', async () => {
        const { provider } = make();
        const first = fake.createSubscription('auth-');
        const good = fake.createSubscription();
        const r1 = await sendAll(provider, webpushBatch([first.token, good.token]));
        assert.equal(outcomeOf(r1, first.token), 'config_error:http-403');
        assert.equal(outcomeOf(r1, good.token), 'delivered:ok');
        assert.equal(fake.requestsFor(first.id), 2, 'refused, re-signed, refused again');
        const second = fake.createSubscription('auth-');
        const r2 = await sendAll(provider, webpushBatch([second.token]));
        assert.equal(outcomeOf(r2, second.token), 'config_error:http-403');
        assert.equal(fake.requestsFor(second.id), 1, 'the fresh JWT was refused: no second retry');
        assert.ok(![...r1, ...r2].some((r) => r.outcome === 'dead'));
    });

    it('a subscription made for another VAPID key is a config error, not dead', async () => {
        const { provider } = make();
        const other = fake.createSubscription('', { applicationServerKey: vapidKeyPair().publicKey });
        const results = await sendAll(provider, webpushBatch([other.token]));
        assert.equal(outcomeOf(results, other.token), 'config_error:http-403');
        assert.match(resultOf(results, other.token).detail ?? '', /VapidPkHashMismatch/);
    });

    it('a payload too large for one record is a config error and is never sent', async () => {
        const { provider } = make();
        const sub = fake.createSubscription();
        const results = await sendAll(provider, webpushBatch([sub.token], { message: { type: 'big', data: { blob: 'x'.repeat(4000) } } }));
        assert.equal(outcomeOf(results, sub.token), 'config_error:payload_too_large');
        assert.equal(fake.counters.requests, 0);
    });

    it('dryRun and mock mode send nothing; malformed and refused subscriptions still say so', async () => {
        const sub = fake.createSubscription();
        const refused = strayToken('https://push.example.org/x');
        const dry = await sendAll(make().provider, webpushBatch([sub.token, 'nope', refused], { dryRun: true }));
        assert.deepEqual(dry.map((r) => `${r.outcome}:${r.reason}`), ['delivered:dry_run', 'dead:invalid_subscription', 'config_error:endpoint_not_allowed']);
        const { provider: mock, logger } = make({ mock: true, vapid: undefined });
        const m = await sendAll(mock, webpushBatch([sub.token, 'nope']));
        assert.deepEqual(m.map((r) => `${r.outcome}:${r.reason}`), ['delivered:mock', 'dead:invalid_subscription']);
        assert.equal(Buffer.from(mock.vapidPublicKey, 'base64url').length, 65);
        assert.ok(logger.at('warn').some((e) => /mock mode/.test(JSON.stringify(e.entry))));
        assert.equal(fake.counters.requests, 0);
    });

    it('goes through the egress proxy by name (the proxy resolves it); the allow-list still guards that path', async () => {
        const viaProxy = await FakeWebPushServer.start({ tls, origin: `https://${MOZILLA}` });
        const proxy = await FakeConnectProxy.start({ map: { [`${MOZILLA}:443`]: `127.0.0.1:${viaProxy.port}` } });
        const dns = new FakeDns({});
        try {
            const { provider } = make({ testOnlyLoopbackEndpoints: [] }, { egress: { proxy: proxy.url, no_proxy_list: [] }, dns });
            const sub = viaProxy.createSubscription('', { applicationServerKey: vapid.publicKey });
            assert.ok(sub.endpoint.startsWith(`https://${MOZILLA}/push/`));
            const notAllowed = strayToken('https://push.example.org/x');
            const results = await sendAll(provider, webpushBatch([sub.token, notAllowed]));
            assert.equal(outcomeOf(results, sub.token), 'delivered:ok');
            assert.equal(outcomeOf(results, notAllowed), 'config_error:endpoint_not_allowed');
            assert.equal(viaProxy.receivedFor(sub.id)[0].plaintext, '{"type":"checkEchoV1"}');
            assert.equal(viaProxy.receivedFor(sub.id)[0].vapid?.aud, `https://${MOZILLA}`);
            assert.equal(proxy.count(`${MOZILLA}:443`), 1);
            assert.deepEqual(proxy.refused, [], 'the refused endpoint never reached the proxy');
            assert.deepEqual(dns.asked, [], 'no local resolution through the proxy');
        } finally {
            await proxy.close();
            await viaProxy.close();
        }
    });

    it('a black-hole egress proxy gives transient within the deadline, and does not hold the origin\'s connection slot', async () => {
        const viaProxy = await FakeWebPushServer.start({ tls, origin: `https://${MOZILLA}` });
        const proxy = await FakeConnectProxy.start({ map: { [`${MOZILLA}:443`]: `127.0.0.1:${viaProxy.port}` } });
        // A TCP front for the proxy that swallows connections while `hole` is set.
        let hole = true;
        const held = new Set<net.Socket>();
        const all = new Set<net.Socket>();
        const front = net.createServer((c) => {
            all.add(c);
            c.on('error', () => undefined);
            if (hole) {
                held.add(c);
                c.on('close', () => held.delete(c));
                c.resume();
                return;
            }
            const up = net.connect(proxy.port, '127.0.0.1');
            up.on('error', () => c.destroy());
            c.pipe(up).pipe(c);
            c.on('close', () => up.destroy());
        });
        await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
        try {
            const port = (front.address() as net.AddressInfo).port;
            const { provider } = make({ testOnlyLoopbackEndpoints: [], requestTimeoutMs: 400, maxSocketsPerOrigin: 1 },
                { egress: { proxy: `http://127.0.0.1:${port}`, no_proxy_list: [] } });
            const first = viaProxy.createSubscription();
            const started = Date.now();
            const r1 = await sendAll(provider, webpushBatch([first.token]));
            assert.equal(outcomeOf(r1, first.token), 'transient:timeout');
            assert.ok(Date.now() - started < 1500);
            await new Promise((r) => setTimeout(r, 50));
            assert.equal(held.size, 0, 'the unanswered CONNECT socket was closed');
            hole = false;
            const second = viaProxy.createSubscription();
            const r2 = await sendAll(provider, webpushBatch([second.token]));
            assert.equal(outcomeOf(r2, second.token), 'delivered:ok', 'the one connection slot was freed');
        } finally {
            for (const c of all) {
                c.destroy();
            }
            await new Promise<void>((r) => front.close(() => r()));
            await proxy.close();
            await viaProxy.close();
        }
    });

    it('close() ends requests in flight as transient, and later sends as transient "closed"', async () => {
        const { provider } = make();
        const slow = fake.createSubscription('slow-');
        fake.behaviour.slowMs = 5000;
        const pending = sendAll(provider, webpushBatch([slow.token]));
        await new Promise((r) => setTimeout(r, 200));
        const started = Date.now();
        await provider.close();
        const results = await pending;
        assert.ok(Date.now() - started < 1000);
        assert.equal(results[0].outcome, 'transient');
        const later = await sendAll(provider, webpushBatch([fake.createSubscription().token]));
        assert.equal(`${later[0].outcome}:${later[0].reason}`, 'transient:closed');
    });
});
