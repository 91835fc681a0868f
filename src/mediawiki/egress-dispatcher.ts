import { ProxyAgent } from 'undici';
import type { EgressConfig } from '../config/sections/egress';

/**
 * The undici dispatcher for calls to `uri`: the egress HTTP CONNECT proxy, unless there is
 * none or the host is on `no_proxy_list` (exact host, or a '.suffix' domain). Undefined means
 * fetch's default direct connection.
 */
export function egressDispatcher(uri: string, egress: EgressConfig): ProxyAgent | undefined {
    if (!egress.proxy) {
        return undefined;
    }
    const host = new URL(uri).hostname.toLowerCase();
    if (isNoProxyHost(host, egress.no_proxy_list)) {
        return undefined;
    }
    return new ProxyAgent(egress.proxy);
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
