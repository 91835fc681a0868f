import { Agent, Dispatcher, ProxyAgent } from 'undici';
import type { EgressConfig } from '../config/sections/egress';

/**
 * The undici dispatcher for calls to `uri`: the egress HTTP CONNECT proxy, unless there is
 * none or the host is on `no_proxy_list` (exact host, or a '.suffix' domain).
 *
 * `hostHeader` is for `mwapi_req.headers.host` (Wikimedia production calls a local service
 * mesh port with `Host: meta.wikimedia.org`). fetch silently drops a Host header, as the
 * Fetch spec says, so it is set here, below fetch. Undefined means fetch's default.
 */
export function egressDispatcher(uri: string, egress: EgressConfig, hostHeader?: string): Dispatcher | undefined {
    const host = new URL(uri).hostname.toLowerCase();
    const viaProxy = egress.proxy !== undefined && !isNoProxyHost(host, egress.no_proxy_list);
    if (!viaProxy && hostHeader === undefined) {
        return undefined;
    }
    const base: Dispatcher = viaProxy ? new ProxyAgent(egress.proxy) : new Agent();
    return hostHeader === undefined ? base : base.compose(withHostHeader(hostHeader));
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

export function isNoProxyHost(host: string, noProxyList: readonly string[]): boolean {
    return noProxyList.some((entry) => {
        const e = entry.toLowerCase();
        if (e === '*') {
            return true;
        }
        if (e.startsWith('.')) {
            return host === e.slice(1) || host.endsWith(e);
        }
        return host === e;
    });
}
