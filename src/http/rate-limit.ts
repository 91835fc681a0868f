import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';
import { RateLimiterConfig } from '../config/sections/operations';
import { HttpProblem } from './problem';

/**
 * Inbound rate limit per client (the original's `express_rate_limiter: {windowMs, max}`): a
 * fixed window, keyed by the client address. A plain check like the bearer check, run on the
 * same path for every message route whether it is configured or not: undefined when the
 * request may pass, else the 429 (with Retry-After, seconds to the end of the window).
 *
 * The client address follows `trust_proxy` exactly as express's 'trust proxy' setting does
 * (true, a hop count, or addresses/subnets), through proxy-addr, which express itself uses.
 * Memory: one entry per client seen in the current window; the map is dropped when the
 * window turns over. The limit is per worker process: with num_workers N, a client may send
 * up to N * max.
 */
export function rateLimitCheck(config: RateLimiterConfig, trustProxy: boolean | number | string,
    now: () => number = Date.now): (req: IncomingMessage) => HttpProblem | undefined {
    const trust = compileTrust(trustProxy);
    let windowStart = -1;
    let counts = new Map<string, number>();
    return (req) => {
        const t = now();
        const start = t - (t % config.windowMs);
        if (start !== windowStart) {
            windowStart = start;
            counts = new Map();
        }
        const client = proxyaddr(req, trust);
        const n = (counts.get(client) ?? 0) + 1;
        counts.set(client, n);
        if (n <= config.max) {
            return undefined;
        }
        const retryAfter = Math.max(1, Math.ceil((windowStart + config.windowMs - t) / 1000));
        return new HttpProblem(429, `More than ${config.max} requests in ${config.windowMs} ms; retry after Retry-After seconds`,
            { headers: { 'Retry-After': String(retryAfter) } });
    };
}

/** express's compileTrust: the same meaning for the same `trust_proxy` value. */
function compileTrust(val: boolean | number | string): (addr: string, i: number) => boolean {
    if (val === true) {
        return () => true;
    }
    if (typeof val === 'number') {
        return (_addr, i) => i < val;
    }
    if (typeof val === 'string') {
        return proxyaddr.compile(val.split(',').map((v) => v.trim()));
    }
    return proxyaddr.compile([]);
}
