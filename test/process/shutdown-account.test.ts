import assert from 'node:assert/strict';
import { tokenFingerprint } from '../../src/logging/redact';
import { apnsToken, apnsTokenLabel } from '../fakes/apns-server';
import { FakeMediaWiki } from '../fakes/mediawiki-server';
import { ProviderFakes, startProviderFakes } from '../fakes/provider-fakes';
import { sumSamples } from '../helpers/metrics';
import { lastMetricsBeforeExit, RunnerProcess, startRunner, waitFor } from '../helpers/processes';

/**
 * Issue 11 §4 at the process level: a real dist/server.js (service-runner, num_workers: 0)
 * under SIGTERM. The service's account of each token must be exact at the shutdown deadline:
 * per token, never per batch. And deletions lost at exit (held by the mass-deletion guard, or
 * still in the outbox) must show in the shutdown report (count and fingerprints), not vanish.
 *
 * The metrics are read from the process's own Prometheus port, scraped until it exits: the
 * last scrape is what it counted during its drain. They are counted at the delivery deadline
 * and the process exits right after its drain, so the window to scrape them is short: in the
 * first test one dead token's deletion, which the wiki never answers, keeps the drain in its
 * MediaWiki phase (until just before shutdown_timeout) after the undelivered tokens are
 * counted. The guard's loss is counted after that phase, with nothing left to wait for, so its
 * metric is checked in-process (test/faults/issue11-shutdown-account.test.ts); here, its log.
 */
const WIKI_USER = 'PushSubscriptionManager@account';
const WIKI_PASSWORD = 'account-test-password';
const SHUTDOWN_TIMEOUT_S = 8;
const PREFIX = 'push_notifications_';

function conf(fakes: ProviderFakes, wiki: FakeMediaWiki, overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        user_agent: 'push-notifications-account-test/1.0 (test@example.org)',
        // Hung requests are still in flight at the shutdown deadline (not timed out before it).
        apns: { ...fakes.conf.apns, requestTimeoutMs: 60_000, shutdownTimeoutMs: 60_000 },
        fcm: fakes.conf.fcm,
        mwapi_req: { uri: wiki.uri },
        mw_subscription_manager_username: WIKI_USER,
        mw_subscription_manager_password: WIKI_PASSWORD,
        shutdown_timeout: SHUTDOWN_TIMEOUT_S,
        ...overrides
    };
}

async function post(port: number, provider: 'apns' | 'fcm', deviceTokens: string[]): Promise<void> {
    const res = await fetch(`http://127.0.0.1:${port}/v1/message/${provider}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ deviceTokens, messageType: 'checkEchoV1' })
    });
    const body = await res.text();
    assert.equal(res.status, 200, `POST /v1/message/${provider}: ${res.status} ${body}`);
}

/** The process's JSON log lines whose msg includes `msg`. */
function logLines(log: string, msg: string): Record<string, unknown>[] {
    return log.split('\n').filter((l) => l.startsWith('{') && l.includes(msg)).map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((e) => String(e.msg).includes(msg));
}

async function stop(p: RunnerProcess): Promise<{ code: number | string; log: string; metrics: string }> {
    const metrics = lastMetricsBeforeExit(p);
    p.child.kill('SIGTERM');
    const code = await Promise.race([p.exited, new Promise<string>((r) => setTimeout(() => r('timeout'), SHUTDOWN_TIMEOUT_S * 1000 + 10_000))]);
    await Promise.race([p.closed, new Promise((r) => setTimeout(r, 3000))]);
    return { code, log: p.output(), metrics: await metrics };
}

describe('issue 11 §4: the shutdown account is exact, per token', function () {
    this.timeout(60_000);
    let fakes: ProviderFakes;
    let wiki: FakeMediaWiki;
    let p: RunnerProcess | undefined;

    beforeEach(async () => {
        fakes = await startProviderFakes();
        wiki = await FakeMediaWiki.start({ everyTokenExists: true, accounts: { [WIKI_USER]: { password: WIKI_PASSWORD } } });
    });

    afterEach(async () => {
        p?.child.kill('SIGKILL');
        p = undefined;
        await Promise.allSettled([fakes.close(), wiki.close()]);
    });

    it('100 APNs tokens, 5 never answered, then SIGTERM: exactly 5 undelivered (log and metric), the 95 delivered', async () => {
        const run = Date.now().toString(36);
        const hung = Array.from({ length: 5 }, (_, i) => `hang-${run}-${i}`);
        const ok = Array.from({ length: 95 }, (_, i) => `ok-${run}-${i}`);
        // A long flush delay: every token is still queued at SIGTERM; the drain sends them.
        p = await startRunner(0, conf(fakes, wiki, {
            queueing: { flushTimeoutMs: 60_000, maxSize: 100_000 },
            mediawiki: { requestTimeoutMs: 60_000 }
        }));
        await waitFor(`http://127.0.0.1:${p.port}/readyz`);
        // One FCM token comes back dead during the drain; the wiki never answers its deletion.
        wiki.setStall('silent', (action) => action === 'echopushsubscriptions');
        const deadFcm = `dead-${run}-fcm`;
        await post(p.port, 'fcm', [deadFcm]);
        // Shuffled into 4 requests: the hung ones share calls (and node-apn sub-chunks) with answered ones.
        const all = [...ok.slice(0, 20), hung[0], ...ok.slice(20, 50), hung[1], hung[2], ...ok.slice(50, 80), hung[3], ...ok.slice(80), hung[4]];
        for (let i = 0; i < all.length; i += 25) {
            await post(p.port, 'apns', all.slice(i, i + 25).map(apnsToken));
        }
        assert.equal(fakes.apns.counters.requests, 0, 'nothing sent before SIGTERM');

        const { code, log, metrics } = await stop(p);
        assert.equal(code, 0, `exit: ${String(code)}\n${log.slice(-4000)}`);
        const got = new Set(fakes.apns.received.map((r) => apnsTokenLabel(r.token)));
        assert.deepEqual([...got].sort(), [...all].sort(), 'every token was sent during the drain');
        assert.equal(fakes.apns.counters.delivered, 95, 'the fake answered 200 to the 95');
        assert.equal(fakes.apns.counters.hung, 5);

        // The log: exactly 5 undelivered, by provider, once.
        const undelivered = logLines(log, 'undelivered at the shutdown deadline');
        assert.deepEqual(undelivered.map((e) => [e.provider, e.count]), [['apns', 5]], log.slice(-4000));
        const stopped = logLines(log, 'stopped');
        assert.equal(stopped.length, 1);
        assert.equal(stopped[0].undelivered, 5);

        // The metrics the process served during its drain: 95 delivered, 5 undelivered, each token once.
        const shutdownLines = log.split('\n').filter((l) => /info\/shutdown|error\/shutdown|node-apn/.test(l)).join('\n');
        assert.ok(metrics.includes(`${PREFIX}tokens_finished_total`), `no metrics scraped during the drain:\n${log.slice(-2000)}`);
        assert.equal(sumSamples(metrics, `${PREFIX}shutdown_undelivered_total`, { provider: 'apns' }), 5, shutdownLines);
        assert.equal(sumSamples(metrics, `${PREFIX}tokens_finished_total`, { provider: 'apns', result: 'delivered' }), 95);
        assert.equal(sumSamples(metrics, `${PREFIX}tokens_finished_total`, { provider: 'apns', result: 'shutdown' }), 5);
        assert.equal(sumSamples(metrics, `${PREFIX}tokens_finished_total`, { provider: 'apns' }), 100, 'each accepted token finished exactly once');
        assert.equal(sumSamples(metrics, `${PREFIX}tokens_accepted_total`, { provider: 'apns' }), 100);

        // The deletion the wiki never answered: reported lost at exit, with its fingerprint.
        assert.equal(wiki.stalledRequests, 1, 'the delete call was made');
        const notSent = logLines(log, 'subscription deletions not sent at the shutdown deadline');
        assert.deepEqual(notSent.map((e) => [e.provider, e.count, e.tokens]), [['fcm', 1, [tokenFingerprint(deadFcm)]]], shutdownLines);
        assert.equal(stopped[0].deletionsPending, 1);
    });

    it('deletions held by a tripped mass-deletion guard at exit: in the shutdown report (count, fingerprints)', async () => {
        const run = Date.now().toString(36);
        p = await startRunner(0, conf(fakes, wiki, {
            queueing: { flushTimeoutMs: 20, maxSize: 500 },
            delivery: { deletionGuard: { minDeadTokens: 10, maxDeadRatio: 0.5, windowMs: 600_000 } }
        }));
        await waitFor(`http://127.0.0.1:${p.port}/readyz`);
        // A wrong Firebase project, as it looks: every FCM token comes back dead.
        const dead = Array.from({ length: 60 }, (_, i) => `dead-${run}-fcm-${i}`);
        await post(p.port, 'fcm', dead);
        const deadline = Date.now() + 20_000;
        while (fakes.fcm.counters.rejected < dead.length && Date.now() < deadline) {
            await new Promise((r) => setTimeout(r, 50));
        }
        assert.equal(fakes.fcm.counters.rejected, dead.length, 'every FCM token answered dead');
        const before = await (await fetch(`http://127.0.0.1:${p.metricsPort}/metrics`)).text();
        assert.equal(sumSamples(before, `${PREFIX}deletion_guard_tripped`, { provider: 'fcm' }), 1, 'the guard tripped');
        const held = sumSamples(before, `${PREFIX}deletions_held_tokens`, { provider: 'fcm' });
        assert.ok(held > 0, 'deletions are held');

        const { code, log } = await stop(p);
        assert.equal(code, 0, `exit: ${String(code)}\n${log.slice(-4000)}`);
        const lost = logLines(log, 'held by the mass-deletion guard are lost at exit');
        assert.equal(lost.length, 1, log.slice(-4000));
        assert.equal(lost[0].provider, 'fcm');
        assert.equal(lost[0].count, held);
        const fingerprints = lost[0].tokens as string[];
        const ours = new Set(dead.map(tokenFingerprint));
        const shown = fingerprints.filter((f) => !f.startsWith('(+'));
        assert.ok(shown.length > 0 && shown.every((f) => ours.has(f)), `fingerprints of the held tokens: ${JSON.stringify(fingerprints)}`);
        for (const t of dead) {
            assert.ok(!log.includes(`${t}"`) && !log.includes(`${t},`), `a full token in the log: ${t}`);
        }
        assert.equal(logLines(log, 'stopped')[0].deletionsHeld, held);
        // Held, so never deleted: what reached the wiki is what passed before the guard tripped.
        assert.equal(wiki.deletedTokens.length + held, dead.length, 'every dead token either deleted or reported lost');
    });
});
