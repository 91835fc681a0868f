import * as http from 'node:http';
import * as https from 'node:https';
import type { LookupFunction } from 'node:net';
import * as tls from 'node:tls';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { bypassesProxy } from './no-proxy';

/**
 * The egress policy of one service instance: the CONNECT proxy (if any) and the hosts that
 * bypass it. Every provider connection (FCM sends, the Google OAuth exchange, APNs) asks it
 * how to reach its host, so the rule lives in one place.
 */
export interface EgressPolicy {
    readonly proxy?: string;
    readonly no_proxy_list: readonly string[];
}

/** The proxy URL to use for `host`, or undefined for a direct connection. */
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
     * Name resolution for DIRECT connections only (Web Push's public-address check runs here,
     * at connect time, so DNS rebinding cannot slip past it). Not used through the proxy: the
     * proxy resolves the target, and the proxy's own address may well be private.
     */
    readonly lookup?: LookupFunction;
    /**
     * Through the proxy only: milliseconds the CONNECT may take (TCP to the proxy, its 200
     * answer). Past it the half-open socket is destroyed, so a proxy that accepts and never
     * answers cannot hold the agent's socket slots for good (https-proxy-agent counts a pending
     * CONNECT as a socket, and has no deadline of its own). Unset: no bound (as before).
     */
    readonly connectTimeoutMs?: number;
}

/**
 * A keep-alive HTTPS agent for one upstream host: through the CONNECT proxy (one tunnel per
 * pooled socket, kept alive with it) unless the host is in `no_proxy_list`, or straight to
 * `connectTo`. Keep-alive matters: firebase-admin's HTTP/1.1 transport sends one request per
 * token, and a TLS (plus CONNECT) handshake per token would cap throughput far below what
 * a 500-token batch needs.
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
    if (options.connectTo) {
        return new RedirectingAgent(new URL(options.connectTo), common);
    }
    const proxy = proxyFor(options.host, options.policy);
    if (proxy) {
        return new TrustingProxyAgent(proxy, common, options.ca, options.connectTimeoutMs);
    }
    return new https.Agent(options.lookup ? { ...common, lookup: options.lookup } : common);
}

/**
 * https-proxy-agent builds the TLS connection to the target from the request's options, which
 * do not carry the agent's `ca`; without this, a private CA (the fakes') is not trusted
 * through the tunnel.
 */
class TrustingProxyAgent extends HttpsProxyAgent<string> {
    constructor(proxy: URL, options: ConstructorParameters<typeof HttpsProxyAgent>[1], private readonly extraCa?: string | Buffer,
        private readonly connectTimeoutMs?: number) {
        super(proxy, options);
    }

    override connect(req: http.ClientRequest, opts: Parameters<HttpsProxyAgent<string>['connect']>[1]): ReturnType<HttpsProxyAgent<string>['connect']> {
        const target = this.extraCa ? { ...opts, ca: this.extraCa } as typeof opts : opts;
        if (!this.connectTimeoutMs) {
            return super.connect(req, target);
        }
        // https-proxy-agent opens its socket to the proxy with `this.connectOpts`, synchronously
        // inside connect(); an AbortSignal there (net.Socket's `signal` option) lets us destroy
        // that socket if the CONNECT is not answered in time. The signal is only ever fired
        // before the CONNECT settles, never on an established tunnel.
        const self = this as unknown as { connectOpts: Record<string, unknown> };
        const saved = self.connectOpts;
        const abort = new AbortController();
        self.connectOpts = { ...saved, signal: abort.signal };
        let pending: ReturnType<HttpsProxyAgent<string>['connect']>;
        try {
            pending = super.connect(req, target);
        } finally {
            self.connectOpts = saved;
        }
        const timer = setTimeout(() => abort.abort(new Error(`proxy CONNECT not answered within ${this.connectTimeoutMs} ms`)), this.connectTimeoutMs);
        return pending.finally(() => clearTimeout(timer));
    }
}

/** An https.Agent whose sockets all go to one fixed address (see `connectTo`). */
class RedirectingAgent extends https.Agent {
    constructor(private readonly target: URL, options: https.AgentOptions) {
        super(options);
    }

    // Called by http.Agent for every new pooled socket; the pool key still uses the request's
    // host, so keep-alive reuse works as usual.
    override createConnection(options: tls.ConnectionOptions & { host?: string }, _cb?: unknown): tls.TLSSocket {
        const servername = options.servername ?? options.host;
        return tls.connect({
            ...options,
            host: this.target.hostname,
            port: Number(this.target.port || 443),
            servername: servername && !/^[\d.:]+$/.test(servername) ? servername : undefined
        });
    }
}

/**
 * Calls `onResponse` with every response an agent's requests receive. firebase-admin does not
 * expose response headers on its errors (so no Retry-After); the agent is the one place we
 * control that sees them.
 */
export function observeResponses(agent: http.Agent, onResponse: (res: http.IncomingMessage) => void): void {
    const target = agent as unknown as { addRequest(req: http.ClientRequest, options: unknown): void };
    const addRequest = target.addRequest.bind(agent);
    target.addRequest = (req: http.ClientRequest, options: unknown) => {
        req.once('response', onResponse);
        addRequest(req, options);
    };
}
