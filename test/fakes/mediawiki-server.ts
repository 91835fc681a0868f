import { randomBytes } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo, Socket } from 'node:net';

/**
 * A fake MediaWiki action API on 127.0.0.1 (a real HTTP server, real cookie sessions) that
 * speaks just what the subscription cleanup uses: meta=tokens, action=login (bot passwords),
 * action=clientlogin, and action=echopushsubscriptions&command=delete. Tests, dev mode and
 * benchmarks start it with `FakeMediaWiki.start()` and point `mwapi_req.uri` at `.uri`.
 * `setStall('silent')` makes it a wiki that accepts requests and never answers them;
 * `setStall('body')` one that sends the headers and half a body, then nothing (optionally
 * only for the requests a predicate picks, e.g. only the CSRF token fetch).
 */

export interface FakeAccount {
    readonly password: string;
    /** Default ['manage-all-push-subscriptions']. Add 'apihighlimits' for 500 values. */
    readonly rights?: readonly string[];
}

export interface FakeMediaWikiOptions {
    /** username → account. Default: 'PushSubscriptionManager@cleanup' / 'bot-password-secret'. */
    readonly accounts?: Readonly<Record<string, FakeAccount>>;
    /** Subscriptions that exist at start. */
    readonly subscriptions?: Iterable<string>;
    /** Treat every token never deleted as existing (benchmarks, dev mode). Default false. */
    readonly everyTokenExists?: boolean;
    /** Artificial latency per request, in ms. */
    readonly latencyMs?: number;
}

export interface DeleteCall {
    readonly tokens: readonly string[];
    /** What the fake answered: 'ok', or the error code. */
    readonly result: string;
    readonly user?: string;
    readonly at: number;
}

export interface RecordedRequest {
    readonly method: string;
    /** Path and query string as received. */
    readonly url: string;
    readonly action: string;
    readonly params: Readonly<Record<string, string>>;
    readonly headers: IncomingMessage['headers'];
}

interface Session {
    user?: string;
    loginToken: string;
    csrfToken?: string;
}

/** How the fake misbehaves: not at all, no answer at all, or an answer that stops mid-body. */
export type StallMode = 'none' | 'silent' | 'body';

export const DEFAULT_FAKE_USER = 'PushSubscriptionManager@cleanup';
export const DEFAULT_FAKE_PASSWORD = 'bot-password-secret';
const COOKIE = 'fakewiki_session';

export class FakeMediaWiki {
    /** Every request, in order (parameters included: this is test code). */
    readonly requests: RecordedRequest[] = [];
    /** Every delete call, including refused ones. */
    readonly deleteCalls: DeleteCall[] = [];
    /** Every token actually deleted, in order; a token deleted twice appears twice. */
    readonly deletedTokens: string[] = [];
    readonly logins: Array<{ user: string; method: 'login' | 'clientlogin'; result: string }> = [];

    /** Requests received while stalled (never answered, or answered in part). */
    stalledRequests = 0;

    /** The most delete calls the fake was answering at the same time. */
    maxConcurrentDeletes = 0;
    private deletesInFlight = 0;

    private readonly sessions = new Map<string, Session>();
    private readonly subscriptions = new Set<string>();
    private readonly deleted = new Set<string>();
    private readonly accounts: Record<string, FakeAccount>;
    private outage?: { status: number; retryAfter?: string };
    private lagSeconds = 0;
    private failures: Array<{ code: string; retryAfter?: string }> = [];
    private latencyMs: number;
    private stall: StallMode = 'none';
    private stallOnly?: (action: string, params: Readonly<Record<string, string>>) => boolean;
    private readonly sockets = new Set<Socket>();

    private constructor(private readonly server: Server, private readonly options: FakeMediaWikiOptions) {
        this.accounts = { ...(options.accounts ?? { [DEFAULT_FAKE_USER]: { password: DEFAULT_FAKE_PASSWORD } }) };
        for (const t of options.subscriptions ?? []) {
            this.subscriptions.add(t);
        }
        this.latencyMs = options.latencyMs ?? 0;
    }

    static async start(options: FakeMediaWikiOptions = {}): Promise<FakeMediaWiki> {
        const server = createServer();
        const fake = new FakeMediaWiki(server, options);
        server.on('request', (req, res) => fake.handle(req, res));
        server.on('connection', (socket: Socket) => {
            fake.sockets.add(socket);
            socket.on('close', () => fake.sockets.delete(socket));
        });
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        return fake;
    }

    get uri(): string {
        return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/w/api.php`;
    }

    async close(): Promise<void> {
        this.server.closeAllConnections();
        await new Promise<void>((resolve) => this.server.close(() => resolve()));
    }

    /** Client connections open now (a client that gave up on a call must close its socket). */
    get openConnections(): number {
        return this.sockets.size;
    }

    // --- controls ---

    /**
     * From now on, requests get no answer ('silent') or a truncated one ('body'); 'none' ends
     * it. With `only`, just the requests it picks (by action and parameters) are stalled.
     */
    setStall(mode: StallMode, only?: (action: string, params: Readonly<Record<string, string>>) => boolean): void {
        this.stall = mode;
        this.stallOnly = only;
    }

    addSubscriptions(tokens: Iterable<string>): void {
        for (const t of tokens) {
            this.subscriptions.add(t);
            this.deleted.delete(t);
        }
    }

    hasSubscription(token: string): boolean {
        return this.exists(token);
    }

    /** Every request answers `status` (default 503) with an HTML page until switched off. */
    setOutage(on: boolean, opts: { status?: number; retryAfter?: string } = {}): void {
        this.outage = on ? { status: opts.status ?? 503, retryAfter: opts.retryAfter } : undefined;
    }

    /** Replica lag: writes with maxlag below it answer the `maxlag` error. */
    setLag(seconds: number): void {
        this.lagSeconds = seconds;
    }

    /** The next `count` delete calls answer the error `code` (e.g. 'ratelimited', 'maxlag'). */
    failNextDeletes(count: number, code: string, retryAfter?: string): void {
        for (let i = 0; i < count; i++) {
            this.failures.push({ code, retryAfter });
        }
    }

    setLatency(ms: number): void {
        this.latencyMs = ms;
    }

    /** Forgets every session, as a session store expiry or a wiki restart would. */
    expireSessions(): void {
        this.sessions.clear();
    }

    // --- the API ---

    private handle(req: IncomingMessage, res: ServerResponse): void {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
            if (this.stall !== 'none' && (!this.stallOnly || this.stallOnly(...this.actionOf(req, Buffer.concat(chunks).toString('utf8'))))) {
                this.stalledRequests++;
                if (this.stall === 'body') {
                    const body = JSON.stringify({ batchcomplete: true, query: { tokens: { logintoken: 'x'.repeat(64) } } });
                    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(body.length) });
                    res.write(body.slice(0, body.length >> 1));
                }
                return;
            }
            const body = Buffer.concat(chunks).toString('utf8');
            const isDelete = body.includes('action=echopushsubscriptions') || (req.url ?? '').includes('action=echopushsubscriptions');
            if (isDelete) {
                this.deletesInFlight++;
                this.maxConcurrentDeletes = Math.max(this.maxConcurrentDeletes, this.deletesInFlight);
                res.on('close', () => this.deletesInFlight--);
            }
            const respond = () => this.answer(req, res, body);
            if (this.latencyMs > 0) {
                setTimeout(respond, this.latencyMs);
            } else {
                respond();
            }
        });
    }

    private actionOf(req: IncomingMessage, body: string): [string, Record<string, string>] {
        const url = new URL(req.url ?? '/', 'http://localhost');
        const params: Record<string, string> = Object.fromEntries(url.searchParams);
        if (req.method === 'POST') {
            Object.assign(params, Object.fromEntries(new URLSearchParams(body)));
        }
        return [params.action ?? '', params];
    }

    private answer(req: IncomingMessage, res: ServerResponse, body: string): void {
        const [action, params] = this.actionOf(req, body);
        this.requests.push({ method: req.method ?? 'GET', url: req.url ?? '', action, params, headers: req.headers });

        if (this.outage) {
            const headers: Record<string, string> = { 'content-type': 'text/html' };
            if (this.outage.retryAfter) {
                headers['retry-after'] = this.outage.retryAfter;
            }
            res.writeHead(this.outage.status, headers).end('<html><body>Our servers are currently under maintenance</body></html>');
            return;
        }
        const cookieId = readCookie(req.headers.cookie, COOKIE);
        let session = cookieId ? this.sessions.get(cookieId) : undefined;
        const reply = (status: number, json: unknown, headers: Record<string, string> = {}) => {
            res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(json));
        };
        const error = (code: string, info: string, headers: Record<string, string> = {}) =>
            reply(200, { error: { code, info }, servedby: 'fake-mw' }, { 'mediawiki-api-error': code, ...headers });
        const newSession = (): Session => {
            const id = randomBytes(16).toString('hex');
            const s: Session = { loginToken: `${randomBytes(16).toString('hex')}+\\` };
            this.sessions.set(id, s);
            res.setHeader('set-cookie', [`${COOKIE}=${id}; path=/; secure; HttpOnly`]);
            return s;
        };

        if (params.format !== 'json') {
            error('badformat', 'This fake speaks format=json only.');
            return;
        }
        switch (action) {
            case 'query': {
                if (params.meta !== 'tokens') {
                    error('badvalue', 'Unsupported query.');
                    return;
                }
                session ??= newSession();
                const type = params.type ?? 'csrf';
                if (type === 'login') {
                    reply(200, { batchcomplete: true, query: { tokens: { logintoken: session.loginToken } } });
                } else if (type === 'csrf') {
                    reply(200, { batchcomplete: true, query: { tokens: { csrftoken: session.user ? session.csrfToken : '+\\' } } });
                } else {
                    error('badvalue', `Unrecognized value for parameter "type": ${type}.`);
                }
                return;
            }
            case 'login':
            case 'clientlogin': {
                if (req.method !== 'POST') {
                    error('mustbeposted', `The "${action}" module requires a POST request.`);
                    return;
                }
                const user = action === 'login' ? params.lgname : params.username;
                const password = action === 'login' ? params.lgpassword : params.password;
                const token = action === 'login' ? params.lgtoken : params.logintoken;
                if (!session || token !== session.loginToken) {
                    this.logins.push({ user, method: action, result: 'WrongToken' });
                    if (action === 'login') {
                        reply(200, { login: { result: 'WrongToken' } });
                    } else {
                        error('badtoken', 'Invalid token');
                    }
                    return;
                }
                if (action === 'clientlogin' && !params.loginreturnurl && !params.logincontinue) {
                    error('missingparam', 'One of the parameters "loginreturnurl" and "logincontinue" is required.');
                    return;
                }
                const account = this.accounts[user];
                const ok = account !== undefined && account.password === password;
                this.logins.push({ user, method: action, result: ok ? 'Success' : 'Failed' });
                if (!ok) {
                    if (action === 'login') {
                        reply(200, { login: { result: 'Failed', reason: 'Incorrect username or password entered. Please try again.' } });
                    } else {
                        reply(200, { clientlogin: { status: 'FAIL', message: 'Incorrect username or password entered.', messagecode: 'wrongpassword' } });
                    }
                    return;
                }
                // MediaWiki starts a new session on login (session fixation protection).
                if (cookieId) {
                    this.sessions.delete(cookieId);
                }
                const s = newSession();
                s.user = user;
                s.csrfToken = `${randomBytes(16).toString('hex')}+\\`;
                if (action === 'login') {
                    reply(200, { login: { result: 'Success', lguserid: 42, lgusername: user.split('@')[0] } });
                } else {
                    reply(200, { clientlogin: { status: 'PASS', username: user } });
                }
                return;
            }
            case 'echopushsubscriptions':
                this.deleteSubscriptions(req, params, session, error, reply);
                return;
            default:
                error('badvalue', `Unrecognized value for parameter "action": ${action}.`);
        }
    }

    private deleteSubscriptions(req: IncomingMessage, params: Record<string, string>, session: Session | undefined,
        error: (code: string, info: string, headers?: Record<string, string>) => void,
        reply: (status: number, json: unknown) => void): void {
        const raw = params.providertoken ?? '';
        const tokens = decodeMultiValue(raw);
        const record = (result: string) => this.deleteCalls.push({ tokens, result, user: session?.user, at: Date.now() });
        const fail = (code: string, info: string, headers?: Record<string, string>) => {
            record(code);
            error(code, info, headers);
        };
        if (params.command !== 'delete') {
            fail('badvalue', 'Only command=delete is faked.');
            return;
        }
        if (req.method !== 'POST') {
            fail('mustbeposted', 'The "echopushsubscriptions" module requires a POST request.');
            return;
        }
        if (!params.token) {
            fail('missingparam', 'The "token" parameter must be set.');
            return;
        }
        const expected = session?.user ? session.csrfToken : '+\\';
        if (params.token !== expected) {
            fail('badtoken', 'Invalid CSRF token.');
            return;
        }
        if (params.maxlag !== undefined && this.lagSeconds > Number(params.maxlag)) {
            fail('maxlag', `Waiting for a database server: ${this.lagSeconds} seconds lagged.`,
                { 'retry-after': '5', 'x-database-lag': String(this.lagSeconds) });
            return;
        }
        if (params.assert === 'user' && !session?.user) {
            fail('assertuserfailed', 'You are no longer logged in, so the action could not be completed.');
            return;
        }
        const rights = session?.user ? (this.accounts[session.user]?.rights ?? ['manage-all-push-subscriptions']) : [];
        if (!rights.includes('manage-all-push-subscriptions')) {
            fail('permissiondenied', 'You don\'t have permission to manage all push subscriptions.');
            return;
        }
        const limit = rights.includes('apihighlimits') ? 500 : 50;
        if (tokens.length > limit) {
            fail('toomanyvalues', `Too many values supplied for parameter "providertoken". The limit is ${limit}.`);
            return;
        }
        const injected = this.failures.shift();
        if (injected) {
            fail(injected.code, `Injected ${injected.code}.`, injected.retryAfter ? { 'retry-after': injected.retryAfter } : {});
            return;
        }
        const existing = tokens.filter((t) => this.exists(t));
        if (!existing.length) {
            fail('echo-push-token-not-found', 'No push subscription was found for the given token(s).');
            return;
        }
        for (const t of existing) {
            this.subscriptions.delete(t);
            this.deleted.add(t);
            this.deletedTokens.push(t);
        }
        record('ok');
        reply(200, { echopushsubscriptions: { result: 'Success' } });
    }

    private exists(token: string): boolean {
        return this.subscriptions.has(token) || (this.options.everyTokenExists === true && !this.deleted.has(token));
    }
}

/** The separator MediaWiki accepts for multi-value parameters whose values contain '|'. */
const UNIT_SEPARATOR = '\x1f';

/**
 * A multi-value parameter as the API parses it (ApiBase::parseMultiValue): split on '|', or
 * on \x1f when the value starts with it.
 */
export function decodeMultiValue(raw: string): string[] {
    if (raw.startsWith(UNIT_SEPARATOR)) {
        return raw.slice(1).split(UNIT_SEPARATOR);
    }
    return raw === '' ? [] : raw.split('|');
}

function readCookie(header: string | undefined, name: string): string | undefined {
    for (const part of (header ?? '').split(';')) {
        const [k, ...v] = part.trim().split('=');
        if (k === name) {
            return v.join('=');
        }
    }
    return undefined;
}
