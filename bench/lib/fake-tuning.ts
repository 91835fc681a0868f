import type { FakeApnsServer } from '../../test/fakes/apns-server';

/**
 * The fake APNs verifies the ES256 provider JWT on EVERY request (crypto verify, ~130 µs):
 * profiled, that made the fake, not the service, the bottleneck of the delivery benchmark
 * (25% of the fake's process in `verify`). Apple checks a provider token far less often than
 * per request, and node-apn reuses one token for ~55 minutes, so the benchmark memoises the
 * fake's verdict per distinct Authorization header: the first request with a JWT still gets
 * the full check, every later one the same verdict. Tests keep the uncached fake.
 */
export function cacheApnsJwtChecks(fake: FakeApnsServer): void {
    const target = fake as unknown as { checkJwt?: (authorization: string | undefined) => string | undefined };
    const original = target.checkJwt;
    if (typeof original !== 'function') {
        return; // the fake changed shape: run uncached rather than fail
    }
    const verdicts = new Map<string, string | undefined>();
    target.checkJwt = (authorization) => {
        if (authorization === undefined) {
            return original.call(fake, authorization);
        }
        if (verdicts.has(authorization)) {
            return verdicts.get(authorization);
        }
        const verdict = original.call(fake, authorization);
        if (verdict !== 'ExpiredProviderToken') {
            verdicts.set(authorization, verdict);
        }
        return verdict;
    };
}
