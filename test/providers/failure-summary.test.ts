import assert from 'node:assert/strict';
import { apnsToken } from '../fakes/apns-server';
import { startProviderFakes, ProviderFakes } from '../fakes/provider-fakes';
import { batch, configFor, createProviders, newLogger, sendAll } from './helpers';

/** A configuration error fails every token; the log must still say it once per call, not per token. */
describe('provider failure logging', function () {
    let fakes: ProviderFakes;
    before(async () => {
        fakes = await startProviderFakes();
    });
    after(async () => {
        await fakes.close();
    });

    for (const provider of ['apns', 'fcm'] as const) {
        it(`${provider}: 120 refused tokens make one error line with the count, no full token`, async () => {
            const logger = newLogger();
            const providers = createProviders({ config: configFor(fakes), logger });
            try {
                const label = (i: number) => `auth-${String(i).padStart(provider === 'apns' ? 20 : 60, '0')}`;
                const tokens = Array.from({ length: 120 }, (_, i) => (provider === 'apns' ? apnsToken(label(i)) : label(i)));
                const results = await sendAll(providers[provider], batch(provider, tokens));
                assert.equal(results.filter((r) => r.outcome === 'config_error').length, 120);
                const lines = logger.at('error').filter((e) => e.component === provider);
                // One event, one error line: per call, with the count (issue 11 §5).
                assert.equal(lines.length, 1, `${lines.length} error lines`);
                const counted = lines.reduce((n, e) => n + (e.entry as { count: number }).count, 0);
                assert.equal(counted, 120);
                assert.ok(!logger.text().includes(tokens[0]), 'a full token was logged');
            } finally {
                await Promise.all([providers.fcm.close(), providers.apns.close()]);
            }
        });
    }
});
