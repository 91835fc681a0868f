import Module = require('node:module');
import * as path from 'node:path';

/**
 * Idle memory: service-runner requires `limitation` (its cluster-wide rate limiter, which pulls
 * in a Kademlia DHT) when it loads, whether or not `ratelimiter` is configured; it only ever
 * constructs one when it is (service-runner's master.js and worker.js: `if (config.ratelimiter)`).
 * We never configure it (our inbound rate limit is src/http/rate-limit.ts), and loading it costs
 * about 13 MB of RSS per process. So, before service-runner is loaded, its `require('limitation')`
 * is answered from the module cache (a documented Node API, require.cache) with a stand-in that
 * loads the real module on first construction: nothing changes if it is ever used.
 *
 * Imported for its effect, first, by src/server.ts (the production launcher).
 */
function installLazyLimitation(): void {
    let resolved: string;
    try {
        const runner = require.resolve('service-runner');
        resolved = require.resolve('limitation', { paths: [path.dirname(runner)] });
    } catch {
        return; // service-runner's layout changed: leave it to load what it loads
    }
    if (require.cache[resolved]) {
        return;
    }
    const stub = new Module(resolved);
    stub.filename = resolved;
    stub.loaded = true;
    stub.exports = function LazyLimitation(this: unknown, ...args: unknown[]): unknown {
        delete require.cache[resolved];
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const Real = require(resolved) as new (...a: unknown[]) => unknown;
        return new Real(...args);
    };
    require.cache[resolved] = stub;
}

installLazyLimitation();
