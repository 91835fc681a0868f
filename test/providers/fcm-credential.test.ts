import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import { createHttpsAgent } from '../../src/egress/agents';
import { JwtBearerCredential, ServiceAccount, TokenExchangeError } from '../../src/providers/fcm/jwt-bearer-credential';
import { ProviderFakes, startProviderFakes } from '../fakes/provider-fakes';
import { until } from './fcm-helpers';

describe('FCM OAuth credential (JWT bearer, RFC 7523) against the fake token endpoint', function () {
    this.timeout(10000);
    let fakes: ProviderFakes;
    let sa: ServiceAccount;
    let agent: http.Agent;
    let now: number;

    function credential(deadlineMs = 2000): JwtBearerCredential {
        return new JwtBearerCredential(sa, `${fakes.fcm.url}/token`, agent, 'ua/1', { deadlineMs, now: () => now });
    }

    before(async () => {
        fakes = await startProviderFakes();
        sa = JSON.parse(readFileSync(fakes.files.serviceAccount, 'utf8')) as ServiceAccount;
        agent = createHttpsAgent({ host: '127.0.0.1', policy: { no_proxy_list: [] }, maxSockets: 2, ca: fakes.tls.ca });
    });
    beforeEach(() => {
        now = Date.now();
        fakes.fcm.reset();
        fakes.fcm.behaviour.oauthStatus = undefined;
    });
    after(async () => {
        agent.destroy();
        await fakes.close();
    });

    it('caches the token; concurrent callers share one exchange', async () => {
        const c = credential();
        const [a, b] = await Promise.all([c.accessToken(), c.accessToken()]);
        assert.equal(a, b);
        assert.equal(await c.accessToken(), a);
        assert.equal(c.current(), a);
        assert.equal(fakes.fcm.counters.oauthExchanges, 1);
    });

    it('refreshes in the background before expiry, handing out the old token meanwhile; waits only once it is stale', async () => {
        const c = credential();
        const first = await c.accessToken();
        // The fake's tokens live 3599 s. 5 minutes before expiry: inside the refresh window.
        now += (3599 - 5 * 60) * 1000;
        assert.equal(c.current(), first, 'the old token is still handed out');
        await until('background refresh', () => fakes.fcm.counters.oauthExchanges === 2);
        await until('background refresh', () => c.current() !== first);
        const second = c.current()!;
        assert.notEqual(second, first);
        // 30 s before expiry nothing is handed out: the caller waits for a new exchange.
        now += (3599 - 30) * 1000;
        assert.equal(c.current(), undefined);
        const third = await c.accessToken();
        assert.notEqual(third, second);
        assert.equal(fakes.fcm.counters.oauthExchanges, 3);
    });

    it('invalidate() drops only the token FCM refused', async () => {
        const c = credential();
        const first = await c.accessToken();
        c.invalidate('some-older-token');
        assert.equal(c.current(), first);
        c.invalidate(first);
        assert.equal(c.current(), undefined);
        const second = await c.accessToken();
        assert.notEqual(second, first);
        assert.equal(fakes.fcm.counters.oauthExchanges, 2);
    });

    it('a refused exchange is "rejected", an unavailable one "unavailable"; a failure is held for a second, not retried per caller', async () => {
        fakes.fcm.behaviour.oauthStatus = 400;
        const c = credential();
        await assert.rejects(c.accessToken(), (e: unknown) => e instanceof TokenExchangeError && e.failure === 'rejected' && /answered 400: forced/.test(e.message));
        await assert.rejects(c.accessToken(), (e: unknown) => e instanceof TokenExchangeError && e.failure === 'rejected');
        assert.equal(fakes.fcm.counters.oauthExchanges, 1, 'the second caller got the held failure');
        now += 1500;
        fakes.fcm.behaviour.oauthStatus = 503;
        await assert.rejects(c.accessToken(), (e: unknown) => e instanceof TokenExchangeError && e.failure === 'unavailable');
        assert.equal(fakes.fcm.counters.oauthExchanges, 2);
        now += 1500;
        fakes.fcm.behaviour.oauthStatus = undefined;
        assert.match(await c.accessToken(), /^ya29\.fake-/);
    });

    it('a key the endpoint does not accept (bad signature) is "rejected" with Google\'s reason', async () => {
        const { generateKeyPairSync } = await import('node:crypto');
        const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
        const c = new JwtBearerCredential({ ...sa, private_key: other }, `${fakes.fcm.url}/token`, agent, 'ua/1', { deadlineMs: 2000 });
        await assert.rejects(c.accessToken(), (e: unknown) => e instanceof TokenExchangeError && e.failure === 'rejected'
            && /invalid_grant: Invalid JWT Signature/.test(e.message));
    });
});
