import * as apn from '@parse/node-apn';
import type * as http2 from 'node:http2';
import { ChunkPacer } from '../../util/chunk-pacer';
import { parseRetryAfter } from '../../util/retry-after';
import { EgressPolicy, proxyHostPort } from '../../egress/agents';
import { Logger } from '../../logging/logger';
import { FailureSummary } from '../failure-summary';
import { Batch } from '../../push/push-request';
import { PushProvider, TokenResult } from '../push-provider';
import { classifyApnsFailure } from './apns-errors';

export const APNS_HOSTS = { production: 'api.push.apple.com', sandbox: 'api.sandbox.push.apple.com' } as const;

export interface ApnsProviderOptions {
    /** Token auth (.p8 key PEM or path, keyId, teamId) or certificate auth (PKCS#12). */
    readonly token?: { key: string | Buffer; keyId: string; teamId: string };
    readonly pfx?: string | Buffer;
    readonly passphrase?: string;
    readonly production: boolean;
    /** Default topic when a batch carries none. */
    readonly topic?: string;
    /** Endpoint override (fakes); else Apple's host for the environment, port 443. */
    readonly address?: string;
    readonly port?: number;
    readonly ca?: string | Buffer;
    readonly clientCount: number;
    readonly requestTimeoutMs: number;
    /** node-apn's own immediate retries of 408/429/5xx (see APNS_DEFAULT_INTERNAL_RETRIES). */
    readonly connectionRetryLimit: number;
    readonly egress: EgressPolicy;
    readonly logger: Logger;
    /** Bound on close(): node-apn's shutdown callback may never fire. */
    readonly shutdownTimeoutMs?: number;
    /** Tokens handed to node-apn at once (see ChunkPacer); default APNS_SEND_CHUNK_TOKENS. */
    readonly sendChunkTokens?: number;
    /** HTTP/2 streams in flight at once over all batches; default APNS_MAX_IN_FLIGHT_TOKENS. */
    readonly maxInFlightTokens?: number;
    /** Tests count the event-loop turns between sub-chunks; setImmediate otherwise. */
    readonly yieldToLoop?: () => Promise<void>;
}

/**
 * node-apn opens one HTTP/2 stream per token, synchronously (~100 µs each with Node 20's
 * http2). Handing it 500 tokens at once was a 50+ ms busy stretch per batch, times
 * delivery.concurrency; 50 at a time, with a turn of the event loop between, keeps each
 * stretch at a few ms. The window bounds how many answers can land in one socket read.
 */
export const APNS_SEND_CHUNK_TOKENS = 50;
export const APNS_MAX_IN_FLIGHT_TOKENS = 200;

/**
 * node-apn retries 408/429/5xx (and 403 ExpiredProviderToken) immediately, with no backoff
 * (it looks for `Retry-After` under a capitalised name HTTP/2 never uses), up to
 * `connectionRetryLimit` times, default 3: one 503 would cost 4 attempts in a burst. We set
 * 0: the delivery queue retries transient tokens with backoff, jitter and Retry-After, so each
 * attempt counted there is one request to Apple.
 */
export const APNS_DEFAULT_INTERNAL_RETRIES = 0;

type ApnProvider = apn.Provider | apn.MultiProvider;

interface ApnClient {
    request: (session: http2.ClientHttp2Session, ...rest: unknown[]) => Promise<unknown>;
    setLogger?: (log: NodeLog, errorLog?: NodeLog) => void;
}
type NodeLog = ((msg: string) => void) & { enabled: boolean };

/**
 * Delivers batches over ONE long-lived node-apn Provider (a MultiProvider when clientCount > 1),
 * created here and shut down only in close(). node-apn reconnects by itself: after GOAWAY, a
 * session error or a closed connection it drops the session and opens a new one on the next
 * request, so a batch after an outage simply works (tested against the fake).
 */
export class ApnsProvider implements PushProvider {
    readonly name = 'apns' as const;
    private readonly provider: ApnProvider;
    private readonly logger: Logger;
    /** Retry-After seen per device path, read once by the batch that sent it. */
    private readonly retryAfterByPath = new Map<string, number>();
    private readonly pacer: ChunkPacer;
    private closed = false;

    constructor(private readonly options: ApnsProviderOptions) {
        this.logger = options.logger;
        this.pacer = new ChunkPacer({
            chunkTokens: options.sendChunkTokens ?? APNS_SEND_CHUNK_TOKENS,
            maxInFlightTokens: options.maxInFlightTokens ?? APNS_MAX_IN_FLIGHT_TOKENS,
            yieldToLoop: options.yieldToLoop
        });
        const host = options.address ?? (options.production ? APNS_HOSTS.production : APNS_HOSTS.sandbox);
        const proxy = proxyHostPort(host, options.egress);
        const common: apn.ProviderOptions = {
            production: options.production,
            ...(options.address ? { address: options.address } : {}),
            ...(options.port ? { port: options.port } : {}),
            ...(options.ca ? { ca: [options.ca] } : {}),
            ...(proxy ? { proxy } : {}),
            connectionRetryLimit: options.connectionRetryLimit,
            requestTimeout: options.requestTimeoutMs
        };
        let auth: apn.ProviderOptions;
        if (options.token) {
            auth = { token: options.token };
        } else if (options.pfx) {
            auth = { pfx: options.pfx, ...(options.passphrase ? { passphrase: options.passphrase } : {}) };
        } else {
            throw new Error('APNs needs apns.token (key, keyId, teamId) or apns.cert');
        }
        this.provider = options.clientCount > 1
            ? new apn.MultiProvider({ ...common, ...auth, clientCount: options.clientCount })
            : new apn.Provider({ ...common, ...auth });
        this.instrumentClients();
        if (proxy && options.ca) {
            this.trustCaThroughProxy(options.ca);
        }
        this.logger.log('info/apns', {
            msg: 'APNs provider ready', host, port: options.port ?? 443, production: options.production,
            auth: options.token ? 'token' : 'certificate', via: proxy ? `proxy ${proxy.host}:${proxy.port}` : 'direct',
            clientCount: options.clientCount
        });
    }

    async send(batch: Batch): Promise<TokenResult[]> {
        const tokens = batch.tokens;
        if (tokens.length === 0) {
            return [];
        }
        const topic = batch.topic ?? this.options.topic;
        if (!topic) {
            this.logger.log('error/apns', { msg: 'no APNs topic in the request or apns.topic; not sending', messageType: batch.messageType });
            return tokens.map((token) => ({ token, outcome: 'config_error', reason: 'MissingTopic' }));
        }
        if (batch.dryRun) {
            // APNs has no validate-only mode: a dry run is logged and not sent.
            this.logger.log('debug/apns', { msg: 'dry run: not sending', topic, messageType: batch.messageType, tokens: tokens.length });
            return tokens.map((token) => ({ token, outcome: 'delivered', reason: 'dry_run' }));
        }
        // One Notification for the whole batch: node-apn compiles its headers and body once
        // per send() call and shares them over that call's tokens.
        const note = buildNotification(batch.messageType, topic);
        return this.pacer.map(tokens, (chunk) => this.sendChunk(note, chunk, batch.messageType, topic), (chunk, e) => {
            // send() is documented never to reject; keep the seam's promise anyway.
            this.logger.log('warn/apns', { msg: 'APNs send rejected; every token is transient', error: String(e) });
            return chunk.map((token): TokenResult => ({ token, outcome: 'transient', reason: 'call-failed' }));
        });
    }

    private async sendChunk(note: apn.Notification, tokens: string[], messageType: string, topic: string): Promise<TokenResult[]> {
        const response = await this.provider.send(note, tokens);
        const results: TokenResult[] = new Array<TokenResult>(tokens.length);
        if (response.failed.length === 0) {
            for (let i = 0; i < tokens.length; i++) {
                results[i] = { token: tokens[i], outcome: 'delivered', reason: 'ok' };
            }
            return results;
        }
        const failures = new Map(response.failed.map((f) => [f.device, f]));
        const summary = new FailureSummary(this.logger, 'apns');
        for (let i = 0; i < tokens.length; i++) {
            results[i] = this.result(tokens[i], failures.get(tokens[i]), messageType, topic, summary);
        }
        summary.flush();
        for (const token of tokens) {
            this.retryAfterByPath.delete(devicePath(token));
        }
        return results;
    }

    private result(token: string, failure: apn.ResponseFailure | undefined, messageType: string, topic: string,
        summary: FailureSummary): TokenResult {
        if (!failure) {
            return { token, outcome: 'delivered', reason: 'ok' };
        }
        const status = typeof failure.status === 'number' ? failure.status : Number(failure.status) || undefined;
        // node-apn turns some answers (403 ExpiredProviderToken, 500) into an `error` whose
        // message is the reason, without `response`.
        const reasonFromError = status !== undefined && /^[A-Za-z]+$/.test(failure.error?.message ?? '') ? failure.error?.message : undefined;
        const { outcome, reason } = classifyApnsFailure(status, failure.response?.reason ?? reasonFromError);
        if (outcome === 'config_error') {
            summary.add('error', 'APNs refused notifications for a configuration reason; not deleting', reason, token,
                { status, topic, messageType });
        } else if (outcome === 'transient' && status === undefined) {
            summary.add('warn', 'APNs requests got no answer', reason, token, { error: failure.error?.message });
        }
        if (outcome !== 'transient') {
            return { token, outcome, reason };
        }
        const retryAfterMs = this.retryAfterByPath.get(devicePath(token));
        return retryAfterMs !== undefined ? { token, outcome, reason, retryAfterMs } : { token, outcome, reason };
    }

    /**
     * Two things node-apn does not offer: its connection log (GOAWAY, session errors) goes to
     * our logger, and the `retry-after` header of each answer is kept (node-apn looks for it
     * under 'Retry-After', which HTTP/2 never sends, then drops it). Both hook its Client
     * objects; if a node-apn upgrade changes their shape, we log that and go on without.
     */
    private instrumentClients(): void {
        const p = this.provider as unknown as { client?: { clients?: ApnClient[] } & ApnClient };
        const clients: ApnClient[] = p.client?.clients ?? (p.client ? [p.client] : []);
        if (clients.length === 0 || clients.some((c) => typeof c.request !== 'function')) {
            this.logger.log('warn/apns', { msg: 'cannot instrument node-apn clients; Retry-After from APNs is ignored' });
            return;
        }
        const errorLog: NodeLog = Object.assign((msg: string) => this.logger.log('info/apns', { msg: `node-apn: ${msg}` }), { enabled: true });
        const quiet: NodeLog = Object.assign(() => undefined, { enabled: false });
        const patched = new WeakSet<http2.ClientHttp2Session>();
        for (const client of clients) {
            client.setLogger?.(quiet, errorLog);
            const request = client.request.bind(client);
            client.request = (session, ...rest) => {
                if (!patched.has(session)) {
                    patched.add(session);
                    this.watchRetryAfter(session);
                }
                return request(session, ...rest);
            };
        }
    }

    /**
     * Through a proxy, node-apn opens TLS over the tunnel with its own `tls.connect` call that
     * drops the `ca` option, so a private CA (fakes, dev mode) would not be trusted; Apple's
     * real certificates need no such help. node-apn installs that call as
     * `config.createConnection` right before each session; we catch the assignment and run
     * the call with `ca` added. Only used when both `proxy` and `apns.ca` are set.
     */
    private trustCaThroughProxy(ca: string | Buffer): void {
        const p = this.provider as unknown as { client?: { clients?: { config?: object }[]; config?: object } };
        const clients = p.client?.clients ?? (p.client ? [p.client] : []);
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const tlsModule = require('node:tls') as { connect: (...args: unknown[]) => unknown };
        for (const client of clients) {
            if (!client.config) {
                continue;
            }
            let current: ((...args: unknown[]) => unknown) | undefined;
            Object.defineProperty(client.config, 'createConnection', {
                configurable: true,
                enumerable: true,
                get: () => current,
                set: (fn: ((...args: unknown[]) => unknown) | undefined) => {
                    current = fn && ((...args: unknown[]) => {
                        const connect = tlsModule.connect;
                        tlsModule.connect = (...a: unknown[]) => connect(a[0], a[1], { ...(a[2] as object), ca });
                        try {
                            return fn(...args);
                        } finally {
                            tlsModule.connect = connect;
                        }
                    });
                }
            });
        }
    }

    private watchRetryAfter(session: http2.ClientHttp2Session): void {
        const request = session.request.bind(session);
        session.request = ((headers: http2.OutgoingHttpHeaders, opts?: http2.ClientSessionRequestOptions) => {
            const stream = request(headers, opts);
            stream.once('response', (h: http2.IncomingHttpHeaders) => {
                const ms = parseRetryAfter(h['retry-after']);
                if (ms !== undefined) {
                    this.retryAfterByPath.set(String(headers[':path']), ms);
                }
            });
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
            this.logger.log('warn/apns', { msg: `node-apn shutdown did not confirm within ${timeoutMs} ms; going on` });
        }
    }
}

function devicePath(token: string): string {
    return `/3/device/${token}`;
}

/** The notification the Wikipedia iOS app expects (the original service's shape). */
export function buildNotification(messageType: string, topic: string): apn.Notification {
    const note = new apn.Notification();
    note.payload = { data: { type: messageType } };
    note.alert = messageType;
    note.mutableContent = true;
    note.threadId = messageType;
    note.pushType = 'alert';
    note.topic = topic;
    return note;
}
