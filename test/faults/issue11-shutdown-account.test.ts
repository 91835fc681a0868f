import assert from 'node:assert/strict';
import { tokenFingerprint } from '../../src/logging/redact';
import { apnsTokenLabel } from '../fakes/apns-server';
import { metricValue } from '../helpers/metrics';
import { FINISHED, push, Rig, settled, startRig, tokens, until } from './harness';

/**
 * Issue 11 §4 in-process, where the metrics outlive the drain (the process-level test,
 * test/process/shutdown-account.test.ts, runs the same cases under SIGTERM and reads the log):
 * the service's close() (what service-runner awaits) drains within shutdown_timeout, and its
 * account is per token: tokens answered before the deadline are delivered, only the ones
 * still unanswered are undelivered; deletions the mass-deletion guard still holds are counted
 * in shutdown_deletions_lost_total{where="guard"} and reported with their fingerprints.
 */
describe('issue 11 §4: the shutdown account, in-process (metrics after close)', function () {
    this.timeout(30_000);
    let rig: Rig | undefined;
    afterEach(async () => {
        await rig?.close();
        rig = undefined;
    });

    function shutdownLines(r: Rig, msg: string): Record<string, unknown>[] {
        return r.svc.logger.entries.filter((e) => e.component === 'shutdown' && String((e.entry as { msg?: unknown }).msg).includes(msg))
            .map((e) => e.entry as Record<string, unknown>);
    }

    it('100 APNs tokens, 5 never answered, drained: shutdown_undelivered_total 5, 95 delivered, each token finished once', async () => {
        rig = await startRig({
            apns: { requestTimeoutMs: 60_000 }, // the hung ones are still in flight at the deadline
            conf: { shutdown_timeout: 4, queueing: { flushTimeoutMs: 60_000, maxSize: 100_000, maxQueuedTokens: 5000 } }
        });
        const hung = tokens('apns', 'hang-', 5);
        const ok = tokens('apns', 'ok-', 95);
        await push(rig, 'apns', [...ok.slice(0, 40), ...hung, ...ok.slice(40)]);
        assert.equal(rig.fakes.apns.counters.requests, 0, 'still queued');
        await rig.svc.close();

        assert.equal(rig.fakes.apns.counters.delivered, 95);
        assert.equal(rig.fakes.apns.counters.hung, 5);
        assert.equal(await metricValue('push_notifications_shutdown_undelivered_total', { provider: 'apns' }), 5);
        assert.equal(await metricValue(FINISHED, { provider: 'apns', result: 'delivered' }), 95);
        assert.equal(await metricValue(FINISHED, { provider: 'apns', result: 'shutdown' }), 5);
        assert.equal(await metricValue(FINISHED, { provider: 'apns' }), 100, 'each accepted token finished exactly once');
        assert.deepEqual(shutdownLines(rig, 'undelivered at the shutdown deadline').map((e) => [e.provider, e.count]), [['apns', 5]]);
        assert.equal(shutdownLines(rig, 'stopped')[0].undelivered, 5);
        assert.deepEqual(rig.fakes.apns.received.map((r) => apnsTokenLabel(r.token)).filter((l) => l.startsWith('hang-')).length, 5);
    });

    it('deletions held by a tripped guard at close: shutdown_deletions_lost_total{where="guard"} and the report, with fingerprints', async () => {
        rig = await startRig({ deletionGuard: { minDeadTokens: 10, maxDeadRatio: 0.5 } });
        const dead = tokens('fcm', 'dead-', 60);
        await push(rig, 'fcm', dead);
        await settled('fcm', 60);
        await until('the guard tripped', async () => await metricValue('push_notifications_deletion_guard_tripped', { provider: 'fcm' }) === 1);
        const held = await metricValue('push_notifications_deletions_held_tokens', { provider: 'fcm' });
        assert.ok(held > 0, 'deletions are held');
        await rig.svc.close();

        assert.equal(await metricValue('push_notifications_shutdown_deletions_lost_total', { provider: 'fcm', where: 'guard' }), held);
        const lost = shutdownLines(rig, 'held by the mass-deletion guard are lost at exit');
        assert.equal(lost.length, 1);
        assert.equal(lost[0].count, held);
        const ours = new Set(dead.map(tokenFingerprint));
        const shown = (lost[0].tokens as string[]).filter((f) => !f.startsWith('(+'));
        assert.ok(shown.length > 0 && shown.every((f) => ours.has(f)), JSON.stringify(lost[0].tokens));
        assert.equal(shutdownLines(rig, 'stopped')[0].deletionsHeld, held);
        const text = rig.svc.logger.text();
        assert.ok(dead.every((t) => !text.includes(t)), 'no full token logged');
        // The deletions that passed before the guard tripped were sent during the drain: none lost there.
        assert.equal(await metricValue('push_notifications_shutdown_deletions_lost_total', { where: 'outbox' }), 0);
        assert.equal(rig.wiki.deletedTokens.length + held, dead.length, 'every dead token either deleted or reported lost');
    });
});
