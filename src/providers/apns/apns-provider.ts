import * as apn from '@parse/node-apn';
import type * as http2 from 'node:http2';
import { EgressPolicy, proxyHostPort } from '../../egress/agents';
import { Logger } from '../../logging/logger';
import { Batch, PushProvider, TokenResult } from '../../push/provider';
import { yieldToEventLoop } from '../../util/event-loop';
import { errorMessage } from '../../util/errors';
import { ResultBatcher } from '../../util/result-batcher';
import { parseRetryAfter } from '../../util/retry-after';
import { FailureSummary } from '../failure-summary';
import { ApnsDeadlineError, apnsConnectionFactory } from './apns-connection';
import { ApnsFailure, classifyNodeApnFailure, NodeApnFailure } from './apns-errors';
import { renderApnsNotification } from './apns-render';
import { apnsTokenSyntax } from './apns-token';

export const APNS_HOSTS = { production: 'api.push.apple.com', sandbox: 'api.sandbox.push.apple.com' } as const;

export interface ApnsProviderOptions {
    /** Provider instance id (log field; see ProviderId). */
    readonly id: string;
    /** Token auth (.p8 key PEM, keyId, teamId) or certificate auth (PKCS#12). */
    readonly token?: { key: string | Buffer; keyId: string; teamId: string };
    readonly pfx?: Buffer;
    readonly passphrase?: string;
    readonly production: boolean;
    /** Topic when the message names none (`apns.topic` of the message wins). */
    readonly topic?: string;
    /** Endpoint override (fakes); else Apple's host for the environment, port 443. */
    readonly address?: string;
    readonly port?: number;
    readonly ca?: string | Buffer;
    /** HTTP/2 sessions (node-apn clients, used round-robin per token). */
    readonly clientCount: number;
    /** Bound on one HTTP/2 request, in ms (node-apn's requestTimeout). */
    readonly requestTimeoutMs: number;
    /** Bound on opening a connection (TCP, proxy CONNECT, TLS handshake), in ms. */
    readonly connectTimeoutMs: number;
    /** node-apn's own immediate retries of 408/429/5xx (see APNS_DEFAULT_INTERNAL_RETRIES). */
    readonly connectionRetryLimit: number;
    readonly egress: EgressPolicy;
    /** Sent on the proxy's CONNECT request. */
    readonly userAgent?: string;
    readonly logger: Logger;
    /** Bound on close(): node-apn's shutdown callback may never fire. Default 2000 ms. */
    readonly shutdownTimeoutMs?: number;
    /** Tokens handed to node-apn per turn of the event loop; default APNS_SEND_CHUNK_TOKENS. */
    readonly sendChunkTokens?: number;
    /** HTTP/2 streams in flight at once over all calls; default APNS_MAX_IN_FLIGHT_TOKENS. */
    readonly maxInFlightTokens?: number;
    /** Tests count the event-loop turns between sub-chunks; setImmediate otherwise. */
    readonly yieldToLoop?: () => Promise<void>;
}

/**
 * node-apn opens one HTTP/2 stream per token, synchronously. Handing it a whole 500-token
 * batch at once was a busy stretch of tens of ms per batch; 50 at a time, with a turn of the
 * event loop before each, keeps each stretch at a few ms. The window bounds how many answers
 * can land in one socket read, and is released per answered token, so a hung stream holds
 * one place, not its sub-chunk's.
 */
export const APNS_SEND_CHUNK_TOKENS = 50;
export const APNS_MAX_IN_FLIGHT_TOKENS = 200;

/**
 * node-apn retries 408/429/5xx (and 403 ExpiredProviderToken) immediately, with no backoff
 * (it looks for `Retry-After` under a capitalised name HTTP/2 never uses), up to
 * `connectionRetryLimit` times, default 3: one 503 would cost 4 attempts in a burst. We set
 * 0: the delivery queue retries transient tokens with backoff, jitter and Retry-After, so each
 * attempt counted there is one request to Apple. ExpiredProviderToken is retried here, once.
 */
export const APNS_DEFAULT_INTERNAL_RETRIES = 0;

/** Added to each token's own bounds for the provider's last-resort deadline (see send). */
const GUARD_SLACK_MS = 1000;

type ApnProvider = apn.Provider | apn.MultiProvider;

/** node-apn's Client / MultiClient `write` (lib/client.js): resolves on 2xx, rejects with a failure object. */
interface NodeApnWriter {
    write(built: CompiledNotification, token: string, type: 'device', method: 'post'): Promise<unknown>;
}

/** A compiled notification as node-apn's Provider.send builds it; the body as a Buffer (see compiled()). */
interface CompiledNotification {
    readonly headers: Record<string, unknown>;
    readonly body: Buffer | string;
}

interface ApnClient {
    request: (session: http2.ClientHttp2Session, ...rest: unknown[]) => Promise<unknown>;
    setLogger?: (log: NodeLog, errorLog?: NodeLog) => void;
}
type NodeLog = ((msg: string) => void) & { enabled: boolean };

/** What the provider knows about one of node-apn's HTTP/2 sessions. */
interface SessionState {
    readonly session: http2.ClientHttp2Session;
    readonly openedAt: number;
    /** Epoch ms of the last response headers on it (any status). */
    lastAnswerAt: number;
}

/** One token of a call on its way: settled exactly once (answer, retry verdict or guard). */
interface Pending {
    /** The tokens as accepted that share this wire form (usually one). */
    tokens: string | string[];
    readonly wire: string;
    settled: boolean;
    /** 1 on the first request; 2 on the retry after ExpiredProviderToken. */
    attempt: number;
    /** The sub-chunk it was handed to node-apn with (set then). */
    chunk?: Chunk;
}

/** One sub-chunk handed to node-apn: its call, and its last-resort guard timer. */
interface Chunk {
    readonly ctx: CallContext;
    /** Tokens of it not settled yet; the guard is cleared at 0. */
    open: number;
    guard?: NodeJS.Timeout;
}

/** Everything one send() call shares among its tokens. */
interface CallContext {
    readonly note: apn.Notification;
    readonly built: CompiledNotification;
    readonly topic: string;
    readonly messageType: string;
    readonly out: ResultBatcher<TokenResult>;
    readonly summary: FailureSummary;
    unsettled: number;
    done?: () => void;
}

/**
 * APNs over ONE long-lived node-apn Provider (a MultiProvider when clientCount > 1), created
 * here and shut down only in close(). node-apn reconnects by itself: after GOAWAY, a session
 * error or a closed connection it drops the session and opens a new one on the next request.
 *
 * send(): each token is its own node-apn request and its result goes to `onResults` as soon
 * as APNs answers it (grouped per event-loop turn), so a hung stream holds nobody else.
 * Every step is bounded: the connection (TCP, proxy CONNECT, TLS) by connectTimeoutMs, each
 * request by requestTimeoutMs, and each token as a whole by a last-resort guard past both.
 * A session on which requests time out and nothing has answered for requestTimeoutMs is
 * destroyed, so the next request opens a new one (a silently dead connection does not
 * stall delivery). Configuration errors, deadlines and lost connections are logged once per
 * call, one line per kind, with a count and a few token fingerprints.
 */
export class ApnsProvider implements PushProvider {
    readonly kind = 'apns' as const;
    readonly id: string;
    private readonly provider: ApnProvider;
    private readonly logger: Logger;
    /** Retry-After per wire token, from non-200 answers; read once by that token's result. */
    private readonly retryAfterByWire = new Map<string, number>();
    /** Live node-apn sessions, for the stuck-session check. */
    private readonly sessions = new Set<SessionState>();
    private readonly chunkTokens: number;
    private readonly window: TokenWindow;
    private readonly yieldToLoop: () => Promise<void>;
    private readonly guardMs: number;
    private closed = false;
    private lastAnswerAt?: number;
    private failingSince?: number;
    /**
     * node-apn's client (a MultiClient when clientCount > 1): `write(built, token, 'device',
     * 'post')` is what Provider.send calls once per token after compiling the notification.
     * Calling it directly skips, per token, Provider.send's headers() object, its
     * Promise.allSettled and its result arrays (measured: see bench/apns-provider-cpu.ts).
     * Undefined if a node-apn upgrade changed that shape: then Provider.send, per token.
     */
    private readonly writer?: NodeApnWriter;

    constructor(private readonly options: ApnsProviderOptions) {
        this.id = options.id;
        this.logger = options.logger;
        this.chunkTokens = Math.max(1, Math.floor(options.sendChunkTokens ?? APNS_SEND_CHUNK_TOKENS));
        this.window = new TokenWindow(Math.max(this.chunkTokens, options.maxInFlightTokens ?? APNS_MAX_IN_FLIGHT_TOKENS));
        this.yieldToLoop = options.yieldToLoop ?? yieldToEventLoop;
        // First attempt: connect + request; the ExpiredProviderToken retry: one more request.
        this.guardMs = options.connectTimeoutMs + 2 * options.requestTimeoutMs + GUARD_SLACK_MS;
        const host = options.address ?? (options.production ? APNS_HOSTS.production : APNS_HOSTS.sandbox);
        const port = options.port ?? 443;
        const proxy = proxyHostPort(host, options.egress);
        const common: apn.ProviderOptions & { createConnection: () => unknown } = {
            production: options.production,
            address: host,
            port,
            connectionRetryLimit: options.connectionRetryLimit,
            requestTimeout: options.requestTimeoutMs,
            // Our own connection (proxy tunnel, CA, deadlines): see apns-connection.ts.
            createConnection: apnsConnectionFactory({
                host, port, proxy, ca: options.ca, pfx: options.pfx, passphrase: options.passphrase,
                connectTimeoutMs: options.connectTimeoutMs, userAgent: options.userAgent
            })
        };
        let auth: apn.ProviderOptions;
        if (options.token) {
            auth = { token: options.token };
        } else if (options.pfx) {
            auth = { pfx: options.pfx, ...(options.passphrase ? { passphrase: options.passphrase } : {}) };
        } else {
            throw new Error('APNs needs token auth (key, keyId, teamId) or a certificate');
        }
        this.provider = options.clientCount > 1
            ? new apn.MultiProvider({ ...common, ...auth, clientCount: options.clientCount })
            : new apn.Provider({ ...common, ...auth });
        this.instrumentClients();
        const client = (this.provider as unknown as { client?: Partial<NodeApnWriter> }).client;
        this.writer = typeof client?.write === 'function' ? client as NodeApnWriter : undefined;
        this.logger.log('info/apns', {
            msg: 'APNs provider ready', provider: this.id, host, port, production: options.production,
            auth: options.token ? 'token' : 'certificate', via: proxy ? `proxy ${proxy.host}:${proxy.port}` : 'direct',
            clientCount: options.clientCount
        });
    }

    /**
     * For health output and metrics (issue 11 §3: a stuck egress path must show): when APNs
     * last answered a request (any status, epoch ms), and since when every request has ended
     * without an answer (a deadline or a lost connection), undefined while APNs answers.
     */
    get egressStatus(): { readonly lastAnswerAt?: number; readonly failingSince?: number } {
        return { lastAnswerAt: this.lastAnswerAt, failingSince: this.failingSince };
    }

    /**
     * Sends one batch: reports every token exactly once through `onResults`, as soon as its
     * answer is known, and resolves when all are reported. Never rejects.
     * - a token that is not hex of 32..100 bytes: dead 'invalid_token', never sent;
     * - no topic (message nor instance): config_error 'MissingTopic', nothing sent;
     * - dryRun: APNs has no validate-only mode, so delivered 'dry_run', nothing sent;
     * - else one request per distinct wire token (tokens that normalise alike share it).
     */
    async send(batch: Batch, onResults: (results: readonly TokenResult[]) => void): Promise<void> {
        const out = new ResultBatcher<TokenResult>((group) => {
            try {
                onResults(group);
            } catch (e) {
                this.logger.log('error/apns', { msg: 'onResults threw', provider: this.id, error: errorMessage(e) });
            }
        });
        const summary = new FailureSummary(this.logger, 'apns');
        try {
            await this.sendBatch(batch, out, summary);
        } catch (e) {
            // Not expected: node-apn's send never rejects and ours catches per token.
            this.logger.log('error/apns', { msg: 'APNs send failed unexpectedly', provider: this.id, error: errorMessage(e) });
        } finally {
            summary.flush();
            out.flush();
        }
    }

    private async sendBatch(batch: Batch, out: ResultBatcher<TokenResult>, summary: FailureSummary): Promise<void> {
        const message = batch.message;
        const pending = this.checkTokens(batch.tokens, out, summary);
        if (pending.length === 0) {
            return;
        }
        const topic = message.apns?.topic ?? this.options.topic;
        if (!topic) {
            for (const p of pending) {
                this.settle(p, { outcome: 'config_error', reason: 'MissingTopic', detail: 'no apns.topic in the message and no topic configured' }, out, summary,
                    { level: 'error', msg: 'APNs message has no topic (neither the message nor the provider names one); not sending', fields: { provider: this.id, messageType: message.type } });
            }
            return;
        }
        if (batch.dryRun) {
            this.logger.log('debug/apns', { msg: 'dry run: not sending', provider: this.id, topic, messageType: message.type, tokens: pending.length });
            for (const p of pending) {
                this.settle(p, { outcome: 'delivered', reason: 'dry_run' }, out);
            }
            return;
        }
        const note = renderApnsNotification(message, topic);
        const ctx: CallContext = {
            note, built: compiled(note), topic, messageType: message.type, out, summary, unsettled: pending.length
        };
        const allSettled = new Promise<void>((resolve) => {
            ctx.done = resolve;
        });
        let handed = 0;
        try {
            for (; handed < pending.length; handed += this.chunkTokens) {
                const chunk = pending.slice(handed, handed + this.chunkTokens);
                // Also before the first chunk: the queue starts several batches in one tick.
                await this.yieldToLoop();
                await this.window.acquire(chunk.length);
                this.sendChunk(chunk, ctx);
            }
        } catch (e) {
            // Not expected (only an injected yieldToLoop can throw): what was not handed to
            // node-apn is transient; what was is settled by its answers or its guard.
            this.logger.log('error/apns', { msg: 'APNs send loop failed; the rest of the call is transient', provider: this.id, error: errorMessage(e) });
            for (const p of pending.slice(handed)) {
                this.settle(p, { outcome: 'transient', reason: 'call-failed' }, out);
                if (--ctx.unsettled === 0) {
                    ctx.done?.();
                }
            }
        }
        await allSettled;
    }

    /** Hands one sub-chunk to node-apn, under one last-resort guard timer. */
    private sendChunk(pending: readonly Pending[], ctx: CallContext): void {
        const chunk: Chunk = { ctx, open: pending.length };
        chunk.guard = setTimeout(() => this.expire(pending), this.guardMs);
        chunk.guard.unref();
        for (const p of pending) {
            p.chunk = chunk;
            this.request(p);
        }
    }

    /** Syntax check and de-duplication by wire form; invalid tokens are answered at once. */
    private checkTokens(tokens: readonly string[], out: ResultBatcher<TokenResult>, summary: FailureSummary): Pending[] {
        const pending: Pending[] = [];
        const byWire = new Map<string, Pending>();
        for (const token of tokens) {
            const check = apnsTokenSyntax(token);
            if (!check.ok) {
                out.add({ token, outcome: 'dead', reason: check.reason });
                summary.add('warn', 'tokens that are not APNs device tokens (not hex of 32..100 bytes); not sent', check.reason, token, { provider: this.id });
                continue;
            }
            const same = byWire.get(check.wire);
            if (same) {
                same.tokens = typeof same.tokens === 'string' ? [same.tokens, token] : [...same.tokens, token];
                continue;
            }
            const p: Pending = { tokens: token, wire: check.wire, settled: false, attempt: 1 };
            byWire.set(check.wire, p);
            pending.push(p);
        }
        return pending;
    }

    /** One node-apn request for one token; settles it (or retries it once) when answered. */
    /** One node-apn request for one token; settles it (or retries it once) when answered. */
    private request(p: Pending): void {
        if (this.writer) {
            // What Provider.send does per token, without its per-call wrapping (see `writer`).
            this.writer.write(p.chunk!.ctx.built, p.wire, 'device', 'post').then(() => this.onDelivered(p), (failure: unknown) => {
                if (!p.settled) {
                    this.onFailure(p, isNodeApnFailure(failure) ? classifyNodeApnFailure(failure) : unexpected(failure));
                }
            });
        } else {
            this.provider.send(p.chunk!.ctx.note, p.wire).then((r) => {
                const failure = r.failed[0] as NodeApnFailure | undefined;
                if (!failure) {
                    this.onDelivered(p);
                } else if (!p.settled) {
                    this.onFailure(p, classifyNodeApnFailure(failure));
                }
            }, (e: unknown) => {
                if (!p.settled) {
                    this.onFailure(p, unexpected(e));
                }
            });
        }
    }

    /** The hot path: a 200. */
    private onDelivered(p: Pending): void {
        if (p.settled) {
            return;
        }
        this.answered();
        if (typeof p.tokens === 'string') {
            p.settled = true;
            p.chunk!.ctx.out.add({ token: p.tokens, outcome: 'delivered', reason: 'ok' });
            this.released(p);
        } else {
            this.finish(p, { outcome: 'delivered', reason: 'ok' });
        }
    }

    private onFailure(p: Pending, f: ApnsFailure): void {
        const ctx = p.chunk!.ctx;
        if (f.status !== undefined) {
            this.answered();
        } else {
            this.failingSince ??= Date.now();
        }
        if (f.staleJwt && p.attempt === 1 && !this.closed) {
            // node-apn signed a fresh provider token on this answer: retry at once, once.
            p.attempt = 2;
            this.request(p);
            return;
        }
        const retryAfterMs = this.takeRetryAfter(p.wire);
        if (f.outcome === 'config_error') {
            const detail = `APNs ${f.status ?? ''} ${f.reason}${f.staleJwt ? ' again after a freshly signed provider token' : ''} (topic ${ctx.topic})`;
            this.finish(p, { outcome: 'config_error', reason: f.reason, detail }, {
                level: 'error', msg: 'APNs refused notifications for a configuration reason; not deleting, not retrying',
                fields: { provider: this.id, status: f.status, topic: ctx.topic, messageType: ctx.messageType, detail }
            });
            return;
        }
        if (f.outcome === 'transient' && f.status === undefined) {
            const timeout = f.reason === 'timeout';
            if (timeout) {
                this.dropStuckSessions();
            }
            // What failed (node-apn's error text, never a token) goes along: `npm run check` shows it.
            this.finish(p, { outcome: 'transient', reason: f.reason, ...(f.error ? { detail: f.error } : {}) }, timeout ? {
                level: 'warn', msg: 'APNs requests hit their deadline; transient',
                fields: { provider: this.id, stage: f.deadline instanceof ApnsDeadlineError ? f.deadline.stage : 'request', error: f.error }
            } : { level: 'warn', msg: 'APNs requests got no answer; transient', fields: { provider: this.id, error: f.error } });
            return;
        }
        this.finish(p, retryAfterMs !== undefined && f.outcome === 'transient'
            ? { outcome: f.outcome, reason: f.reason, retryAfterMs }
            : { outcome: f.outcome, reason: f.reason });
    }

    private finish(p: Pending, result: Omit<TokenResult, 'token'>,
        log?: { level: 'error' | 'warn'; msg: string; fields: Record<string, unknown> }): void {
        if (p.settled) {
            return;
        }
        const ctx = p.chunk!.ctx;
        this.settle(p, result, ctx.out, ctx.summary, log);
        this.released(p);
    }

    /** A handed-over token is settled: its place in the window, its chunk, its call. */
    private released(p: Pending): void {
        const chunk = p.chunk!;
        this.window.release(1);
        if (--chunk.open === 0) {
            clearTimeout(chunk.guard);
        }
        if (--chunk.ctx.unsettled === 0) {
            chunk.ctx.done?.();
        }
    }

    /** The last-resort deadline of a sub-chunk: whatever is still open is transient 'timeout'. */
    private expire(chunk: readonly Pending[]): void {
        const stale = chunk.filter((p) => !p.settled);
        if (stale.length === 0) {
            return;
        }
        this.dropStuckSessions();
        this.failingSince ??= Date.now();
        for (const p of stale) {
            this.finish(p, { outcome: 'transient', reason: 'timeout' }, {
                level: 'warn', msg: 'APNs requests hit their deadline; transient',
                fields: { provider: this.id, stage: 'call', ms: this.guardMs }
            });
        }
    }

    private settle(p: Pending, result: Omit<TokenResult, 'token'>, out: ResultBatcher<TokenResult>, summary?: FailureSummary,
        log?: { level: 'error' | 'warn'; msg: string; fields: Record<string, unknown> }): void {
        p.settled = true;
        const tokens = typeof p.tokens === 'string' ? [p.tokens] : p.tokens;
        for (const token of tokens) {
            out.add({ token, ...result });
            if (log && summary) {
                summary.add(log.level, log.msg, result.reason, token, log.fields);
            }
        }
    }

    private answered(): void {
        this.lastAnswerAt = Date.now();
        this.failingSince = undefined;
    }

    private takeRetryAfter(wire: string): number | undefined {
        if (this.retryAfterByWire.size === 0) {
            return undefined;
        }
        const ms = this.retryAfterByWire.get(wire);
        this.retryAfterByWire.delete(wire);
        return ms;
    }

    /**
     * A session on which a request just hit its deadline and that has answered nothing for
     * requestTimeoutMs is taken as dead (a silently dropped connection, a peer that stopped
     * reading): destroyed, so that node-apn opens a new one on the next request instead of
     * queueing every later request on it until each times out.
     */
    private dropStuckSessions(): void {
        const now = Date.now();
        for (const s of this.sessions) {
            if (s.session.destroyed) {
                this.sessions.delete(s);
            } else if (now - s.lastAnswerAt >= this.options.requestTimeoutMs) {
                this.sessions.delete(s);
                this.logger.log('warn/apns', {
                    msg: 'APNs connection answered nothing within requestTimeoutMs; dropping it (the next request reconnects)',
                    provider: this.id, silentMs: now - s.lastAnswerAt, ageMs: now - s.openedAt
                });
                s.session.destroy(new ApnsDeadlineError('session', this.options.requestTimeoutMs));
            }
        }
    }

    /**
     * What node-apn does not offer, through its Client objects (checked for shape: if an
     * upgrade changes them, we log that and go on without):
     * - its connection log (GOAWAY, session errors) goes to our logger; its per-request lines
     *   are left out (we log those once per call);
     * - each session is watched: the `retry-after` of non-200 answers is kept (node-apn looks
     *   for it under 'Retry-After', which HTTP/2 never sends, then drops it), and the time of
     *   the last answer, for dropStuckSessions.
     */
    private instrumentClients(): void {
        const p = this.provider as unknown as { client?: { clients?: ApnClient[] } & ApnClient };
        const clients: ApnClient[] = p.client?.clients ?? (p.client ? [p.client] : []);
        if (clients.length === 0 || clients.some((c) => typeof c.request !== 'function')) {
            this.logger.log('warn/apns', { msg: 'cannot instrument node-apn clients; Retry-After from APNs is ignored', provider: this.id });
            return;
        }
        const errorLog: NodeLog = Object.assign((msg: string) => {
            if (!msg.startsWith('Request ')) {
                this.logger.log('info/apns', { msg: `node-apn: ${msg}`, provider: this.id });
            }
        }, { enabled: true });
        const quiet: NodeLog = Object.assign(() => undefined, { enabled: false });
        const watched = new WeakSet<http2.ClientHttp2Session>();
        for (const client of clients) {
            client.setLogger?.(quiet, errorLog);
            const request = client.request.bind(client);
            client.request = (session, ...rest) => {
                if (!watched.has(session)) {
                    watched.add(session);
                    this.watchSession(session);
                }
                return request(session, ...rest);
            };
        }
    }

    private watchSession(session: http2.ClientHttp2Session): void {
        const now = Date.now();
        const state: SessionState = { session, openedAt: now, lastAnswerAt: now };
        this.sessions.add(state);
        session.once('close', () => this.sessions.delete(state));
        const retryAfters = this.retryAfterByWire;
        // One listener function per session, shared by its streams.
        function onResponse(this: http2.ClientHttp2Stream, headers: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader): void {
            state.lastAnswerAt = Date.now();
            if (headers[':status'] !== 200 && headers['retry-after'] !== undefined) {
                const ms = parseRetryAfter(headers['retry-after']);
                const path = this.sentHeaders[':path'];
                if (ms !== undefined && typeof path === 'string') {
                    retryAfters.set(path.slice(path.lastIndexOf('/') + 1), ms);
                }
            }
        }
        const request = session.request.bind(session);
        session.request = ((headers: http2.OutgoingHttpHeaders, opts?: http2.ClientSessionRequestOptions) => {
            const stream = request(headers, opts);
            stream.on('response', onResponse);
            return stream;
        });
    }

    async close(): Promise<void> {
        if (this.closed) {
            return;
        }
        this.closed = true;
        const timeoutMs = this.options.shutdownTimeoutMs ?? 2000;
        let timer: NodeJS.Timeout | undefined;
        // node-apn's shutdown callback never fires once a session was destroyed by an error.
        const done = await Promise.race([
            new Promise<boolean>((resolve) => {
                Promise.resolve(this.provider.shutdown(() => resolve(true))).catch(() => resolve(false));
            }),
            new Promise<boolean>((resolve) => {
                timer = setTimeout(() => resolve(false), timeoutMs);
                timer.unref();
            })
        ]);
        clearTimeout(timer);
        if (!done) {
            this.logger.log('warn/apns', { msg: `node-apn shutdown did not confirm within ${timeoutMs} ms; going on`, provider: this.id });
        }
    }
}

/**
 * Tokens in flight at once over every call of one provider: a sub-chunk waits (FIFO, so no
 * call starves) until its tokens fit; each answered token frees its place at once.
 */
class TokenWindow {
    private inFlight = 0;
    private readonly waiting: { n: number; go: () => void }[] = [];

    constructor(private readonly max: number) {}

    get tokensInFlight(): number {
        return this.inFlight;
    }

    acquire(n: number): Promise<void> | undefined {
        if (this.waiting.length === 0 && this.inFlight + n <= this.max) {
            this.inFlight += n;
            return undefined;
        }
        return new Promise((resolve) => this.waiting.push({ n, go: resolve }));
    }

    release(n: number): void {
        this.inFlight -= n;
        while (this.waiting.length > 0 && this.inFlight + this.waiting[0].n <= this.max) {
            const next = this.waiting.shift()!;
            this.inFlight += next.n;
            next.go();
        }
    }
}

/**
 * What node-apn's Provider.send builds from a Notification before writing it (lib/provider.js),
 * once per call. The body goes as a Buffer: node-apn hands it to the HTTP/2 stream as is, so
 * the same bytes are not encoded from a string again for every token.
 */
function compiled(note: apn.Notification): CompiledNotification {
    const n = note as unknown as { headers(): Record<string, unknown>; compile(): string };
    return { headers: n.headers(), body: Buffer.from(n.compile(), 'utf8') };
}

/** node-apn rejects write() with `{device, status?, response?, error?}`; anything else is a bug. */
function isNodeApnFailure(v: unknown): v is NodeApnFailure {
    return typeof v === 'object' && v !== null && !(v instanceof Error) && ('error' in v || 'status' in v || 'response' in v);
}

/** A rejection node-apn does not document (a bug, not an APNs answer): transient. */
function unexpected(e: unknown): ApnsFailure {
    return { outcome: 'transient', reason: 'connection-error', staleJwt: false, error: errorMessage(e) };
}
