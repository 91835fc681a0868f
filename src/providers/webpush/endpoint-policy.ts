import * as dns from 'node:dns';
import { isIP, LookupFunction } from 'node:net';
import * as ipaddr from 'ipaddr.js';

/**
 * Which push endpoints may be contacted. The endpoint is chosen by the browser (or by whoever
 * stored the "subscription"), so it is untrusted input that names a URL we will POST to:
 * classic SSRF. Four layers, as recommended for Web Push gateways (Sygnal's
 * `allowed_endpoints`, Campfire's public-IP pinning, Synapse's IP blocklist):
 *
 * 1. static, before anything is sent: https (checked by the subscription syntax), port 443,
 *    no userinfo, no IP-literal host, and the host matches `allowedEndpoints`;
 * 2. at connect time, on direct connections: every address the name resolves to must be
 *    public unicast (see `isPublicAddress`), checked inside the socket's own `lookup`, so the
 *    address checked is the address connected to (DNS rebinding cannot slip in between);
 * 3. through the egress proxy the proxy resolves the name: the allow-list guards that path,
 *    and the proxy's own (often private) address stays reachable;
 * 4. redirects are never followed (node's https.request does not; a 3xx is a config error).
 *
 * A refused endpoint is never contacted; the provider reports it as config_error with reason
 * `endpoint_not_allowed` (never deleted: the subscription may be fine and our list too narrow;
 * never retried forever: config errors are not).
 */
export interface EndpointPolicyOptions {
    /** Host globs (see WebPushConfig.allowedEndpoints). */
    readonly allowedEndpoints: readonly string[];
    /** Loopback `host:port` pairs exempt for tests (see WebPushConfig.testOnlyLoopbackEndpoints). */
    readonly testOnlyLoopbackEndpoints: readonly string[];
}

export type EndpointDecision =
    /** `origin`: RFC 6454 serialisation (the VAPID `aud`, the agent pool key); `loopbackExempt`: a test-only endpoint. */
    | { readonly ok: true; readonly origin: string; readonly loopbackExempt: boolean }
    /** `detail`: why, for the operator's error line (never the token). */
    | { readonly ok: false; readonly detail: string };

/** The error a socket's lookup fails with when a name resolves to a non-public address. */
export class EndpointNotAllowedError extends Error {
    readonly code = 'ENDPOINT_NOT_ALLOWED';
    constructor(message: string) {
        super(message);
        this.name = 'EndpointNotAllowedError';
    }
}

export class EndpointPolicy {
    private readonly globs: readonly RegExp[];
    private readonly exempt: ReadonlySet<string>;

    constructor(options: EndpointPolicyOptions) {
        this.globs = options.allowedEndpoints.map(globToRegExp);
        this.exempt = new Set(options.testOnlyLoopbackEndpoints.map((e) => e.toLowerCase()));
    }

    /** The static checks (layer 1) for an https endpoint URL. */
    check(endpoint: URL): EndpointDecision {
        if (endpoint.protocol !== 'https:') {
            return { ok: false, detail: 'endpoint is not https' };
        }
        if (endpoint.username !== '' || endpoint.password !== '') {
            return { ok: false, detail: 'endpoint has userinfo' };
        }
        const host = endpoint.hostname.toLowerCase();
        if (this.exempt.size > 0 && this.exempt.has(`${host}:${endpoint.port || '443'}`)) {
            return { ok: true, origin: endpoint.origin, loopbackExempt: true };
        }
        if (endpoint.port !== '' && endpoint.port !== '443') {
            return { ok: false, detail: `endpoint port ${endpoint.port} (only 443)` };
        }
        if (isIP(bareHost(host)) !== 0) {
            return { ok: false, detail: 'endpoint host is an IP address' };
        }
        if (!this.globs.some((g) => g.test(host))) {
            return { ok: false, detail: `endpoint host ${host} is not in allowedEndpoints` };
        }
        return { ok: true, origin: endpoint.origin, loopbackExempt: false };
    }
}

/** `*` matches one or more host-name characters (dots included); everything else literally. */
function globToRegExp(glob: string): RegExp {
    const body = glob.toLowerCase().split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')).join('[a-z0-9.-]+');
    return new RegExp(`^${body}$`);
}

function bareHost(host: string): string {
    return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/**
 * The ipaddr.js range of an address ('unicast' for public unicast; 'private', 'loopback',
 * 'linkLocal', 'carrierGradeNat', 'uniqueLocal', 'ipv4Mapped', 'reserved', ... otherwise), or
 * 'invalid'.
 */
export function addressRange(address: string): string {
    try {
        return ipaddr.parse(address).range();
    } catch {
        return 'invalid';
    }
}

/**
 * True only for public unicast addresses: not loopback (127/8, ::1), private (RFC 1918),
 * link-local (169.254/16 with the cloud metadata address 169.254.169.254, fe80::/10), CGNAT
 * (100.64/10, with Alibaba's metadata 100.100.100.200), unique-local (fc00::/7), IPv4-mapped
 * (::ffff:0:0/96), unspecified, multicast, broadcast, documentation, benchmarking, 6to4,
 * Teredo, NAT64 or other reserved ranges. An allow-list of one range (ipaddr.js `unicast`),
 * not a deny-list, so a range forgotten here is refused, not let through.
 */
export function isPublicAddress(address: string): boolean {
    return addressRange(address) === 'unicast';
}

/** dns.lookup's shape, for injection in tests. */
export type DnsLookup = (hostname: string, options: dns.LookupAllOptions,
    callback: (err: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void) => void;

const systemLookup: DnsLookup = (hostname, options, callback) => dns.lookup(hostname, options, callback);

/**
 * A socket `lookup` (net.connect's option) that resolves through `base` and fails with
 * EndpointNotAllowedError unless EVERY address is public (or, for a test-only exempt origin,
 * loopback). Refusing the whole answer when any address is private stops an attacker's name
 * from mixing a public address with an inside one.
 */
export function publicOnlyLookup(base: DnsLookup = systemLookup, allowLoopback = false): LookupFunction {
    const allowed = (a: string): boolean => isPublicAddress(a) || (allowLoopback && addressRange(a) === 'loopback');
    return ((hostname: string, options: dns.LookupOptions, callback: (...args: unknown[]) => void) => {
        base(hostname, { family: options.family, hints: options.hints, all: true }, (err, addresses) => {
            if (err) {
                callback(err);
                return;
            }
            const refused = addresses.find((a) => !allowed(a.address));
            if (refused) {
                callback(new EndpointNotAllowedError(`${hostname} resolves to a non-public ${addressRange(refused.address)} address ${refused.address}`));
                return;
            }
            if (addresses.length === 0) {
                callback(Object.assign(new Error(`${hostname} resolved to no address`), { code: 'ENOTFOUND' }));
                return;
            }
            if (options.all) {
                callback(null, addresses);
            } else {
                callback(null, addresses[0].address, addresses[0].family);
            }
        });
    }) as LookupFunction;
}
