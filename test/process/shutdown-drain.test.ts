import assert from 'node:assert/strict';
import { Agent, request } from 'undici';
import { apnsToken, apnsTokenLabel } from '../fakes/apns-server';
import { FakeMediaWiki } from '../fakes/mediawiki-server';
import { ProviderFakes, startProviderFakes } from '../fakes/provider-fakes';
import { RunnerProcess, startRunner, waitFor, waitForOutput } from '../helpers/processes';

/**
 * SIGTERM to a real service process (dist/server.js under service-runner, both with
 * num_workers: 0 and with forked workers) holding hundreds of queued tokens: the drain must
 * deliver every accepted token to the fake providers and delete the dead ones on the fake
 * wiki BEFORE the process exits, and exit 0 within shutdown_timeout. The fakes run in this
 * test process, so what they received when the service's process exits is the proof.
 */

const WIKI_USER = 'PushSubscriptionManager@drain';
const WIKI_PASSWORD = 'drain-test-password';
const SHUTDOWN_TIMEOUT_S = 20;

/**
 * What was sent, as LABELS: an APNs token is posted as the hex `apnsToken(label)` (APNs tokens
 * must be hex: anything else is dead `invalid_token` and never sent), an FCM token as itself.
 * What the fakes and the wiki saw is compared through `apnsTokenLabel` (see `unique`).
 */
interface Sent {
    readonly apns: string[];
    readonly fcm: string[];
    readonly dead: string[];
}

/** The token to post for a label: hex for APNs, the label itself for FCM. */
const wire = (provider: 'apns' | 'fcm', label: string): string => (provider === 'apns' ? apnsToken(label) : label);

function serviceConf(fakes: ProviderFakes, wiki: FakeMediaWiki, overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        user_agent: 'push-notifications-drain-test/1.0 (test@example.org)',
        apns: fakes.conf.apns,
        fcm: fakes.conf.fcm,
        mwapi_req: { uri: wiki.uri },
        mw_subscription_manager_username: WIKI_USER,
        mw_subscription_manager_password: WIKI_PASSWORD,
        // A long flush delay and a big flush size: every token is still queued at SIGTERM.
        queueing: { flushTimeoutMs: 60000, maxSize: 100000, maxQueuedTokens: 200000 },
        shutdown_timeout: SHUTDOWN_TIMEOUT_S,
        ...overrides
    };
}

async function post(port: number, provider: 'apns' | 'fcm', tokens: string[]): Promise<number> {
    const res = await fetch(`http://127.0.0.1:${port}/v1/message/${provider}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ deviceTokens: tokens, messageType: 'checkEchoV1' })
    });
    await res.arrayBuffer();
    return res.status;
}

/** `requests` requests of `perRequest` tokens to each provider; every 8th token is dead. */
async function sendTokens(port: number, run: string, requests: number, perRequest: number): Promise<Sent> {
    const sent: Sent = { apns: [], fcm: [], dead: [] };
    const calls: Promise<void>[] = [];
    for (const provider of ['apns', 'fcm'] as const) {
        for (let r = 0; r < requests; r++) {
            const tokens: string[] = [];
            for (let i = 0; i < perRequest; i++) {
                const n = r * perRequest + i;
                const token = n % 8 === 0 ? `dead-${run}-${provider}-${n}` : `${run}-${provider}-${n}`;
                tokens.push(token);
            }
            calls.push(post(port, provider, tokens.map((t) => wire(provider, t))).then((status) => {
                assert.equal(status, 200, `POST /v1/message/${provider} answered ${status}`);
                sent[provider].push(...tokens);
                sent.dead.push(...tokens.filter((t) => t.startsWith('dead-')));
            }));
        }
    }
    await Promise.all(calls);
    return sent;
}

/** Polls /readyz until the process is gone; records what it saw. */
function watchReadiness(port: number, stop: () => boolean): Promise<string[]> {
    const seen: string[] = [];
    return (async () => {
        while (!stop()) {
            try {
                const res = await fetch(`http://127.0.0.1:${port}/readyz`);
                await res.arrayBuffer();
                seen.push(String(res.status));
            } catch {
                seen.push('refused');
            }
            await new Promise((r) => setTimeout(r, 20));
        }
        return seen;
    })();
}

/** Ready to take traffic: with workers, all of them (service-runner starts them one by one). */
async function started(p: RunnerProcess, workers: number): Promise<void> {
    await waitFor(`http://127.0.0.1:${p.port}/readyz`);
    if (workers > 0) {
        await waitForOutput(p, /startup finished/);
    }
}

/** How many tokens each process said it held when its drain began. */
function queuedAtDrain(log: string): number[] {
    return log.split('\n').filter((l) => l.includes('"draining: readiness is 503')).map((l) => (JSON.parse(l) as { queued: number }).queued);
}

function exitWithin(p: RunnerProcess, ms: number): Promise<number | string> {
    return Promise.race([p.exited, new Promise<string>((r) => setTimeout(() => r('timeout'), ms))]);
}

/** All of the process's output ('exit' may come before the last lines were read). */
async function fullOutput(p: RunnerProcess): Promise<string> {
    await Promise.race([p.closed, new Promise((r) => setTimeout(r, 3000))]);
    return p.output();
}

/** The labels of this run's tokens among `tokens` (APNs hex tokens decoded, others as they are). */
const unique = (tokens: readonly string[], run: string): Set<string> =>
    new Set(tokens.map(apnsTokenLabel).filter((t) => t.includes(`${run}-`)));

/** The provider fakes and a fake wiki where every token exists, as each test group needs. */
async function startFakesAndWiki(): Promise<{ fakes: ProviderFakes; wiki: FakeMediaWiki }> {
    const fakes = await startProviderFakes();
    const wiki = await FakeMediaWiki.start({ everyTokenExists: true, accounts: { [WIKI_USER]: { password: WIKI_PASSWORD } } });
    return { fakes, wiki };
}

async function closeFakesAndWiki(fakes: ProviderFakes | undefined, wiki: FakeMediaWiki | undefined): Promise<void> {
    await Promise.allSettled([fakes?.close(), wiki?.close()]);
}

for (const workers of [0, 2]) {
    describe(`shutdown drain with num_workers: ${workers}`, function () {
        this.timeout(90000);
        let fakes: ProviderFakes;
        let wiki: FakeMediaWiki;

        before(async () => {
            ({ fakes, wiki } = await startFakesAndWiki());
        });

        after(() => closeFakesAndWiki(fakes, wiki));

        it('delivers every queued token and deletes the dead ones before exiting 0', async () => {
            const run = `w${workers}r${Date.now().toString(36)}`;
            // Real round trips take time: the drain must outlast service-runner's own exit
            // path (which waits only ~100 ms), so a drain that is not awaited shows up here.
            fakes.apns.behaviour.delayMs = 150;
            fakes.fcm.behaviour.delayMs = 150;
            wiki.setLatency(150);
            const p = await startRunner(workers, serviceConf(fakes, wiki), { detached: true });
            try {
                await started(p, workers);
                // 2 providers × 40 requests × 10 tokens = 800 tokens, 100 of them dead.
                const sent = await sendTokens(p.port, run, 40, 10);
                await new Promise((r) => setTimeout(r, 300));
                assert.equal(unique(fakes.apns.received.map((n) => n.token), run).size, 0, 'nothing delivered before SIGTERM');
                assert.equal(unique(fakes.fcm.received.map((m) => m.token), run).size, 0, 'nothing delivered before SIGTERM');

                let gone = false;
                const readiness = watchReadiness(p.port, () => gone);
                const t0 = Date.now();
                p.child.kill('SIGTERM');
                const code = await exitWithin(p, SHUTDOWN_TIMEOUT_S * 1000 + 5000);
                const took = Date.now() - t0;
                gone = true;
                // Snapshot at the moment the process exited: nothing may arrive afterwards.
                const apnsGot = unique(fakes.apns.received.map((n) => n.token), run);
                const fcmGot = unique(fakes.fcm.received.map((m) => m.token), run);
                const deleted = unique(wiki.deletedTokens, run);
                const log = await fullOutput(p);
                assert.equal(code, 0, `exit: ${String(code)}\n${log.slice(-4000)}`);
                assert.ok(took < SHUTDOWN_TIMEOUT_S * 1000, `took ${took} ms`);

                assert.equal(apnsGot.size, sent.apns.length, `APNs got ${apnsGot.size} of ${sent.apns.length}\n${log.slice(-3000)}`);
                assert.deepEqual([...apnsGot].sort(), [...sent.apns].sort());
                assert.equal(fcmGot.size, sent.fcm.length, `FCM got ${fcmGot.size} of ${sent.fcm.length}\n${log.slice(-3000)}`);
                assert.deepEqual([...fcmGot].sort(), [...sent.fcm].sort());
                assert.deepEqual([...deleted].sort(), [...sent.dead].sort(), `deleted ${deleted.size} of ${sent.dead.length}\n${log.slice(-3000)}`);

                // Each worker drained its own queue; together they held every token.
                const queued = queuedAtDrain(log);
                assert.equal(queued.length, Math.max(1, workers), log.slice(-3000));
                assert.equal(queued.reduce((a, b) => a + b, 0), sent.apns.length + sent.fcm.length);
                if (workers > 1) {
                    assert.ok(queued.every((n) => n > 0), `a worker got no traffic: ${queued.join(', ')}`);
                }
                assert.doesNotMatch(log, /undelivered at the shutdown deadline/);
                // Once the drain has begun, readiness is never 'ready' again: 503 while the
                // server still answers, then the port is closed.
                const seen = await readiness;
                const firstNotReady = seen.findIndex((s) => s !== '200');
                assert.ok(firstNotReady >= 0, `readiness stayed 200: ${seen.join(',')}`);
                assert.ok(seen.slice(firstNotReady).every((s) => s !== '200'), `readiness went back to 200: ${seen.join(',')}`);
            } finally {
                fakes.apns.behaviour.delayMs = 0;
                fakes.fcm.behaviour.delayMs = 0;
                wiki.setLatency(0);
                p.child.kill('SIGKILL');
                p.killGroup();
            }
        });
    });
}


describe('shutdown drain when a provider cannot be reached in time', function () {
    this.timeout(60000);
    let fakes: ProviderFakes;
    let wiki: FakeMediaWiki;

    before(async () => {
        ({ fakes, wiki } = await startFakesAndWiki());
    });

    after(() => closeFakesAndWiki(fakes, wiki));

    for (const workers of [0, 2]) {
        it(`logs what is undelivered at the deadline by provider and exits within shutdown_timeout (num_workers: ${workers})`, async () => {
            const timeoutS = 4;
            // APNs answers nothing for a minute: every APNs token is still in flight at the deadline.
            fakes.apns.behaviour.delayMs = 60000;
            const run = `slow${workers}r${Date.now().toString(36)}`;
            const p = await startRunner(workers, serviceConf(fakes, wiki, {
                shutdown_timeout: timeoutS,
                apns: { ...fakes.conf.apns, requestTimeoutMs: 30000, shutdownTimeoutMs: 10000 }
            }), { detached: true });
            try {
                await started(p, workers);
                const sent = await sendTokens(p.port, run, 10, 10);
                const t0 = Date.now();
                p.child.kill('SIGTERM');
                const code = await exitWithin(p, timeoutS * 1000 + 10000);
                const took = Date.now() - t0;
                const log = await fullOutput(p);
                assert.equal(code, 0, `exit: ${String(code)}\n${log.slice(-4000)}`);
                // Slack for the exit path on a busy machine (2 shared cores), none for the drain
                // itself: each drain's own tookMs is checked against the budget below.
                assert.ok(took <= timeoutS * 1000 + 2000, `took ${took} ms (shutdown_timeout ${timeoutS} s)\n${log.slice(-3000)}`);

                // Each drain reports its own duration: within the budget, provider close included.
                const drains = log.split('\n').filter((l) => l.includes('"msg":"stopped"'))
                    .map((l) => (JSON.parse(l) as { tookMs: number }).tookMs);
                assert.equal(drains.length, Math.max(1, workers), log.slice(-3000));
                assert.ok(drains.every((ms) => ms <= timeoutS * 1000), `drains took ${drains.join(', ')} ms`);

                // Logged, with counts by provider (summed over workers): every APNs token.
                const counts: Record<string, number> = {};
                for (const line of log.split('\n')) {
                    if (line.includes('undelivered at the shutdown deadline')) {
                        const entry = JSON.parse(line) as { provider: string; count: number };
                        counts[entry.provider] = (counts[entry.provider] ?? 0) + entry.count;
                    }
                }
                assert.deepEqual(counts, { apns: sent.apns.length }, log.slice(-4000));
                // FCM was healthy: all of it went out, and its dead tokens were deleted.
                assert.equal(unique(fakes.fcm.received.map((m) => m.token), run).size, sent.fcm.length);
                const fcmDead = sent.dead.filter((t) => t.includes('-fcm-'));
                assert.deepEqual([...unique(wiki.deletedTokens, run)].sort(), fcmDead.sort());
            } finally {
                fakes.apns.behaviour.delayMs = 0;
                fakes.apns.destroySessions();
                p.child.kill('SIGKILL');
                p.killGroup();
            }
        });
    }
});

describe('shutdown drain with a client that keeps its keep-alive connection busy', function () {
    this.timeout(60000);
    let fakes: ProviderFakes;
    let wiki: FakeMediaWiki;

    before(async () => {
        ({ fakes, wiki } = await startFakesAndWiki());
    });

    after(() => closeFakesAndWiki(fakes, wiki));

    for (const workers of [0, 2]) {
        it(`does not wait for the client to go away before draining the queue (num_workers: ${workers})`, async () => {
            const run = `ka${workers}r${Date.now().toString(36)}`;
            const p = await startRunner(workers, serviceConf(fakes, wiki), { detached: true });
            // Keep-alive connections kept busy back to back, as Echo's job runners under load do:
            // at SIGTERM some of them are in the middle of a request.
            const agent = new Agent({ connections: 8, keepAliveTimeout: 60000, keepAliveMaxTimeout: 60000 });
            const accepted: string[] = [];
            let stop = false;
            const loop = async (n: number): Promise<void> => {
                for (let i = 0; !stop; i++) {
                    const token = `${run}-apns-${n}-${i}`;
                    try {
                        const res = await request(`http://127.0.0.1:${p.port}/v1/message/apns`, {
                            method: 'POST', dispatcher: agent,
                            headers: { 'content-type': 'application/json' },
                            body: JSON.stringify({ deviceTokens: [apnsToken(token)], messageType: 'checkEchoV1' })
                        });
                        await res.body.dump();
                        if (res.statusCode === 200) {
                            accepted.push(token);
                        }
                    } catch {
                        // refused or reset once the service stopped listening: not accepted
                        await new Promise((r) => setTimeout(r, 20));
                    }
                }
            };
            const client = Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map(loop));
            try {
                await started(p, workers);
                await new Promise((r) => setTimeout(r, 500));
                const t0 = Date.now();
                p.child.kill('SIGTERM');
                const code = await exitWithin(p, SHUTDOWN_TIMEOUT_S * 1000 + 5000);
                const took = Date.now() - t0;
                stop = true;
                await client;
                const got = unique(fakes.apns.received.map((n) => n.token), run);
                const log = await fullOutput(p);
                assert.equal(code, 0, `exit: ${String(code)}\n${log.slice(-3000)}`);
                // Without `Connection: close` during the drain this took the whole shutdown_timeout
                // (20 s); half of it is a generous bound for a busy machine (it took 5.3 s once).
                assert.ok(took < SHUTDOWN_TIMEOUT_S * 1000 / 2, `took ${took} ms\n${log.slice(-3000)}`);
                assert.ok(accepted.length > 0);
                assert.equal(got.size, accepted.length, `APNs got ${got.size} of ${accepted.length}\n${log.slice(-3000)}`);
                assert.doesNotMatch(log, /undelivered at the shutdown deadline/);
                assert.match(log, /"msg":"stopped"/);
            } finally {
                stop = true;
                await agent.close();
                p.child.kill('SIGKILL');
                p.killGroup();
            }
        });
    }
});
