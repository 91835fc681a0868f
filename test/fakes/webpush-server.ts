import { createECDH, createPublicKey, ECDH, randomBytes, randomUUID, verify } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import { AddressInfo, Socket } from 'node:net';
import * as ece from 'http_ece';
import { retryAfterValue, SentRetryAfter, TRANSIENT_PREFIXES } from './apns-server';
import { restartServer } from './restart';
import { FakeTls } from './tls';

/**
 * A fake Web Push service (RFC 8030): an HTTPS (HTTP/1.1) server that accepts push messages the
 * way Chrome's, Firefox's, Apple's and Microsoft's push services do, so the real provider can be
 * tested, benchmarked and run in dev mode against it.
 *
 * Like a browser, it makes subscriptions (`createSubscription`: a fresh P-256 key pair and a
 * 16-byte auth secret, handed out as the JSON token Echo stores), and so it holds the keys to
 * DECRYPT each message (RFC 8291 aes128gcm) and record the plaintext. Like a push service it
 * checks, in this order:
 * 1. POST /push/<id> of a subscription it made, else 404 {"errno":102};
 * 2. `Authorization: vapid t=<JWT>, k=<key>` (RFC 8292): missing → 401 (errno 109); an ES256
 *    signature that does not verify against k=, `aud` not this origin, `exp` past or more than
 *    24 h ahead, `sub` not mailto:/https:, or k= not the subscription's applicationServerKey
 *    (when it was made with one) → 403 {"reason":"BadJwtToken"} (Apple's wording);
 *    `behaviour.expireVapidAfterSeconds`: a JWT first seen longer ago than that → 401;
 * 3. `TTL` (required, integer >= 0), `Content-Encoding: aes128gcm`, `Topic` (<= 32 base64url
 *    characters) and `Urgency` (very-low|low|normal|high) → 400 (autopush errnos 110-113);
 * 4. a body over 4096 bytes → 413; a body it cannot decrypt → 400 (errno 110);
 * 5. the subscription id's prefix:
 *    - `gone-…` / `dead-…` → 410 (unsubscribed or expired)
 *    - `notfound-…`         → 404
 *    - `transient-…`        → 503 + Retry-After
 *    - `ratelimit-…`        → 429 + Retry-After
 *    - `internal-…`         → 500 (no Retry-After)
 *    - `bad-…`              → 400 {"errno":111}
 *    - `auth-…`             → 403 {"reason":"BadJwtToken"} whatever the JWT
 *    - `toolarge-…`         → 413
 *    - `redirect-…`         → 307 to another push resource of this fake (a client must not follow)
 *    - `reset-…`            → the connection is destroyed without an answer
 *    - `slow-…`             → 201 after `slowMs`
 *    - anything else        → 201 Created, `Location` of the message, `TTL` echoed.
 * Retry-After comes as delta-seconds or an HTTP-date (`behaviour.retryAfterForm`) and is
 * recorded in `retryAfters`; `failuresPerToken` makes the transient kinds misbehave only for
 * a subscription's first N requests, then answer 201 ("retried, then delivered").
 * `GET /subscribe?prefix=dead-` answers a new subscription token (dev mode and the README
 * walkthrough). The fake answers as `origin` (default https://127.0.0.1:<port>), which is also
 * the `aud` it expects: give the name a CONNECT proxy maps to it when testing through `proxy`.
 */
export interface FakeWebPushOptions {
    readonly tls: FakeTls;
    readonly port?: number;
    readonly host?: string;
    /** The origin its endpoints carry and the VAPID `aud` it expects; default https://127.0.0.1:<port>. */
    readonly origin?: string;
}

export interface FakeWebPushBehaviour {
    /** Delay before every answer. */
    delayMs: number;
    /** Extra delay for `slow-` subscriptions. */
    slowMs: number;
    retryAfterSeconds: number;
    /** Form of Retry-After on 503 and 429 (default delta-seconds). */
    retryAfterForm?: 'seconds' | 'http-date';
    /** Set: transient-kind prefixes misbehave only for a subscription's first N requests. */
    failuresPerToken?: number;
    /** Set: a VAPID JWT first seen more than this many seconds ago is answered 401 (a push service that wants a newer one). */
    expireVapidAfterSeconds?: number;
}

/** What the fake verified of a request's VAPID JWT. */
export interface ReceivedVapid {
    readonly jwt: string;
    readonly k: string;
    readonly aud?: unknown;
    readonly exp?: unknown;
    readonly sub?: unknown;
    /** The ES256 signature verified against k=. */
    readonly signatureValid: boolean;
}

export interface ReceivedPush {
    /** The subscription id (the endpoint's last path segment, prefix included). */
    readonly id: string;
    readonly headers: http.IncomingHttpHeaders;
    readonly vapid?: ReceivedVapid;
    /** The decrypted plaintext, when it could be decrypted. */
    readonly plaintext?: string;
    /** The status the fake answered (0: connection reset on purpose). */
    readonly status: number;
    /** Epoch ms the request arrived. */
    readonly at: number;
}

/** A subscription as a browser makes it: the token to store, plus what the fake keeps. */
export interface BrowserSubscription {
    /** The JSON-encoded PushSubscription (what Echo stores as the device token). */
    readonly token: string;
    readonly endpoint: string;
    readonly id: string;
}

interface SubscriptionKeys {
    readonly ecdh: ECDH;
    readonly auth: Buffer;
    readonly applicationServerKey?: string;
}

const TOPIC = /^[A-Za-z0-9_-]{1,32}$/;
const URGENCIES = new Set(['very-low', 'low', 'normal', 'high']);

export class FakeWebPushServer {
    readonly received: ReceivedPush[] = [];
    readonly counters = { requests: 0, delivered: 0, rejected: 0, connections: 0, vapidFailures: 0, decryptFailures: 0, inFlight: 0, maxInFlight: 0 };
    readonly behaviour: FakeWebPushBehaviour = { delayMs: 0, slowMs: 2000, retryAfterSeconds: 7 };
    readonly retryAfters: SentRetryAfter[] = [];
    /** When false, `received` is not filled (benchmarks): only the counters move. */
    record = true;
    private readonly server: https.Server;
    private readonly subscriptions = new Map<string, SubscriptionKeys>();
    private readonly requestsPerId = new Map<string, number>();
    private readonly jwtFirstSeen = new Map<string, number>();
    /** Verified Authorization values (the same bytes verify the same way; keeps the fake cheap in benchmarks). */
    private readonly verified = new Map<string, ReceivedVapid>();
    private readonly sockets = new Set<Socket>();

    private constructor(private readonly options: FakeWebPushOptions) {
        this.server = https.createServer({ cert: options.tls.cert, key: options.tls.key }, (req, res) => this.onRequest(req, res));
        this.server.on('secureConnection', (s: Socket) => {
            this.counters.connections++;
            this.sockets.add(s);
            s.on('close', () => this.sockets.delete(s));
        });
        this.server.on('tlsClientError', () => undefined);
    }

    static async start(options: FakeWebPushOptions): Promise<FakeWebPushServer> {
        const fake = new FakeWebPushServer(options);
        await new Promise<void>((resolve) => fake.server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
        return fake;
    }

    get port(): number {
        return (this.server.address() as AddressInfo).port;
    }

    /** The origin of its endpoints (and the VAPID `aud` it expects). */
    get origin(): string {
        return this.options.origin ?? `https://127.0.0.1:${this.port}`;
    }

    /** `host:port` for `testOnlyLoopbackEndpoints`. */
    get hostPort(): string {
        return `127.0.0.1:${this.port}`;
    }

    /**
     * Subscribes as a browser does (Push API `pushManager.subscribe`): a fresh P-256 key pair and
     * a 16-byte auth secret; with `applicationServerKey`, the subscription is restricted to that
     * VAPID key (RFC 8292 §4.2).
     */
    createSubscription(prefix = '', options: { applicationServerKey?: string } = {}): BrowserSubscription {
        const ecdh = createECDH('prime256v1');
        ecdh.generateKeys();
        const auth = randomBytes(16);
        const id = `${prefix}${randomUUID()}`;
        this.subscriptions.set(id, { ecdh, auth, applicationServerKey: options.applicationServerKey });
        const endpoint = `${this.origin}/push/${id}`;
        const token = JSON.stringify({
            endpoint, expirationTime: null,
            keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') }
        });
        return { token, endpoint, id };
    }

    /** Requests seen for a subscription id (answered or not). */
    requestsFor(id: string): number {
        return this.requestsPerId.get(id) ?? 0;
    }

    /** What was received for a subscription id. */
    receivedFor(id: string): ReceivedPush[] {
        return this.received.filter((r) => r.id === id);
    }

    reset(): void {
        this.received.length = 0;
        this.retryAfters.length = 0;
        this.requestsPerId.clear();
        this.jwtFirstSeen.clear();
        for (const k of Object.keys(this.counters) as (keyof FakeWebPushServer['counters'])[]) {
            if (k !== 'inFlight') {
                this.counters[k] = 0;
            }
        }
    }

    /** Destroys every open connection (requests in flight included). */
    dropConnections(): void {
        for (const s of this.sockets) {
            s.destroy();
        }
    }

    async restart(downMs = 0): Promise<void> {
        await restartServer(this.server, this.port, this.options.host ?? '127.0.0.1', () => this.dropConnections(), downMs);
    }

    async close(): Promise<void> {
        this.dropConnections();
        await new Promise<void>((resolve) => this.server.close(() => resolve()));
    }

    private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
        this.counters.inFlight++;
        this.counters.maxInFlight = Math.max(this.counters.maxInFlight, this.counters.inFlight);
        res.on('close', () => this.counters.inFlight--);
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('error', () => undefined);
        req.on('end', () => {
            const url = new URL(req.url ?? '/', 'https://fake.invalid');
            if (req.method === 'GET' && url.pathname === '/subscribe') {
                const sub = this.createSubscription(url.searchParams.get('prefix') ?? '');
                res.writeHead(200, { 'content-type': 'application/json' });
                res.end(sub.token);
                return;
            }
            this.counters.requests++;
            const m = /^\/push\/([^/?]+)$/.exec(url.pathname);
            const id = m ? decodeURIComponent(m[1]) : '';
            const seen = (this.requestsPerId.get(id) ?? 0) + 1;
            this.requestsPerId.set(id, seen);
            const healed = this.behaviour.failuresPerToken !== undefined && seen > this.behaviour.failuresPerToken;
            const at = Date.now();
            const { status, headers, body, vapid, plaintext } = this.decide(req, id, Buffer.concat(chunks), healed, at);
            if (this.record) {
                this.received.push({ id, headers: req.headers, vapid, plaintext, status, at });
            }
            const send = (): void => {
                if (status === 0) {
                    req.socket.destroy();
                    return;
                }
                res.writeHead(status, headers);
                res.end(body);
            };
            const delay = this.behaviour.delayMs + (id.startsWith('slow-') && !healed ? this.behaviour.slowMs : 0);
            if (delay > 0) {
                setTimeout(send, delay);
            } else {
                send();
            }
        });
    }

    private decide(req: http.IncomingMessage, id: string, body: Buffer, healed: boolean, now: number): {
        status: number; headers: Record<string, string>; body: string; vapid?: ReceivedVapid; plaintext?: string;
    } {
        const json = (status: number, o: unknown, extra: Record<string, string> = {}) => {
            if (status >= 300) {
                this.counters.rejected++;
            }
            return { status, headers: { 'content-type': 'application/json', ...extra }, body: JSON.stringify(o) };
        };
        const sub = this.subscriptions.get(id);
        if (req.method !== 'POST' || !sub) {
            return json(404, { code: 404, errno: 102, error: 'Not Found', message: 'Request did not validate invalid URL endpoint' });
        }
        const vapid = this.readVapid(req.headers.authorization);
        if (!vapid) {
            this.counters.vapidFailures++;
            return { ...json(401, { code: 401, errno: 109, error: 'Unauthorized', message: 'missing VAPID authorization' }) };
        }
        const problem = this.vapidProblem(vapid, sub, now);
        if (problem) {
            this.counters.vapidFailures++;
            return { ...json(problem.status, { reason: problem.reason }), vapid };
        }
        const ttl = String(req.headers.ttl ?? '');
        if (!/^\d+$/.test(ttl)) {
            return { ...json(400, { code: 400, errno: 111, message: 'Missing TTL header' }), vapid };
        }
        if (req.headers['content-encoding'] !== 'aes128gcm') {
            return { ...json(400, { code: 400, errno: 110, message: 'unsupported Content-Encoding' }), vapid };
        }
        const topic = req.headers.topic;
        if (topic !== undefined && !TOPIC.test(String(topic))) {
            return { ...json(400, { code: 400, errno: 113, message: 'Topic must be at most 32 base64url characters' }), vapid };
        }
        const urgency = req.headers.urgency;
        if (urgency !== undefined && !URGENCIES.has(String(urgency))) {
            return { ...json(400, { code: 400, errno: 111, message: 'bad Urgency' }), vapid };
        }
        if (body.length > 4096) {
            return { ...json(413, { code: 413, errno: 104, message: 'Payload too large' }), vapid };
        }
        let plaintext: string;
        try {
            plaintext = ece.decrypt(body, { version: 'aes128gcm', privateKey: sub.ecdh, authSecret: sub.auth }).toString('utf8');
        } catch {
            this.counters.decryptFailures++;
            return { ...json(400, { code: 400, errno: 110, message: 'could not decrypt the message (aes128gcm)' }), vapid };
        }
        const misbehaves = (prefix: string): boolean => id.startsWith(prefix) &&
            !(healed && (TRANSIENT_PREFIXES as readonly string[]).includes(prefix));
        const retryAfter = (): Record<string, string> => {
            const { header, notBefore } = retryAfterValue(this.behaviour.retryAfterSeconds, this.behaviour.retryAfterForm ?? 'seconds', now);
            this.retryAfters.push({ token: id, at: now, notBefore, header });
            return { 'retry-after': header };
        };
        const withV = <T>(o: T) => ({ ...o, vapid, plaintext });
        if (misbehaves('gone-') || misbehaves('dead-')) {
            return withV(json(410, { code: 410, errno: 106, error: 'Gone', message: 'push subscription has unsubscribed or expired.' }));
        }
        if (misbehaves('notfound-')) {
            return withV(json(404, { code: 404, errno: 102, error: 'Not Found', message: 'Subscription not found' }));
        }
        if (misbehaves('transient-')) {
            return withV(json(503, { code: 503, errno: 202, error: 'Service Unavailable' }, retryAfter()));
        }
        if (misbehaves('ratelimit-')) {
            return withV(json(429, { code: 429, errno: 999, error: 'Too Many Requests' }, retryAfter()));
        }
        if (misbehaves('internal-')) {
            return withV(json(500, { code: 500, errno: 999, error: 'Internal Server Error' }));
        }
        if (misbehaves('bad-')) {
            return withV(json(400, { code: 400, errno: 111, error: 'Bad Request', message: 'Invalid request' }));
        }
        if (misbehaves('auth-')) {
            return withV(json(403, { reason: 'BadJwtToken' }));
        }
        if (misbehaves('toolarge-')) {
            return withV(json(413, { code: 413, errno: 104, message: 'Payload too large' }));
        }
        if (misbehaves('redirect-')) {
            return withV(json(307, {}, { location: `${this.origin}/push/elsewhere` }));
        }
        if (misbehaves('reset-')) {
            this.counters.rejected++;
            return withV({ status: 0, headers: {}, body: '' });
        }
        this.counters.delivered++;
        return withV({ status: 201, headers: { location: `${this.origin}/m/${randomUUID()}`, ttl }, body: '' });
    }

    /** Parses `vapid t=<jwt>, k=<key>` (RFC 8292 §3) and verifies the ES256 signature against k=. */
    private readVapid(authorization: string | undefined): ReceivedVapid | undefined {
        if (!authorization || !/^vapid /i.test(authorization)) {
            return undefined;
        }
        const known = this.verified.get(authorization);
        if (known) {
            return known;
        }
        const v = this.verifyVapid(authorization);
        if (v && this.verified.size < 10_000) {
            this.verified.set(authorization, v);
        }
        return v;
    }

    private verifyVapid(authorization: string): ReceivedVapid | undefined {
        const params = new Map<string, string>();
        for (const part of authorization.slice(6).split(',')) {
            const i = part.indexOf('=');
            if (i > 0) {
                params.set(part.slice(0, i).trim().toLowerCase(), part.slice(i + 1).trim());
            }
        }
        const jwt = params.get('t');
        const k = params.get('k');
        if (!jwt || !k) {
            return undefined;
        }
        const parts = jwt.split('.');
        let claims: { aud?: unknown; exp?: unknown; sub?: unknown } = {};
        let signatureValid = false;
        try {
            const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString()) as { alg?: string };
            claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString()) as typeof claims;
            const point = Buffer.from(k, 'base64url');
            const key = createPublicKey({
                key: { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33, 65).toString('base64url') },
                format: 'jwk'
            });
            signatureValid = parts.length === 3 && header.alg === 'ES256' && point.length === 65 &&
                verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(parts[2], 'base64url'));
        } catch {
            signatureValid = false;
        }
        return { jwt, k, aud: claims.aud, exp: claims.exp, sub: claims.sub, signatureValid };
    }

    private vapidProblem(v: ReceivedVapid, sub: SubscriptionKeys, now: number): { status: number; reason: string } | undefined {
        const nowS = now / 1000;
        if (!v.signatureValid) {
            return { status: 403, reason: 'BadJwtToken' };
        }
        if (v.aud !== this.origin) {
            return { status: 403, reason: 'BadJwtToken' };
        }
        if (typeof v.exp !== 'number' || v.exp <= nowS || v.exp > nowS + 24 * 3600) {
            return { status: 403, reason: 'BadJwtToken' };
        }
        if (typeof v.sub !== 'string' || !/^(mailto:|https:)/.test(v.sub)) {
            return { status: 403, reason: 'BadJwtToken' };
        }
        if (sub.applicationServerKey !== undefined && v.k !== sub.applicationServerKey) {
            return { status: 403, reason: 'VapidPkHashMismatch' };
        }
        const first = this.jwtFirstSeen.get(v.jwt) ?? now;
        this.jwtFirstSeen.set(v.jwt, first);
        if (this.behaviour.expireVapidAfterSeconds !== undefined && now - first > this.behaviour.expireVapidAfterSeconds * 1000) {
            return { status: 401, reason: 'ExpiredJwtToken' };
        }
        return undefined;
    }
}
