import assert from 'node:assert/strict';
import { tokenFingerprint } from '../../src/logging/redact';
import { metricValue } from '../helpers/metrics';
import { ANSWERS, checkInvariants, Provider, push, Rig, settled, sleep, startRig, tokens } from './harness';

/**
 * Issue 11 §5: one event, one error line. A provider configuration error (credentials the
 * provider refuses) in one provider call is logged exactly ONCE at error level in the whole
 * service log (not once by the provider and again by the dispatcher, and not zero times),
 * and that one line has what an operator needs: the provider, the reason, how many tokens,
 * and a few token fingerprints (never a full token). Nothing else above debug mentions it.
 */
describe('issue 11 §5: one configuration error, one error line', function () {
    this.timeout(30_000);
    let rig: Rig | undefined;
    afterEach(async () => {
        await rig?.close();
        rig = undefined;
    });

    async function oneErrorLine(r: Rig, provider: Provider, reason: string, failing: readonly string[], ok: readonly string[]): Promise<void> {
        await settled(provider, failing.length + ok.length);
        await sleep(100);
        assert.equal(await metricValue(ANSWERS, { provider, outcome: 'config_error', reason }), failing.length, `${provider}: config_error ${reason}`);
        assert.equal(await metricValue(ANSWERS, { provider, outcome: 'delivered' }), ok.length, 'the neighbours were delivered');

        const errors = r.svc.logger.at('error');
        assert.equal(errors.length, 1, `exactly one error line in the whole log: ${JSON.stringify(errors)}`);
        const line = errors[0].entry as Record<string, unknown>;
        assert.equal(line.provider, provider);
        assert.equal(line.reason, reason);
        assert.equal(line.count, failing.length);
        const shown = line.tokens as string[];
        assert.ok(Array.isArray(shown) && shown.length > 0, 'token fingerprints');
        const fingerprints = new Set(failing.map(tokenFingerprint));
        for (const f of shown.filter((s) => !s.startsWith('(+'))) {
            assert.ok(fingerprints.has(f), `${f} is the fingerprint of a failing token`);
        }
        assert.equal(typeof line.msg, 'string');

        // Nothing else (info and up) tells the same event again.
        const others = r.svc.logger.entries.filter((e) => e.level !== 'debug' && e.level !== 'trace' && e !== errors[0] &&
            JSON.stringify(e.entry).includes(reason));
        assert.deepEqual(others, [], 'the same event logged again');
        const text = r.svc.logger.text();
        for (const t of [...failing, ...ok]) {
            assert.ok(!text.includes(t), 'a full device token was logged');
        }
        assert.deepEqual(r.wiki.deleteCalls, [], 'a config error is never deleted');
        await checkInvariants(r);
    }

    it('APNs 403 InvalidProviderToken (auth-)', async () => {
        rig = await startRig();
        const failing = tokens('apns', 'auth-', 7);
        const ok = tokens('apns', 'ok-', 3);
        await push(rig, 'apns', [...failing, ...ok]);
        await oneErrorLine(rig, 'apns', 'InvalidProviderToken', failing, ok);
    });

    it('FCM 401 THIRD_PARTY_AUTH_ERROR (auth-)', async () => {
        rig = await startRig();
        const failing = tokens('fcm', 'auth-', 7);
        const ok = tokens('fcm', 'ok-', 3);
        await push(rig, 'fcm', [...failing, ...ok]);
        await oneErrorLine(rig, 'fcm', 'THIRD_PARTY_AUTH_ERROR', failing, ok);
    });

    it('Web Push 403 BadJwtToken, refused again after a re-signed JWT (auth-)', async () => {
        rig = await startRig();
        const failing = [1, 2, 3, 4].map(() => rig!.fakes.webpush.createSubscription('auth-').token);
        const ok = [rig.fakes.webpush.createSubscription('').token];
        await push(rig, 'webpush', [...failing, ...ok]);
        await oneErrorLine(rig, 'webpush', 'http-403', failing, ok);
    });
});
