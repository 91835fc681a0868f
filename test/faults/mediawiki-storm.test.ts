import assert from 'node:assert/strict';
import { metricValue } from '../helpers/metrics';
import { checkInvariants, label, messages, MW_DELETIONS, push, Rig, settled, sleep, startRig, tokens, until } from './harness';

/**
 * The deletion side under faults: the wiki down for a long stretch (deletions wait in the
 * outbox and complete afterwards, exactly the dead tokens, each once), and a provider storm
 * where every answer is "dead" (the mass-deletion guard trips and not one deletion reaches
 * the wiki).
 */
describe('faults: MediaWiki outage and dead-token storm', function () {
    this.timeout(30_000);
    let rig: Rig | undefined;
    afterEach(async () => {
        await rig?.close();
        rig = undefined;
    });

    it('MediaWiki down (503 HTML) for a long stretch, then back: every dead token deleted afterwards, nothing else', async () => {
        rig = await startRig();
        const { wiki } = rig;
        wiki.setOutage(true);
        const deadApns = [...tokens('apns', 'dead-', 8), ...tokens('apns', 'bad-', 2)];
        const deadFcm = [...tokens('fcm', 'dead-', 8), ...tokens('fcm', 'invalid-', 2)];
        const alive = { apns: tokens('apns', 'ok-', 10), fcm: tokens('fcm', 'ok-', 10) };
        await push(rig, 'apns', [...deadApns, ...alive.apns]);
        await push(rig, 'fcm', [...deadFcm, ...alive.fcm]);
        await settled('apns', 20);
        await settled('fcm', 20);
        // "Long" relative to the outbox backoff (20..200 ms): many failed rounds, and the
        // session is lost in the middle of it, as a wiki restart would do.
        await until('several failed delete rounds', async () => await metricValue(MW_DELETIONS, { result: 'retried' }) >= 60);
        wiki.expireSessions();
        await sleep(500);
        assert.equal(wiki.deletedTokens.length, 0, 'nothing deleted while the wiki is down');
        assert.equal(await metricValue('push_notifications_mediawiki_outbox_tokens'), 20, 'all 20 held in the outbox');
        wiki.setOutage(false);
        await until('outbox drained', async () => await metricValue('push_notifications_mediawiki_outbox_tokens') === 0);

        assert.deepEqual([...wiki.deletedTokens].sort(), [...deadApns, ...deadFcm].sort(), 'exactly the dead tokens, each once');
        assert.equal(await metricValue(MW_DELETIONS, { result: 'requested' }), 20);
        assert.equal(await metricValue(MW_DELETIONS, { result: 'succeeded' }), 20);
        assert.equal(await metricValue(MW_DELETIONS, { result: 'gave_up' }), 0);
        assert.equal(await metricValue(MW_DELETIONS, { result: 'dropped' }), 0);
        assert.equal(await messages('apns', 'delivered'), 10);
        assert.equal(await messages('fcm', 'delivered'), 10);
        await checkInvariants(rig, [...deadApns, ...deadFcm]);
    });

    it('everything comes back dead (more than minDeadTokens): the guard trips, NO deletion reaches the wiki', async () => {
        rig = await startRig({ deletionGuard: { minDeadTokens: 50, maxDeadRatio: 0.5 } });
        const { wiki } = rig;
        // A wrong APNs environment / Firebase project: every token dead, 120 per provider.
        const apns = tokens('apns', 'dead-', 120);
        const fcm = tokens('fcm', 'dead-', 120);
        await push(rig, 'apns', apns);
        await push(rig, 'fcm', fcm);
        await settled('apns', 120);
        await settled('fcm', 120);
        await sleep(300); // longer than the outbox's batch wait: a deletion would have gone by now

        assert.equal(await messages('apns', 'dead'), 120);
        assert.equal(await messages('fcm', 'dead'), 120);
        assert.deepEqual(wiki.deletedTokens.map(label).map((t) => t.slice(0, 5)), [], 'no deletion reached the wiki');
        for (const provider of ['apns', 'fcm']) {
            assert.equal(await metricValue('push_notifications_deletion_guard_tripped', { provider }), 1, `${provider} guard tripped`);
            assert.equal(await metricValue('push_notifications_deletions_held_tokens', { provider }), 120, `${provider} deletions held`);
        }
        assert.deepEqual(wiki.deleteCalls, [], 'no delete call reached the wiki');
        assert.equal(wiki.requests.filter((r) => r.action === 'echopushsubscriptions').length, 0);
        assert.equal(await metricValue(MW_DELETIONS, { result: 'requested' }), 0);
        assert.ok(rig.svc.logger.at('error').some((e) => JSON.stringify(e.entry).includes('mass-deletion guard tripped')));
        await checkInvariants(rig, []);
    });

    it('delivery.deletionGuard.logOnly: dead tokens are logged by fingerprint, NO deletion reaches the wiki', async () => {
        rig = await startRig({ deletionGuard: { logOnly: true } });
        const { wiki } = rig;
        const dead = tokens('fcm', 'dead-', 5);
        await push(rig, 'fcm', [...dead, ...tokens('fcm', 'ok-', 5)]);
        await settled('fcm', 10);
        await sleep(300); // longer than the outbox's batch wait: a deletion would have gone by now

        assert.equal(await messages('fcm', 'dead'), 5);
        assert.deepEqual(wiki.requests, [], 'the wiki was never called, not even to log in');
        assert.equal(await metricValue(MW_DELETIONS, { result: 'requested' }), 0);
        const text = rig.svc.logger.text();
        assert.ok(text.includes('would delete'), 'what would be deleted is logged');
        for (const t of dead) {
            assert.ok(!text.includes(t), 'a full device token was logged');
        }
        await checkInvariants(rig, []);
    });
});
