import { createPublicKey, createVerify, KeyObject, randomUUID } from 'node:crypto';
import * as http2 from 'node:http2';
import { AddressInfo } from 'node:net';
import { restartServer } from './restart';
import { FakeTls } from './tls';

/**
 * A fake APNs: an HTTP/2 TLS server speaking the provider API (POST /3/device/<token>), so
 * the real node-apn client can be tested, benchmarked and run in dev mode against it.
 *
 * Token-prefix behaviours (decided per device token). Real device tokens are hex, so a token
 * whose hex decodes to printable ASCII (trailing zero bytes dropped) is judged by that label:
 * `apnsToken('dead-1')` behaves as `dead-1`. Raw (non-hex) labels still work for old tests,
 * but are counted in `counters.nonHexPaths`: the real client must never send one.
 * - `dead-…`       → 410 {"reason":"Unregistered"}
 * - `expired-…`    → 410 {"reason":"ExpiredToken"}
 * - `bad-…`        → 400 {"reason":"BadDeviceToken"}
 * - `topic-…`      → 400 {"reason":"DeviceTokenNotForTopic"}
 * - `transient-…`  → 503 {"reason":"ServiceUnavailable"} with `retry-after: <retryAfterSeconds>`
 * - `ratelimit-…`  → 429 {"reason":"TooManyRequests"}
 * - `internal-…`   → 500 {"reason":"InternalServerError"}
 * - `auth-…`       → 403 {"reason":"InvalidProviderToken"}
 * - `slow-…`       → answers 200 after `slowMs`
 * - `reset-…`      → the stream is reset without an answer (no status)
 * - only zero bytes (`'0'.repeat(64)`, a token APNs never issues: `npm run check` sends it)
 *                  → 400 {"reason":"BadDeviceToken"}
 * - `hang-…`       → never answered: the stream stays open until the client gives up (or the
 *                    session goes; counted in `counters.hung`)
 * - anything else  → 200 with an apns-id
 * Independent of tokens: a wrong or missing provider JWT → 403 InvalidProviderToken /
 * MissingProviderToken; a JWT older than `behaviour.jwtMaxAgeSeconds` (default 3600, Apple's
 * hour) or one of the first `behaviour.refuseJwts` distinct JWTs seen → 403
 * ExpiredProviderToken (a stale provider token); a missing apns-topic → 400 MissingTopic; a topic not in
 * `allowedTopics` (when set) → 400 DeviceTokenNotForTopic.
 * Credential scope, as Apple checks it before the device token (`npm run check` reads these):
 * `behaviour.keyEnvironment` restricts the signing key to one environment, and a request to
 * the other → 403 BadEnvironmentKeyInToken (the request's environment is its `:authority`,
 * api.push.apple.com or api.sandbox.push.apple.com, as through the proxy; else
 * `behaviour.environment`, what a directly addressed fake stands for; unknown: not checked);
 * `behaviour.teamTopics` are the topics the key's team may push to, and any other topic →
 * 400 TopicDisallowed.
 * Switches: `behaviour.delayMs` delays every answer; `goawayAfter` sends GOAWAY after that
 * many requests; `goaway()` and `destroySessions()` act at once.
 * Fault-injection switches (test/faults): `retryAfterForm` sends Retry-After on 503 AND 429
 * as delta-seconds or as an HTTP-date (unset: seconds, on 503 only, as before);
 * `failuresPerToken` makes the transient kinds (transient-, ratelimit-, internal-, reset-,
 * slow-) misbehave only for a token's first N requests and then answer 200, so "retried,
 * then delivered" can be shown; `restart()` closes and re-listens on the same port.
 * Every Retry-After sent is recorded in `retryAfters` (when the client may come back).
 */
/**
 * A valid-looking APNs device token (hex) that the fake judges by `label`: the hex of the
 * label's bytes, padded with zero bytes to 32 bytes (64 hex digits). Labels longer than 32
 * bytes give a longer token (up to 100 bytes is still a valid token).
 */
export function apnsToken(label: string): string {
    const hex = Buffer.from(label, 'utf8').toString('hex');
    return hex.length >= 64 ? hex : hex + '0'.repeat(64 - hex.length);
}

/** The label a token stands for: its hex decoded when that is printable ASCII, else the token itself. */
export function apnsTokenLabel(token: string): string {
    if (token.length % 2 !== 0 || !/^[0-9a-f]+$/i.test(token)) {
        return token;
    }
    const text = Buffer.from(token, 'hex').toString('latin1').replace(/\0+$/, '');
    return /^[\x20-\x7e]+$/.test(text) ? text : token;
}

export interface FakeApnsOptions {
    readonly tls: FakeTls;
    /** The public half of the .p8 key the client signs with (PEM); JWTs are checked against it. */
    readonly publicKey: string;
    readonly keyId: string;
    readonly teamId: string;
    readonly allowedTopics?: readonly string[];
    readonly port?: number;
    readonly host?: string;
}

export interface ReceivedNotification {
    readonly token: string;
    readonly headers: http2.IncomingHttpHeaders;
    readonly body: unknown;
    /** The body exactly as sent (tests pin the bytes). */
    readonly rawBody: string;
    /** What the token stands for (apnsTokenLabel): the token itself unless it is hex of ASCII. */
    readonly label: string;
    /** Which HTTP/2 session (connection) carried it: 1, 2, ... */
    readonly session: number;
    /** Epoch ms the request ended (fault tests check retry timing against Retry-After). */
    readonly at: number;
}

/** A Retry-After the fake sent: the token, when, and the earliest time it allowed a retry. */
export interface SentRetryAfter {
    readonly token: string;
    readonly at: number;
    readonly notBefore: number;
    readonly header: string;
}

/** Prefixes whose misbehaviour `failuresPerToken` limits (the ones a retry can get past). */
export const TRANSIENT_PREFIXES = ['transient-', 'ratelimit-', 'internal-', 'reset-', 'slow-', 'gateway-', 'html-'] as const;

/**
 * The Retry-After header value for `seconds` from `now`, in the form asked for. An HTTP-date
 * has 1-second resolution: it is rounded UP to the next whole second, so the date never
 * allows a retry earlier than `seconds` from now.
 */
export function retryAfterValue(seconds: number, form: 'seconds' | 'http-date', now = Date.now()): { header: string; notBefore: number } {
    if (form === 'seconds') {
        return { header: String(seconds), notBefore: now + seconds * 1000 };
    }
    const at = Math.ceil((now + seconds * 1000) / 1000) * 1000;
    return { header: new Date(at).toUTCString(), notBefore: at };
}

export interface FakeApnsBehaviour {
    delayMs: number;
    slowMs: number;
    retryAfterSeconds: number;
    /** Send GOAWAY on the session after this many requests in total (once), if set. */
    goawayAfter?: number;
    /** Set: Retry-After on 503 and 429 in this form. Unset: delta-seconds on 503 only. */
    retryAfterForm?: 'seconds' | 'http-date';
    /** Set: transient-kind prefixes misbehave only for a token's first N requests. */
    failuresPerToken?: number;
    /** A provider JWT whose `iat` is older than this many seconds is ExpiredProviderToken. */
    jwtMaxAgeSeconds: number;
    /** The first N distinct provider JWTs seen are refused as ExpiredProviderToken (Infinity: all). */
    refuseJwts: number;
    /** Set: the signing key is restricted to this environment; a request to the other → 403 BadEnvironmentKeyInToken. */
    keyEnvironment?: ApnsEnvironment;
    /** The environment this fake stands for when a request's :authority is not one of Apple's hosts (direct mode). */
    environment?: ApnsEnvironment;
    /** Set: the topics the key's team may push to; any other topic → 400 TopicDisallowed. */
    teamTopics?: readonly string[];
}

export type ApnsEnvironment = 'sandbox' | 'production';

/** Apple's hosts and the environment each serves. */
const APPLE_HOSTS: Readonly<Record<string, ApnsEnvironment>> = { 'api.push.apple.com': 'production', 'api.sandbox.push.apple.com': 'sandbox' };

export class FakeApnsServer {
    readonly received: ReceivedNotification[] = [];
    readonly counters = { requests: 0, delivered: 0, rejected: 0, sessions: 0, jwtFailures: 0, jwtExpired: 0, nonHexPaths: 0, hung: 0 };
    readonly behaviour: FakeApnsBehaviour = { delayMs: 0, slowMs: 2000, retryAfterSeconds: 7, jwtMaxAgeSeconds: 3600, refuseJwts: 0 };
    /** Distinct provider JWTs seen, in order (refuseJwts counts them). */
    readonly jwtsSeen: string[] = [];
    /** Every Retry-After sent (fault tests). */
    readonly retryAfters: SentRetryAfter[] = [];
    /** When false, `received` is not filled (benchmarks): only the counters move. */
    record = true;
    private readonly server: http2.Http2SecureServer;
    private readonly requestsPerToken = new Map<string, number>();
    private readonly sessions = new Set<http2.ServerHttp2Session>();
    private readonly publicKey: KeyObject;
    private goawaySent = false;

    private constructor(private readonly options: FakeApnsOptions) {
        this.publicKey = createPublicKey(options.publicKey);
        this.server = http2.createSecureServer({ cert: options.tls.cert, key: options.tls.key, allowHTTP1: false });
        this.server.on('session', (session) => {
            this.counters.sessions++;
            (session as unknown as { fakeId: number }).fakeId = this.counters.sessions;
            this.sessions.add(session);
            session.on('close', () => this.sessions.delete(session));
            session.on('error', () => undefined);
        });
        this.server.on('stream', (stream, headers) => this.onStream(stream, headers));
    }

    static async start(options: FakeApnsOptions): Promise<FakeApnsServer> {
        const fake = new FakeApnsServer(options);
        await new Promise<void>((resolve) => fake.server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
        return fake;
    }

    get port(): number {
        return (this.server.address() as AddressInfo).port;
    }

    /** Sends GOAWAY on every open session (as Apple does before maintenance). */
    goaway(): void {
        for (const s of this.sessions) {
            s.goaway(http2.constants.NGHTTP2_NO_ERROR);
        }
    }

    /** Kills every connection at once (connection loss); server.close() alone would keep them. */
    destroySessions(): void {
        for (const s of this.sessions) {
            s.destroy();
        }
    }

    /**
     * Goes away and comes back on the same port, as a provider endpoint restarting would:
     * every connection is destroyed, the port refuses connections for `downMs`, then the
     * fake listens again (state, counters and logs are kept).
     */
    async restart(downMs = 0): Promise<void> {
        await restartServer(this.server, this.port, this.options.host ?? '127.0.0.1', () => this.destroySessions(), downMs);
    }

    /** Requests seen for a token (all of them, answered or not). */
    requestsFor(token: string): number {
        return this.requestsPerToken.get(token) ?? 0;
    }

    reset(): void {
        this.received.length = 0;
        this.retryAfters.length = 0;
        this.jwtsSeen.length = 0;
        this.requestsPerToken.clear();
        for (const k of Object.keys(this.counters) as (keyof FakeApnsServer['counters'])[]) {
            this.counters[k] = 0;
        }
        this.goawaySent = false;
    }

    async close(): Promise<void> {
        this.destroySessions();
        await new Promise<void>((resolve) => this.server.close(() => resolve()));
    }

    private onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('error', () => undefined);
        stream.on('end', () => {
            this.counters.requests++;
            const sessionId = (stream.session as unknown as { fakeId?: number } | undefined)?.fakeId ?? 0;
            const path = String(headers[':path']);
            const m = /^\/3\/device\/([^/?]+)$/.exec(path);
            let body: unknown;
            const rawBody = Buffer.concat(chunks).toString('utf8');
            try {
                body = JSON.parse(rawBody);
            } catch {
                body = undefined;
            }
            const token = m ? decodeURIComponent(m[1]) : '';
            const label = apnsTokenLabel(token);
            if (m && !/^[0-9a-f]+$/.test(token)) {
                this.counters.nonHexPaths++;
            }
            const seen = (this.requestsPerToken.get(token) ?? 0) + 1;
            this.requestsPerToken.set(token, seen);
            const healed = this.behaviour.failuresPerToken !== undefined && seen > this.behaviour.failuresPerToken;
            if (this.record) {
                this.received.push({ token, label, headers, body, rawBody, session: sessionId, at: Date.now() });
            }
            const answer = () => this.answer(stream, headers, label, m !== null && headers[':method'] === 'POST', body, healed);
            const delay = this.behaviour.delayMs + (label.startsWith('slow-') && !healed ? this.behaviour.slowMs : 0);
            if (delay > 0) {
                setTimeout(answer, delay);
            } else {
                answer();
            }
            if (this.behaviour.goawayAfter !== undefined && !this.goawaySent && this.counters.requests >= this.behaviour.goawayAfter) {
                this.goawaySent = true;
                // Let this answer go out first, then tell the client to go away.
                setImmediate(() => stream.session?.goaway(http2.constants.NGHTTP2_NO_ERROR));
            }
        });
    }

    /** `token` is the label (apnsTokenLabel) the behaviours are decided by. */
    private answer(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, token: string,
        validPath: boolean, body: unknown, healed = false): void {
        if (stream.destroyed || stream.closed) {
            return;
        }
        if (!validPath) {
            return this.fail(stream, 404, 'BadPath');
        }
        const jwtProblem = this.checkJwt(headers.authorization);
        if (jwtProblem) {
            this.counters.jwtFailures++;
            return this.fail(stream, 403, jwtProblem);
        }
        const authority = String(headers[':authority'] ?? '').replace(/:\d+$/, '');
        const environment = APPLE_HOSTS[authority] ?? this.behaviour.environment;
        if (this.behaviour.keyEnvironment && environment && environment !== this.behaviour.keyEnvironment) {
            return this.fail(stream, 403, 'BadEnvironmentKeyInToken');
        }
        const topic = headers['apns-topic'];
        if (!topic) {
            return this.fail(stream, 400, 'MissingTopic');
        }
        if (this.behaviour.teamTopics && !this.behaviour.teamTopics.includes(String(topic))) {
            return this.fail(stream, 400, 'TopicDisallowed');
        }
        if (this.options.allowedTopics && !this.options.allowedTopics.includes(String(topic))) {
            return this.fail(stream, 400, 'DeviceTokenNotForTopic');
        }
        if (body === undefined || typeof body !== 'object') {
            return this.fail(stream, 400, 'BadPayload');
        }
        if (/^(00)+$/.test(token)) {
            return this.fail(stream, 400, 'BadDeviceToken');
        }
        const prefixed: [string, number, string][] = [
            ['dead-', 410, 'Unregistered'], ['expired-', 410, 'ExpiredToken'], ['bad-', 400, 'BadDeviceToken'],
            ['topic-', 400, 'DeviceTokenNotForTopic'], ['transient-', 503, 'ServiceUnavailable'],
            ['ratelimit-', 429, 'TooManyRequests'], ['internal-', 500, 'InternalServerError'],
            ['auth-', 403, 'InvalidProviderToken']
        ];
        const misbehaves = (prefix: string): boolean => token.startsWith(prefix) &&
            !(healed && (TRANSIENT_PREFIXES as readonly string[]).includes(prefix));
        if (token.startsWith('hang-')) {
            this.counters.hung++;
            return; // never answered (not a transient kind: failuresPerToken does not heal it)
        }
        if (misbehaves('reset-')) {
            this.counters.rejected++;
            stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
            return;
        }
        for (const [prefix, status, reason] of prefixed) {
            if (misbehaves(prefix)) {
                return this.fail(stream, status, reason, this.retryAfterHeader(token, status));
            }
        }
        this.counters.delivered++;
        stream.respond({ ':status': 200, 'apns-id': String(headers['apns-id'] ?? randomUUID()) });
        stream.end();
    }

    /** Retry-After for a failing answer, as `behaviour` says; recorded in `retryAfters`. */
    private retryAfterHeader(token: string, status: number): Record<string, string> {
        const form = this.behaviour.retryAfterForm;
        if (!(status === 503 || (status === 429 && form !== undefined))) {
            return {};
        }
        const now = Date.now();
        const { header, notBefore } = retryAfterValue(this.behaviour.retryAfterSeconds, form ?? 'seconds', now);
        this.retryAfters.push({ token, at: now, notBefore, header });
        return { 'retry-after': header };
    }

    private fail(stream: http2.ServerHttp2Stream, status: number, reason: string, extra: Record<string, string> = {}): void {
        this.counters.rejected++;
        stream.respond({ ':status': status, 'content-type': 'application/json', 'apns-id': randomUUID(), ...extra });
        stream.end(JSON.stringify(status === 410 ? { reason, timestamp: Date.now() } : { reason }));
    }

    /** Checks the ES256 provider token: header kid, claims iss/iat, signature. */
    private checkJwt(authorization: string | undefined): string | undefined {
        if (!authorization) {
            return 'MissingProviderToken';
        }
        const m = /^bearer (.+)$/i.exec(authorization);
        const parts = m ? m[1].split('.') : [];
        if (parts.length !== 3) {
            return 'InvalidProviderToken';
        }
        try {
            const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString()) as { alg?: string; kid?: string };
            const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString()) as { iss?: string; iat?: number };
            if (header.alg !== 'ES256' || header.kid !== this.options.keyId || claims.iss !== this.options.teamId) {
                return 'InvalidProviderToken';
            }
            const ok = createVerify('SHA256').update(`${parts[0]}.${parts[1]}`)
                .verify({ key: this.publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(parts[2], 'base64url'));
            if (!ok) {
                return 'InvalidProviderToken';
            }
            let nth = this.jwtsSeen.indexOf(m![1]);
            if (nth < 0) {
                nth = this.jwtsSeen.push(m![1]) - 1;
            }
            if (typeof claims.iat !== 'number' || claims.iat < Date.now() / 1000 - this.behaviour.jwtMaxAgeSeconds || nth < this.behaviour.refuseJwts) {
                this.counters.jwtExpired++;
                return 'ExpiredProviderToken';
            }
            return undefined;
        } catch {
            return 'InvalidProviderToken';
        }
    }
}
