import * as http from 'node:http';
import * as https from 'node:https';
import type * as net from 'node:net';
import * as tls from 'node:tls';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { bypassesProxy } from './no-proxy';

/**
 * The egress policy of one service instance: the CONNECT proxy (if any) and the hosts that
 * bypass it. Every outbound connection (FCM sends, the Google OAuth exchange, APNs, Web
 * Push, the MediaWiki API) asks it how to reach its host, so the rule lives in one place.
 */
export interface EgressPolicy {
    readonly proxy?: string;
    readonly no_proxy_list: readonly string[];
}

/** The proxy URL to use for `host` (a name, `name:port` or `[v6]:port`), or undefined for a direct connection. */
export function proxyFor(host: string, policy: EgressPolicy): URL | undefined {
    if (!policy.proxy || bypassesProxy(host, policy.no_proxy_list)) {
        return undefined;
    }
    return new URL(policy.proxy);
}

/** The `{host, port}` form node-apn wants, or undefined for a direct connection. */
export function proxyHostPort(host: string, policy: EgressPolicy): { host: string; port: number } | undefined {
    const url = proxyFor(host, policy);
    if (!url) {
        return undefined;
    }
    const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
    return { host: url.hostname, port };
}

/**
 * Default deadline for the proxy's answer to CONNECT, counted from the start of the TCP
 * connect to the proxy, ms. undici's connect timeout has the same default (10 s).
 */
export const DEFAULT_PROXY_CONNECT_TIMEOUT_MS = 10_000;
/**
 * Default deadline for the TLS handshake with the upstream, ms (counted from the TCP
 * connect when direct, from the CONNECT answer when proxied). Go's net/http
 * DefaultTransport uses the same: TLSHandshakeTimeout 10 s.
 */
export const DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * An outbound connection step that hit its deadline. `code` is 'ETIMEDOUT', as Node's own
 * timeouts, so HTTP clients built on the agent report it as a timeout (firebase-admin maps it
 * to app/network-timeout): a transient failure, never a verdict on a device token.
 */
export class EgressTimeoutError extends Error {
    readonly code = 'ETIMEDOUT';

    constructor(readonly phase: 'proxy-connect' | 'tls-handshake', message: string) {
        super(message);
        this.name = 'EgressTimeoutError';
    }
}

export interface HttpsAgentOptions {
    /** Host the agent will talk to (decides proxy vs direct through `no_proxy_list`). */
    readonly host: string;
    readonly policy: EgressPolicy;
    /** Upper bound of open sockets (each one a CONNECT tunnel when proxied). */
    readonly maxSockets: number;
    /** Extra CAs to trust (fakes use a throwaway CA); undefined = the system store. */
    readonly ca?: string | Buffer;
    /**
     * Connect to this `https://host:port` instead of the request's host, whatever URL the
     * library builds (the FCM host is a constant in firebase-admin). TLS still verifies the
     * request's host name, so the fake's certificate must carry it. Never goes through the
     * proxy: it exists for fakes and tests.
     */
    readonly connectTo?: string;
    /**
     * Deadline for a CONNECT tunnel: TCP connect to the proxy plus its answer, ms. Default
     * DEFAULT_PROXY_CONNECT_TIMEOUT_MS. A proxy that accepts and never answers fails the
     * request with an EgressTimeoutError (phase 'proxy-connect') and its socket is closed.
     */
    readonly proxyConnectTimeoutMs?: number;
    /**
     * Deadline for the TLS handshake with the upstream (with the TCP connect when direct), ms.
     * Default DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS. A server (or tunnel) that never completes the
     * handshake fails the request with an EgressTimeoutError (phase 'tls-handshake').
     */
    readonly tlsHandshakeTimeoutMs?: number;
    /**
     * Name resolution for DIRECT connections only (Web Push's public-address check runs here,
     * at connect time, so DNS rebinding cannot slip past it). Not used through the proxy: the
     * proxy resolves the target, and the proxy's own address may well be private.
     */
    readonly lookup?: net.LookupFunction;
}

/**
 * A keep-alive HTTPS agent for one upstream host: through the CONNECT proxy (one tunnel per
 * pooled socket, kept alive with it) unless the host is in `no_proxy_list`, or straight to
 * `connectTo`. Keep-alive matters: firebase-admin's HTTP/1.1 transport sends one request per
 * token, and a TLS (plus CONNECT) handshake per token would cap throughput far below what
 * a 500-token batch needs.
 *
 * Every step of opening a connection has a deadline (see the `*TimeoutMs` options); the
 * request itself (response headers and body) is the HTTP client's to bound.
 */
export function createHttpsAgent(options: HttpsAgentOptions): http.Agent {
    const common = {
        keepAlive: true,
        keepAliveMsecs: 1000,
        maxSockets: options.maxSockets,
        maxFreeSockets: options.maxSockets,
        // Idle pooled sockets are dropped after 30 s, well before Google or the proxy closes
        // them, so we rarely write to a socket the far side is closing (ECONNRESET).
        timeout: 30_000,
        scheduling: 'lifo' as const,
        ...(options.ca ? { ca: options.ca } : {})
    };
    const handshakeMs = options.tlsHandshakeTimeoutMs ?? DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS;
    if (options.connectTo) {
        return new RedirectingAgent(new URL(options.connectTo), common, handshakeMs);
    }
    const proxy = proxyFor(options.host, options.policy);
    if (proxy) {
        return new TunnelAgent(proxy, common, {
            connectMs: options.proxyConnectTimeoutMs ?? DEFAULT_PROXY_CONNECT_TIMEOUT_MS, handshakeMs, ca: options.ca
        });
    }
    return new DirectAgent(options.lookup ? { ...common, lookup: options.lookup } : common, handshakeMs);
}

/** A plain keep-alive https.Agent whose new connections have a handshake deadline. */
class DirectAgent extends https.Agent {
    constructor(options: https.AgentOptions, private readonly handshakeMs: number) {
        super(options);
    }

    override createConnection(options: https.RequestOptions, cb?: (err: Error | null, stream: import('node:stream').Duplex) => void) {
        const socket = super.createConnection(options, cb);
        if (socket instanceof tls.TLSSocket) {
            armHandshakeDeadline(socket, this.handshakeMs, `${options.host ?? options.hostname}:${options.port ?? 443}`);
        }
        return socket;
    }
}

/** An https.Agent whose sockets all go to one fixed address (see `connectTo`). */
class RedirectingAgent extends https.Agent {
    constructor(private readonly target: URL, options: https.AgentOptions, private readonly handshakeMs: number) {
        super(options);
    }

    // Called by http.Agent for every new pooled socket; the pool key still uses the request's
    // host, so keep-alive reuse works as usual.
    override createConnection(options: tls.ConnectionOptions & { host?: string }, _cb?: unknown): tls.TLSSocket {
        const servername = options.servername ?? options.host;
        const port = Number(this.target.port || 443);
        const socket = tls.connect({
            ...options,
            host: this.target.hostname,
            port,
            servername: servername && !/^[\d.:]+$/.test(servername) ? servername : undefined
        });
        armHandshakeDeadline(socket, this.handshakeMs, `${this.target.hostname}:${port}`);
        return socket;
    }
}

interface TunnelOptions {
    readonly connectMs: number;
    readonly handshakeMs: number;
    readonly ca?: string | Buffer;
}

/**
 * https-proxy-agent with deadlines, and with the agent's `ca` applied to the TLS connection
 * through the tunnel (the library builds that connection from the request's options, which
 * do not carry the agent's `ca`; without it a private CA, the fakes', is not trusted).
 *
 * https-proxy-agent itself has no deadline on the CONNECT (TooTallNate/proxy-agents#173,
 * #370): a proxy that accepts and never answers holds the request, and its pool slot, for
 * good. Its connect() opens the socket to the proxy from `connectOpts`, synchronously before
 * its first await, and net.connect/tls.connect honour an AbortSignal there; so each connect()
 * gets its own signal, aborted at the deadline, which closes that socket. A race against
 * the same deadline bounds the call even if a later version stops reading the signal
 * (test/egress/https-agent.test.ts checks both: the failure and the closed socket).
 */
class TunnelAgent extends HttpsProxyAgent<string> {
    constructor(proxy: URL, options: ConstructorParameters<typeof HttpsProxyAgent>[1], private readonly tunnel: TunnelOptions) {
        super(proxy, options);
    }

    override async connect(req: http.ClientRequest, opts: Parameters<HttpsProxyAgent<string>['connect']>[1]): Promise<net.Socket> {
        const target = `${opts.host}:${opts.port}`;
        const { connectMs, handshakeMs, ca } = this.tunnel;
        const timeout = new EgressTimeoutError('proxy-connect',
            `the proxy ${this.proxy.host} did not answer CONNECT ${target} within ${connectMs} ms`);
        const deadline = new AbortController();
        let timer: NodeJS.Timeout | undefined;
        const expired = new Promise<never>((_resolve, reject) => {
            if (Number.isFinite(connectMs) && connectMs > 0) {
                timer = setTimeout(() => {
                    deadline.abort(timeout);
                    reject(timeout);
                }, connectMs);
            }
        });
        const base = this.connectOpts;
        let pending: Promise<net.Socket>;
        try {
            this.connectOpts = { ...base, signal: deadline.signal };
            pending = super.connect(req, ca ? { ...opts, ca } as typeof opts : opts);
        } finally {
            this.connectOpts = base;
        }
        let socket: net.Socket;
        try {
            socket = await Promise.race([pending, expired]);
        } catch (e) {
            if (deadline.signal.aborted) {
                // Should the library ever resolve after all, do not leak that tunnel.
                void pending.then((late) => late.destroy(), () => undefined);
                throw timeout;
            }
            throw e;
        } finally {
            clearTimeout(timer);
        }
        if (socket instanceof tls.TLSSocket) {
            armHandshakeDeadline(socket, handshakeMs, target);
        }
        return socket;
    }
}

/**
 * Destroys `socket` with an EgressTimeoutError unless its TLS handshake completes within
 * `ms`. The error reaches the request using the socket (as its 'error').
 */
function armHandshakeDeadline(socket: tls.TLSSocket, ms: number, target: string): void {
    if (!Number.isFinite(ms) || ms <= 0) {
        return;
    }
    const timer = setTimeout(() => {
        socket.destroy(new EgressTimeoutError('tls-handshake', `TLS handshake with ${target} did not complete within ${ms} ms`));
    }, ms);
    const clear = () => clearTimeout(timer);
    socket.once('secureConnect', clear);
    socket.once('close', clear);
}
