/**
 * Whether a host is reached directly instead of through the egress proxy. An entry of
 * `no_proxy_list` matches a host exactly, or, when it starts with a dot (`.wmnet`), the
 * domain itself and every host below it. Ports are ignored and matching is case-insensitive,
 * as in the usual NO_PROXY convention. `*` bypasses the proxy for everything.
 */
export function bypassesProxy(host: string, noProxyList: readonly string[]): boolean {
    const h = stripPort(host).toLowerCase().replace(/\.$/, '');
    return noProxyList.some((raw) => {
        const entry = raw.trim().toLowerCase();
        if (entry === '*') {
            return true;
        }
        if (entry.startsWith('.')) {
            return h.endsWith(entry) || h === entry.slice(1);
        }
        return h === stripPort(entry);
    });
}

function stripPort(host: string): string {
    if (host.startsWith('[')) {
        // [v6]:port
        return host.slice(1, host.indexOf(']'));
    }
    const colons = host.split(':').length - 1;
    return colons === 1 ? host.slice(0, host.indexOf(':')) : host;
}
