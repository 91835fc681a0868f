import { createPublicKey, createVerify, KeyObject, randomBytes } from 'node:crypto';
import * as https from 'node:https';
import * as http from 'node:http';
import { AddressInfo, Socket } from 'node:net';
import { retryAfterValue, SentRetryAfter, TRANSIENT_PREFIXES } from './apns-server';
import { restartServer } from './restart';
import { FakeTls } from './tls';

/**
 * A fake FCM HTTP v1 endpoint plus Google's OAuth token endpoint, on one HTTPS (HTTP/1.1)
 * server, so our FCM client (src/providers/fcm) can be tested, benchmarked and run in dev
 * mode against it. Error bodies have the shapes FCM documents ("FCM error codes": an
 * `error` with code, message, status and `details`: a google.firebase.fcm.v1.FcmError
 * `errorCode`, or a google.rpc.BadRequest `fieldViolations` for a bad payload).
 *
 * - POST /token: the JWT-bearer exchange (grant_type urn:ietf:params:oauth:grant-type:jwt-bearer).
 *   The assertion must be RS256-signed by the service account (`publicKey`), with
 *   iss = `clientEmail`, aud = `tokenUri` (when set), the firebase.messaging scope, and an
 *   unexpired exp at most an hour after iat. Else 400 {"error":"invalid_grant"}.
 * - POST /v1/projects/<projectId>/messages:send: needs `Authorization: Bearer <a token this
 *   fake issued>` (else 401 UNAUTHENTICATED, no FcmError detail, as Google answers a stale
 *   or revoked access token) and the right project (else 403 SENDER_ID_MISMATCH).
 *
 * Token-prefix behaviours (the message's `token`):
 * - `dead-…`        → 404 NOT_FOUND, errorCode UNREGISTERED
 * - `invalid-…`     → 400 INVALID_ARGUMENT "The registration token is not a valid FCM registration token"
 * - `badpayload-…`  → 400 INVALID_ARGUMENT about the payload (a BadRequest field violation on message.android.ttl)
 * - `transient-…`   → 503 UNAVAILABLE with `retry-after: <retryAfterSeconds>`
 * - `ratelimit-…`   → 429 QUOTA_EXCEEDED with `retry-after: <retryAfterSeconds>`
 * - `internal-…`    → 500 INTERNAL
 * - `auth-…`        → 401 THIRD_PARTY_AUTH_ERROR
 * - `sender-…`      → 403 SENDER_ID_MISMATCH
 * - `permission-…`  → 403 PERMISSION_DENIED without an FcmError detail (the account lacks the IAM permission)
 * - `notfound-…`    → 404 NOT_FOUND without an FcmError detail (not UNREGISTERED: never a dead token)
 * - `gateway-…`     → 502 with an error JSON FCM does not name (a 5xx of unknown status)
 * - `teapot-…`      → 418 with an unnamed error JSON (a 4xx of unknown status)
 * - `html-…`        → 502 text/html (a proxy's error page)
 * - `reset-…`       → the connection is destroyed without an answer
 * - `slow-…`        → 200 after `slowMs`
 * - `hang-…`        → never answered (the request stays open until the client gives up)
 * - anything else   → 200 {"name": "projects/<id>/messages/<n>"}
 * A `message.data` value that is not a string → 400 INVALID_ARGUMENT with a BadRequest field
 * violation on message.data[0].value, as FCM answers it.
 * Switches in `behaviour`: delayMs (every answer), slowMs, retryAfterSeconds, oauthStatus
 * (force the token endpoint to answer that status), refuseAccessTokens (every send answered
 * 401 UNAUTHENTICATED, even with a fresh token). `inFlightSends` / `counters.maxInFlightSends`
 * count send requests received and not yet answered. Every request body is kept raw in
 * `received[].rawBody` (wire-format pinning).
 * Fault-injection switches (test/faults): `retryAfterForm` ('seconds', the default, or
 * 'http-date'); `failuresPerToken` makes the transient kinds (transient-, ratelimit-,
 * internal-, reset-, slow-, gateway-, html-) misbehave only for a token's first N requests,
 * then answer 200; `restart()` closes and re-listens on the same port; `dropConnections()`
 * destroys every open socket (requests in flight included). Every Retry-After sent is
 * recorded in `retryAfters`; every accepted OAuth assertion (raw JWT) in `rawAssertions`.
 */
export interface FakeFcmOptions {
    readonly tls: FakeTls;
    readonly projectId: string;
    /** The service account's public key (PEM) and email, to check the OAuth assertion. */
    readonly publicKey: string;
    readonly clientEmail: string;
    /** Expected `aud` of the assertion; unchecked when unset. */
    readonly tokenUri?: string;
    readonly port?: number;
    readonly host?: string;
}

export interface ReceivedFcmMessage {
    readonly token: string;
    readonly message: Record<string, any>;
    readonly validateOnly: boolean;
    /** The request body exactly as received (wire-format pinning). */
    readonly rawBody: string;
    readonly headers: http.IncomingHttpHeaders;
    /** Epoch ms the request arrived. */
    readonly at: number;
}

export interface FakeFcmBehaviour {
    delayMs: number;
    slowMs: number;
    retryAfterSeconds: number;
    oauthStatus?: number;
    /** Form of Retry-After on 503 and 429 (default delta-seconds). */
    retryAfterForm?: 'seconds' | 'http-date';
    /** Set: transient-kind prefixes misbehave only for a token's first N requests. */
    failuresPerToken?: number;
    /** Answer every send 401 UNAUTHENTICATED, whatever access token it carries. */
    refuseAccessTokens?: boolean;
}

const FCM_ERROR_TYPE = 'type.googleapis.com/google.firebase.fcm.v1.FcmError';

export class FakeFcmServer {
    readonly received: ReceivedFcmMessage[] = [];
    readonly counters = {
        sends: 0, delivered: 0, rejected: 0, validateOnly: 0, oauthExchanges: 0, oauthRejected: 0, connections: 0,
        /** The most send requests open at once since the last reset. */
        maxInFlightSends: 0
    };
    /** Send requests received and not answered yet (hang- ones included). */
    inFlightSends = 0;
    readonly behaviour: FakeFcmBehaviour = { delayMs: 0, slowMs: 2000, retryAfterSeconds: 7 };
    /** Assertions (decoded claims) of every accepted exchange. */
    readonly assertions: Record<string, unknown>[] = [];
    /** The raw assertions (signed JWTs) of every accepted exchange (leak scans). */
    readonly rawAssertions: string[] = [];
    /** Every access token issued (leak scans). */
    readonly issuedAccessTokens: string[] = [];
    /** Every Retry-After sent (fault tests). */
    readonly retryAfters: SentRetryAfter[] = [];
    /** When false, `received` is not filled (benchmarks): only the counters move. */
    record = true;
    /** Required `aud` of OAuth assertions (from options.tokenUri; settable once the port is known). */
    expectedAudience?: string;
    private readonly server: https.Server;
    private readonly accessTokens = new Set<string>();
    private readonly sockets = new Set<Socket>();
    private readonly publicKey: KeyObject;
    private readonly requestsPerToken = new Map<string, number>();

    private constructor(private readonly options: FakeFcmOptions) {
        this.publicKey = createPublicKey(options.publicKey);
        this.expectedAudience = options.tokenUri;
        this.server = https.createServer({ cert: options.tls.cert, key: options.tls.key, keepAliveTimeout: 60_000 },
            (req, res) => this.onRequest(req, res));
        this.server.on('secureConnection', (socket: Socket) => {
            this.counters.connections++;
            this.sockets.add(socket);
            socket.on('close', () => this.sockets.delete(socket));
        });
    }

    static async start(options: FakeFcmOptions): Promise<FakeFcmServer> {
        const fake = new FakeFcmServer(options);
        await new Promise<void>((resolve) => fake.server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
        return fake;
    }

    get port(): number {
        return (this.server.address() as AddressInfo).port;
    }

    get url(): string {
        return `https://127.0.0.1:${this.port}`;
    }

    /** Issues an access token directly (for clients that skip the OAuth exchange). */
    issueAccessToken(): string {
        const token = `ya29.fake-${randomBytes(12).toString('hex')}`;
        this.accessTokens.add(token);
        this.issuedAccessTokens.push(token);
        return token;
    }

    /** Requests seen for a device token. */
    requestsFor(token: string): number {
        return this.requestsPerToken.get(token) ?? 0;
    }

    /** Destroys every open connection at once, answers in flight included (connection loss). */
    dropConnections(): void {
        for (const s of this.sockets) {
            s.destroy();
        }
    }

    /**
     * Goes away and comes back on the same port: every connection is destroyed, the port
     * refuses connections for `downMs`, then the fake listens again. Issued access tokens,
     * counters and logs are kept (Google's tokens outlive a frontend restart too).
     */
    async restart(downMs = 0): Promise<void> {
        await restartServer(this.server, this.port, this.options.host ?? '127.0.0.1', () => this.dropConnections(), downMs);
    }

    /** Forgets every issued access token (as if they all expired). */
    revokeAccessTokens(): void {
        this.accessTokens.clear();
    }

    reset(): void {
        this.received.length = 0;
        this.assertions.length = 0;
        this.rawAssertions.length = 0;
        this.retryAfters.length = 0;
        this.requestsPerToken.clear();
        for (const k of Object.keys(this.counters) as (keyof FakeFcmServer['counters'])[]) {
            this.counters[k] = 0;
        }
    }

    async close(): Promise<void> {
        for (const s of this.sockets) {
            s.destroy();
        }
        await new Promise<void>((resolve) => this.server.close(() => resolve()));
    }

    private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
            const body = Buffer.concat(chunks).toString('utf8');
            const url = new URL(req.url ?? '/', 'https://fake');
            if (req.method === 'POST' && url.pathname === '/token') {
                return this.onToken(body, res);
            }
            const m = /^\/v1\/projects\/([^/]+)\/messages:send$/.exec(url.pathname);
            if (req.method === 'POST' && m) {
                return this.onSend(m[1], req, body, res);
            }
            json(res, 404, { error: { code: 404, message: 'Not found', status: 'NOT_FOUND' } });
        });
    }

    private onToken(body: string, res: http.ServerResponse): void {
        this.counters.oauthExchanges++;
        if (this.behaviour.oauthStatus) {
            this.counters.oauthRejected++;
            return json(res, this.behaviour.oauthStatus, { error: 'forced', error_description: 'forced by the test' });
        }
        const form = new URLSearchParams(body);
        const problem = form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer'
            ? 'unsupported_grant_type' : this.checkAssertion(form.get('assertion') ?? '');
        if (problem) {
            this.counters.oauthRejected++;
            return json(res, 400, { error: 'invalid_grant', error_description: problem });
        }
        json(res, 200, { access_token: this.issueAccessToken(), expires_in: 3599, token_type: 'Bearer' });
    }

    private checkAssertion(assertion: string): string | undefined {
        const parts = assertion.split('.');
        if (parts.length !== 3) {
            return 'malformed assertion';
        }
        try {
            const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString()) as { alg?: string };
            const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString()) as Record<string, unknown>;
            if (header.alg !== 'RS256') {
                return 'alg must be RS256';
            }
            const ok = createVerify('RSA-SHA256').update(`${parts[0]}.${parts[1]}`).verify(this.publicKey, Buffer.from(parts[2], 'base64url'));
            if (!ok) {
                return 'Invalid JWT Signature.';
            }
            const now = Date.now() / 1000;
            if (claims.iss !== this.options.clientEmail) {
                return 'wrong iss';
            }
            if (this.expectedAudience && claims.aud !== this.expectedAudience) {
                return `wrong aud ${String(claims.aud)}`;
            }
            if (typeof claims.scope !== 'string' || !claims.scope.split(' ').includes('https://www.googleapis.com/auth/firebase.messaging')) {
                return 'scope lacks firebase.messaging';
            }
            if (typeof claims.exp !== 'number' || typeof claims.iat !== 'number' || claims.exp < now || claims.exp - claims.iat > 3600) {
                return 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.';
            }
            this.assertions.push(claims);
            this.rawAssertions.push(assertion);
            return undefined;
        } catch {
            return 'malformed assertion';
        }
    }

    private onSend(projectId: string, req: http.IncomingMessage, body: string, res: http.ServerResponse): void {
        this.counters.sends++;
        this.inFlightSends++;
        this.counters.maxInFlightSends = Math.max(this.counters.maxInFlightSends, this.inFlightSends);
        res.once('close', () => this.inFlightSends--);
        const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
        if (!bearer || !this.accessTokens.has(bearer[1]) || this.behaviour.refuseAccessTokens) {
            this.counters.rejected++;
            return json(res, 401, { error: { code: 401, message: 'Request had invalid authentication credentials.', status: 'UNAUTHENTICATED' } });
        }
        if (projectId !== this.options.projectId) {
            this.counters.rejected++;
            return fcmError(res, 403, 'PERMISSION_DENIED', 'SENDER_ID_MISMATCH', 'SenderId mismatch');
        }
        let parsed: { message?: Record<string, any>; validate_only?: boolean };
        try {
            parsed = JSON.parse(body) as typeof parsed;
        } catch {
            return badRequest(res, 'Invalid JSON payload received.', '');
        }
        const message = parsed.message ?? {};
        const token = typeof message.token === 'string' ? message.token : '';
        const validateOnly = parsed.validate_only === true;
        if (validateOnly) {
            this.counters.validateOnly++;
        }
        const seen = (this.requestsPerToken.get(token) ?? 0) + 1;
        this.requestsPerToken.set(token, seen);
        const healed = this.behaviour.failuresPerToken !== undefined && seen > this.behaviour.failuresPerToken;
        if (this.record) {
            this.received.push({ token, message, validateOnly, rawBody: body, headers: req.headers, at: Date.now() });
        }
        const delay = this.behaviour.delayMs + (token.startsWith('slow-') && !healed ? this.behaviour.slowMs : 0);
        const answer = () => this.answerSend(token, message, validateOnly, req, res, healed);
        if (delay > 0) {
            setTimeout(answer, delay);
        } else {
            answer();
        }
    }

    private answerSend(token: string, message: Record<string, any>, validateOnly: boolean,
        req: http.IncomingMessage, res: http.ServerResponse, healed = false): void {
        const ra = (): Record<string, string> => {
            const now = Date.now();
            const { header, notBefore } = retryAfterValue(this.behaviour.retryAfterSeconds, this.behaviour.retryAfterForm ?? 'seconds', now);
            this.retryAfters.push({ token, at: now, notBefore, header });
            return { 'retry-after': header };
        };
        const data = message.data as Record<string, unknown> | undefined;
        if (!token) {
            return fcmError(res, 400, 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'Request contains an invalid argument.');
        }
        const badData = data ? Object.values(data).findIndex((v) => typeof v !== 'string') : -1;
        if (badData >= 0) {
            const text = `Invalid value at 'message.data[${badData}].value' (TYPE_STRING), ${JSON.stringify(Object.values(data!)[badData])}`;
            return badRequest(res, text, `message.data[${badData}].value`);
        }
        const rules: [string, () => void][] = [
            ['dead-', () => fcmError(res, 404, 'NOT_FOUND', 'UNREGISTERED', 'Requested entity was not found.')],
            ['invalid-', () => fcmError(res, 400, 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'The registration token is not a valid FCM registration token')],
            ['badpayload-', () => badRequest(res, 'Invalid value at \'message.android.ttl\' (type.googleapis.com/google.protobuf.Duration), "soon"', 'message.android.ttl')],
            ['transient-', () => fcmError(res, 503, 'UNAVAILABLE', 'UNAVAILABLE', 'The service is currently unavailable.', ra())],
            ['ratelimit-', () => fcmError(res, 429, 'RESOURCE_EXHAUSTED', 'QUOTA_EXCEEDED', 'Quota exceeded.', ra())],
            ['internal-', () => fcmError(res, 500, 'INTERNAL', 'INTERNAL', 'Internal error encountered.')],
            ['auth-', () => fcmError(res, 401, 'UNAUTHENTICATED', 'THIRD_PARTY_AUTH_ERROR', 'Auth error from APNS or Web Push Service')],
            ['sender-', () => fcmError(res, 403, 'PERMISSION_DENIED', 'SENDER_ID_MISMATCH', 'SenderId mismatch')],
            ['permission-', () => json(res, 403, { error: {
                code: 403, status: 'PERMISSION_DENIED',
                message: `Permission 'cloudmessaging.messages.create' denied on resource '//cloudresourcemanager.googleapis.com/projects/${this.options.projectId}' (or it may not exist).`,
                details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'IAM_PERMISSION_DENIED', domain: 'cloudresourcemanager.googleapis.com' }]
            } })],
            ['notfound-', () => json(res, 404, { error: { code: 404, message: 'Requested entity was not found.', status: 'NOT_FOUND' } })],
            ['hang-', () => undefined],
            ['gateway-', () => json(res, 502, { error: { code: 502, message: 'Bad gateway', status: 'BAD_GATEWAY' } })],
            ['teapot-', () => json(res, 418, { error: { code: 418, message: 'I am a teapot', status: 'TEAPOT' } })],
            ['html-', () => {
                res.writeHead(502, { 'content-type': 'text/html' });
                res.end('<html><body>502 Bad Gateway</body></html>');
            }],
            ['reset-', () => req.socket.destroy()]
        ];
        for (const [prefix, act] of rules) {
            if (token.startsWith(prefix) && !(healed && (TRANSIENT_PREFIXES as readonly string[]).includes(prefix))) {
                this.counters.rejected++;
                return act();
            }
        }
        this.counters.delivered++;
        json(res, 200, { name: `projects/${this.options.projectId}/messages/${validateOnly ? 'fake_message_id' : String(this.counters.delivered)}` });
    }
}

function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
}

/** 400 INVALID_ARGUMENT with a google.rpc.BadRequest detail naming `field` (FCM's answer to a bad payload). */
function badRequest(res: http.ServerResponse, message: string, field: string): void {
    json(res, 400, { error: { code: 400, message, status: 'INVALID_ARGUMENT', details: [{
        '@type': 'type.googleapis.com/google.rpc.BadRequest',
        fieldViolations: [{ ...(field ? { field } : {}), description: message }]
    }] } });
}

function fcmError(res: http.ServerResponse, code: number, status: string, errorCode: string, message: string,
    headers: Record<string, string> = {}): void {
    json(res, code, { error: { code, message, status, details: [{ '@type': FCM_ERROR_TYPE, errorCode }] } }, headers);
}
