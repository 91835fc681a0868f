import type { Dispatcher } from 'undici';
import { EgressPolicy, proxyFor } from './agents';

export interface EgressDispatcherOptions {
    /**
     * `Host` header to send (from `mwapi_req.headers.host`: Wikimedia production calls a
     * local service-mesh port with `Host: meta.wikimedia.org`). fetch silently drops a Host
     * header, as the Fetch spec says, so it is set here, below fetch. Undefined: fetch's default.
     */
    readonly hostHeader?: string;
    /**
     * Deadline of each connection step, ms: TCP connect (to the wiki or the proxy), the
     * proxy's answer to CONNECT, the TLS handshake, the response headers, and each gap in the
     * body. The caller bounds the call as a whole with its own signal (ActionApiClient does);
     * these make sure no socket outlives a call that gave up on it.
     */
    readonly timeoutMs: number;
}

/** A dispatcher made on first use (see egressDispatcher). */
export interface LazyDispatcher {
    /** The dispatcher; created (and the undici package loaded) on the first call. */
    get(): Dispatcher;
    /** Closes it, if it was ever created. */
    close(): Promise<void>;
}

/**
 * The undici dispatcher for fetch calls to `uri`: through the egress CONNECT proxy unless
 * there is none or the host bypasses it (egress/no-proxy.ts, the rule every egress path
 * uses), with a deadline on every step (see `timeoutMs`). Close it on shutdown.
 *
 * Made on first use: the undici package (a second copy beside Node's built-in fetch, for its
 * ProxyAgent) costs about 5 MB of RSS, and the MediaWiki client only calls out once a dead
 * token needs deleting.
 */
export function egressDispatcher(uri: string, policy: EgressPolicy, options: EgressDispatcherOptions): LazyDispatcher {
    let made: Dispatcher | undefined;
    return {
        get: () => (made ??= makeDispatcher(uri, policy, options)),
        close: async () => {
            await made?.close();
        }
    };
}

function makeDispatcher(uri: string, policy: EgressPolicy, options: EgressDispatcherOptions): Dispatcher {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use (see egressDispatcher)
    const { Agent, Pool, ProxyAgent } = require('undici') as typeof import('undici');
    const ms = options.timeoutMs;
    const steps = { headersTimeout: ms, bodyTimeout: ms };
    const proxy = proxyFor(new URL(uri).host, policy);
    const base: Dispatcher = proxy
        ? new ProxyAgent({
            uri: proxy.href,
            ...steps,
            // TCP (and TLS, for an https:// proxy) connect to the proxy.
            proxyTls: { timeout: ms },
            // TLS handshake with the wiki through the tunnel.
            requestTls: { timeout: ms },
            // The tunnel's CONNECT is an HTTP request to the proxy: bound its answer too, or a
            // proxy that accepts and never answers keeps the socket for undici's default 300 s.
            clientFactory: (origin, opts) => new Pool(origin, { ...opts, ...steps })
        })
        : new Agent({ ...steps, connect: { timeout: ms } });
    return options.hostHeader === undefined ? base : base.compose(withHostHeader(options.hostHeader));
}

function withHostHeader(host: string): Dispatcher.DispatcherComposeInterceptor {
    return (dispatch) => (opts, handler) => {
        const h = opts.headers;
        let headers: Dispatcher.DispatchOptions['headers'];
        if (Array.isArray(h)) {
            headers = [...(h), 'host', host];
        } else if (h && typeof (h as Iterable<unknown>)[Symbol.iterator] === 'function') {
            headers = [...(h as Iterable<[string, string]>)].flat().concat(['host', host]);
        } else {
            headers = { ...(h as Record<string, string> | undefined), host };
        }
        return dispatch({ ...opts, headers }, handler);
    };
}
