import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../../src/config/config-error';
import { loadServiceConfig } from '../../src/config/service-config';
import { createApnsProvider } from '../../src/providers/apns';
import { ApnsProvider } from '../../src/providers/apns/apns-provider';
import { PushProvider } from '../../src/push/provider';
import { testConf } from '../helpers/service-harness';
import { TestLogger } from '../helpers/test-logger';
import { apnsToken } from '../fakes/apns-server';
import { BlackHole } from '../fakes/black-hole';
import { FAKE_APNS_TOPIC, ProviderFakes, startProviderFakes } from '../fakes/provider-fakes';
import { createApnsSigningKey } from '../fakes/tls';
import { apnsBatch, apnsFrom, echoMessage, newCollected, outcomes, sendAndCollect } from './apns-helpers';
import { configFor } from './helpers';

const T = apnsToken;

describe('APNs provider (real node-apn against the fake HTTP/2 APNs)', function () {
    this.timeout(20000);
    let fakes: ProviderFakes;
    const open: PushProvider[] = [];

    function provider(overrides: Record<string, unknown> = {}, logger = new TestLogger()): ApnsProvider {
        const p = apnsFrom(configFor(fakes, overrides), logger);
        open.push(p);
        return p;
    }

    /** A provider built from options directly (pacing knobs the config does not expose). */
    function tuned(extra: Partial<ConstructorParameters<typeof ApnsProvider>[0]>, logger = new TestLogger()): ApnsProvider {
        const config = configFor(fakes);
        const c = config.apns;
        const p = new ApnsProvider({
            id: 'apns', token: { key: fakes.files.apnsKey, keyId: c.token!.keyId, teamId: c.token!.teamId },
            production: false, topic: c.topic, address: c.address, port: c.port, ca: fakes.tls.ca,
            clientCount: 1, requestTimeoutMs: 5000, connectTimeoutMs: 5000, connectionRetryLimit: 0,
            egress: config, logger, ...extra
        });
        open.push(p);
        return p;
    }

    before(async () => {
        fakes = await startProviderFakes();
    });
    afterEach(async () => {
        await Promise.all(open.splice(0).map((p) => p.close()));
        fakes.apns.reset();
        Object.assign(fakes.apns.behaviour, { goawayAfter: undefined, delayMs: 0, slowMs: 2000, refuseJwts: 0, jwtMaxAgeSeconds: 3600 });
    });
    after(async () => {
        await fakes.close();
    });

    describe('rendering at the fake', () => {
        it('sends Echo\'s checkEchoV1 with exactly the original bytes and headers, and a valid ES256 provider token', async () => {
            const p = provider();
            const c = await sendAndCollect(p, apnsBatch([T('tok-a'), T('tok-b')]));
            assert.deepEqual(outcomes(c), { [T('tok-a')]: 'delivered:ok', [T('tok-b')]: 'delivered:ok' });
            assert.equal(fakes.apns.counters.jwtFailures, 0);
            const r = fakes.apns.received[0];
            assert.equal(r.rawBody, '{"data":{"type":"checkEchoV1"},"aps":{"alert":"checkEchoV1","mutable-content":1,"thread-id":"checkEchoV1"}}');
            assert.equal(r.headers['apns-priority'], '10');
            assert.equal(r.headers['apns-topic'], FAKE_APNS_TOPIC);
            assert.equal(r.headers['apns-push-type'], 'alert');
            assert.equal(r.headers['apns-expiration'], undefined);
            assert.equal(r.headers['apns-collapse-id'], undefined);
            assert.match(String(r.headers[':path']), /^\/3\/device\/[0-9a-f]{64}$/);
        });

        it('renders the common fields: alert object, badge, sound, priority, expiration, collapse id, background push type', async () => {
            const p = provider();
            const now = Math.floor(Date.now() / 1000);
            await sendAndCollect(p, apnsBatch([T('render-1')], {
                message: {
                    type: 'matrix', data: { room: '!r' }, alert: { title: 'T', body: 'B', clickAction: 'OPEN' }, badge: 3, sound: 'ding',
                    priority: 'normal', ttlSeconds: 60, apns: { collapseId: 'c1', threadId: 'th' }
                }
            }));
            await sendAndCollect(p, apnsBatch([T('render-2')], { message: { type: 'sync', contentAvailable: true, priority: 'normal' } }));
            const [a, b] = fakes.apns.received;
            assert.equal(a.rawBody, '{"room":"!r","aps":{"alert":{"title":"T","body":"B"},"badge":3,"sound":"ding","category":"OPEN","thread-id":"th"}}');
            assert.equal(a.headers['apns-priority'], '5');
            assert.equal(a.headers['apns-collapse-id'], 'c1');
            assert.equal(a.headers['apns-push-type'], 'alert');
            const exp = Number(a.headers['apns-expiration']);
            assert.ok(exp >= now + 60 && exp <= now + 62, `apns-expiration ${exp}`);
            assert.equal(b.rawBody, '{"aps":{"content-available":1}}');
            assert.equal(b.headers['apns-push-type'], 'background');
        });

        it('uses the message\'s apns.topic over the configured one', async () => {
            const p = provider();
            await sendAndCollect(p, apnsBatch([T('tok')], { message: echoMessage('checkEchoV1', 'org.wikimedia.other') }));
            assert.equal(fakes.apns.received[0].headers['apns-topic'], 'org.wikimedia.other');
        });

        it('without any topic answers config_error MissingTopic, sends nothing, logs one error line for the call', async () => {
            const logger = new TestLogger();
            const p = provider({ apns: { topic: undefined } }, logger);
            const c = await sendAndCollect(p, apnsBatch([T('t1'), T('t2'), T('t3')]));
            assert.deepEqual(Object.values(outcomes(c)), ['config_error:MissingTopic', 'config_error:MissingTopic', 'config_error:MissingTopic']);
            assert.equal(fakes.apns.counters.requests, 0);
            const errors = logger.at('error');
            assert.equal(errors.length, 1);
            assert.equal((errors[0].entry as { count: number }).count, 3);
        });

        it('dryRun is logged and not sent', async () => {
            const logger = new TestLogger();
            const p = provider({}, logger);
            const c = await sendAndCollect(p, apnsBatch([T('tok'), T('dead-x')], { dryRun: true }));
            assert.deepEqual(outcomes(c), { [T('tok')]: 'delivered:dry_run', [T('dead-x')]: 'delivered:dry_run' });
            assert.equal(fakes.apns.counters.requests, 0);
            assert.ok(logger.at('debug').some((e) => JSON.stringify(e.entry).includes('dry run')));
        });
    });

    describe('token syntax (issue 11 §1)', () => {
        it('sends the normalised hex of the printed form and of a token with a trailing newline; reports them under the tokens as given', async () => {
            const p = provider();
            const hex = T('printed-1');
            const printed = `<${hex.toUpperCase().match(/.{8}/g)!.join(' ')}>`;
            const newline = `${T('newline-1')}\n`;
            const c = await sendAndCollect(p, apnsBatch([printed, newline, T('plain-1')]));
            assert.deepEqual(outcomes(c), { [printed]: 'delivered:ok', [newline]: 'delivered:ok', [T('plain-1')]: 'delivered:ok' });
            assert.deepEqual(fakes.apns.received.map((r) => r.token).sort(), [hex, T('newline-1'), T('plain-1')].sort());
            assert.equal(fakes.apns.counters.nonHexPaths, 0);
        });

        it('a token that cannot be a device token is dead invalid_token and never sent; its neighbours go out', async () => {
            const logger = new TestLogger();
            const p = provider({}, logger);
            const bad = ['ok-1', 'abc', `${T('x')}0`, 'zz'.repeat(32), '../../3/device/x', `${T('x')}/../../admin`, 'aa'.repeat(101)];
            const c = await sendAndCollect(p, apnsBatch([...bad, T('good-1')]));
            for (const b of bad) {
                assert.equal(outcomes(c)[b], 'dead:invalid_token', b);
            }
            assert.equal(outcomes(c)[T('good-1')], 'delivered:ok');
            assert.equal(fakes.apns.counters.requests, 1);
            assert.equal(fakes.apns.counters.nonHexPaths, 0);
            const warn = logger.at('warn').filter((e) => JSON.stringify(e.entry).includes('invalid_token'));
            assert.equal(warn.length, 1, 'one line for the call');
            assert.equal((warn[0].entry as { count: number }).count, bad.length);
            assert.ok(!logger.text().includes('../../3/device/x'));
        });

        it('the upper- and lower-case copies of one token are sent once and both reported', async () => {
            const p = provider();
            const t = T('dup-1');
            const c = await sendAndCollect(p, apnsBatch([t, t.toUpperCase()]));
            assert.deepEqual(outcomes(c), { [t]: 'delivered:ok', [t.toUpperCase()]: 'delivered:ok' });
            assert.equal(fakes.apns.counters.requests, 1);
        });
    });

    describe('answers', () => {
        it('classifies every APNs answer through the real client (table rows end to end)', async () => {
            const logger = new TestLogger();
            const p = provider({}, logger);
            fakes.apns.behaviour.retryAfterSeconds = 11;
            const labels = ['ok-1', 'dead-1', 'expired-1', 'bad-1', 'topic-1', 'transient-1', 'ratelimit-1', 'internal-1', 'auth-1', 'reset-1'];
            const c = await sendAndCollect(p, apnsBatch(labels.map(T)));
            const byLabel = Object.fromEntries(labels.map((l) => [l, outcomes(c)[T(l)]]));
            assert.deepEqual(byLabel, {
                'ok-1': 'delivered:ok',
                'dead-1': 'dead:Unregistered',
                'expired-1': 'dead:ExpiredToken',
                'bad-1': 'dead:BadDeviceToken',
                'topic-1': 'config_error:DeviceTokenNotForTopic',
                'transient-1': 'transient:ServiceUnavailable',
                'ratelimit-1': 'transient:TooManyRequests',
                // node-apn hides the reason of a 500 (it raises its own error instead).
                'internal-1': 'transient:http-500',
                'auth-1': 'config_error:InvalidProviderToken',
                'reset-1': 'transient:connection-error'
            });
            // Retry-After of the 503 reaches the result (node-apn itself drops it).
            assert.equal(c.results.find((r) => r.token === T('transient-1'))?.retryAfterMs, 11000);
            // One request each: node-apn does not retry by itself (connectionRetryLimit 0), nor do we.
            for (const l of labels) {
                assert.equal(fakes.apns.requestsFor(T(l)), 1, l);
            }
            assert.ok(!logger.text().includes(T('topic-1')), 'no full token in the logs');
        });

        it('node-apn has the shape the provider relies on: no "cannot instrument" warning, the per-token write path in use', () => {
            const logger = new TestLogger();
            const p = provider({ apns: { clientCount: 2 } }, logger);
            assert.equal(logger.at('warn').length, 0, JSON.stringify(logger.at('warn')));
            assert.ok((p as unknown as { writer?: unknown }).writer, 'node-apn client.write found');
        });

        it('without node-apn\'s client.write (a changed node-apn), Provider.send per token gives the same results', async () => {
            const p = provider();
            (p as unknown as { writer?: unknown }).writer = undefined;
            fakes.apns.behaviour.retryAfterSeconds = 5;
            const labels = ['ok-1', 'dead-1', 'topic-1', 'transient-1', 'internal-1', 'reset-1'];
            const c = await sendAndCollect(p, apnsBatch(labels.map(T)));
            assert.deepEqual(labels.map((l) => outcomes(c)[T(l)]), ['delivered:ok', 'dead:Unregistered', 'config_error:DeviceTokenNotForTopic',
                'transient:ServiceUnavailable', 'transient:http-500', 'transient:connection-error']);
            assert.equal(c.results.find((r) => r.token === T('transient-1'))?.retryAfterMs, 5000);
            assert.equal(fakes.apns.received[0].rawBody, '{"data":{"type":"checkEchoV1"},"aps":{"alert":"checkEchoV1","mutable-content":1,"thread-id":"checkEchoV1"}}');
        });

        it('never rejects: an onResults that throws is logged, and every token is still reported once', async () => {
            const logger = new TestLogger();
            const p = provider({}, logger);
            let calls = 0;
            await p.send(apnsBatch([T('th-1'), T('th-2')]), () => {
                calls++;
                throw new Error('boom');
            });
            assert.ok(calls >= 1);
            assert.ok(logger.at('error').some((e) => JSON.stringify(e.entry).includes('onResults threw')));
        });

        it('a failing send loop makes the tokens it did not hand over transient, and still reports each token once', async () => {
            let yields = 0;
            const p = tuned({ sendChunkTokens: 2, yieldToLoop: () => (++yields === 2 ? Promise.reject(new Error('loop')) : Promise.resolve()) });
            const tokens = [T('lp-1'), T('lp-2'), T('lp-3'), T('lp-4'), T('lp-5')];
            const c = await sendAndCollect(p, apnsBatch(tokens));
            assert.deepEqual(tokens.map((t) => outcomes(c)[t]), ['delivered:ok', 'delivered:ok', 'transient:call-failed', 'transient:call-failed', 'transient:call-failed']);
        });

        it('logs configuration errors once per call: one line with status, reason, topic, count and fingerprints', async () => {
            const logger = new TestLogger();
            const p = provider({}, logger);
            const tokens = Array.from({ length: 12 }, (_, i) => T(`topic-${i}`));
            const c = await sendAndCollect(p, apnsBatch([...tokens, T('fine-1')]));
            assert.equal(c.results.filter((r) => r.outcome === 'config_error').length, 12);
            const errors = logger.at('error');
            assert.equal(errors.length, 1, JSON.stringify(errors));
            const line = errors[0].entry as Record<string, unknown>;
            assert.equal(line.status, 400);
            assert.equal(line.reason, 'DeviceTokenNotForTopic');
            assert.equal(line.topic, FAKE_APNS_TOPIC);
            assert.equal(line.count, 12);
            assert.equal((line.tokens as string[]).length, 3, 'a few fingerprints');
            assert.ok(!logger.text().includes(tokens[0]));
            // The detail travels with the results, for the dispatcher (which does not log again).
            assert.match(String(c.results.find((r) => r.outcome === 'config_error')?.detail), /400 DeviceTokenNotForTopic \(topic /);
        });

        it('a provider token signed with the wrong key is config_error InvalidProviderToken, not retried', async () => {
            const other = path.join(fakes.files.dir, 'other.p8');
            writeFileSync(other, createApnsSigningKey().privateKey);
            const p = provider({ apns: { token: { key: other, keyId: 'FAKEKEY123', teamId: 'FAKETEAM12' } } });
            const c = await sendAndCollect(p, apnsBatch([T('tok')]));
            assert.deepEqual(outcomes(c), { [T('tok')]: 'config_error:InvalidProviderToken' });
            assert.equal(fakes.apns.counters.jwtFailures, 1);
        });
    });

    describe('stale provider token (issue 11 §2)', () => {
        it('ExpiredProviderToken: node-apn signs a fresh JWT and the token is retried at once, once, and delivered', async () => {
            const logger = new TestLogger();
            const p = provider({}, logger);
            fakes.apns.behaviour.refuseJwts = 1;
            const tokens = Array.from({ length: 20 }, (_, i) => T(`stale-${i}`));
            const c = await sendAndCollect(p, apnsBatch(tokens));
            assert.ok(c.results.every((r) => r.outcome === 'delivered'), JSON.stringify(outcomes(c)));
            assert.equal(fakes.apns.jwtsSeen.length, 2, 'one fresh JWT, shared by every retry');
            for (const t of tokens) {
                assert.ok(fakes.apns.requestsFor(t) <= 2);
            }
            assert.equal(logger.at('error').length, 0);
        });

        it('a JWT older than the fake accepts (clock skew, a long-lived connection) is replaced and the send goes through', async function () {
            this.timeout(10000);
            const p = provider();
            assert.equal(outcomes(await sendAndCollect(p, apnsBatch([T('age-1')])))[T('age-1')], 'delivered:ok');
            fakes.apns.behaviour.jwtMaxAgeSeconds = 1;
            await new Promise((r) => setTimeout(r, 2100));
            const c = await sendAndCollect(p, apnsBatch([T('age-2')]));
            assert.deepEqual(outcomes(c), { [T('age-2')]: 'delivered:ok' });
            assert.equal(fakes.apns.requestsFor(T('age-2')), 2);
            assert.equal(fakes.apns.counters.jwtExpired, 1);
        });

        it('refused again after a fresh JWT: config_error ExpiredProviderToken after exactly two requests, logged once', async () => {
            const logger = new TestLogger();
            const p = provider({}, logger);
            fakes.apns.behaviour.refuseJwts = Infinity;
            const c = await sendAndCollect(p, apnsBatch([T('stale-a'), T('stale-b')]));
            assert.deepEqual(Object.values(outcomes(c)), ['config_error:ExpiredProviderToken', 'config_error:ExpiredProviderToken']);
            assert.equal(fakes.apns.requestsFor(T('stale-a')), 2);
            assert.equal(fakes.apns.requestsFor(T('stale-b')), 2);
            assert.equal(logger.at('error').length, 1);
            assert.match(JSON.stringify(logger.at('error')[0].entry), /again after a freshly signed provider token/);
        });
    });

    describe('sessions', () => {
        it('keeps one HTTP/2 session across batches', async () => {
            const p = provider();
            for (let i = 0; i < 4; i++) {
                const c = await sendAndCollect(p, apnsBatch([T(`b${i}-1`), T(`b${i}-2`), T(`b${i}-3`)]));
                assert.ok(c.results.every((r) => r.outcome === 'delivered'));
            }
            assert.equal(fakes.apns.counters.sessions, 1);
            assert.equal(new Set(fakes.apns.received.map((r) => r.session)).size, 1);
        });

        it('recovers after GOAWAY: the next batch opens a new session and is delivered', async () => {
            const p = provider();
            assert.ok((await sendAndCollect(p, apnsBatch([T('g1')]))).results.every((r) => r.outcome === 'delivered'));
            fakes.apns.goaway();
            await new Promise((r) => setTimeout(r, 100));
            const after = await sendAndCollect(p, apnsBatch([T('g2'), T('g3')]));
            assert.deepEqual(outcomes(after), { [T('g2')]: 'delivered:ok', [T('g3')]: 'delivered:ok' });
            assert.equal(fakes.apns.counters.sessions, 2);
        });

        it('recovers after the connection is lost', async () => {
            const p = provider();
            await sendAndCollect(p, apnsBatch([T('l1')]));
            fakes.apns.destroySessions();
            await new Promise((r) => setTimeout(r, 100));
            const after = await sendAndCollect(p, apnsBatch([T('l2')]));
            assert.deepEqual(outcomes(after), { [T('l2')]: 'delivered:ok' });
            assert.ok(fakes.apns.counters.sessions >= 2);
        });

        it('an unreachable APNs makes every token transient, and close() stays bounded', async () => {
            const p = provider({ apns: { port: 1, shutdownTimeoutMs: 300 } });
            const c = await sendAndCollect(p, apnsBatch([T('u1'), T('u2')]));
            assert.deepEqual(Object.values(outcomes(c)), ['transient:connection-error', 'transient:connection-error']);
            const t = Date.now();
            await p.close();
            assert.ok(Date.now() - t < 1500);
        });

        it('spreads load over clientCount sessions (MultiProvider)', async () => {
            const p = provider({ apns: { clientCount: 2 } });
            await sendAndCollect(p, apnsBatch([T('m1'), T('m2'), T('m3'), T('m4')]));
            assert.equal(fakes.apns.counters.sessions, 2);
            assert.equal(fakes.apns.counters.delivered, 4);
        });
    });

    describe('per-token settlement and deadlines (issue 11 §3, §4)', () => {
        it('reports each token as soon as APNs answers it: 95 answered while 5 hang, then the 5 as transient timeout', async () => {
            const logger = new TestLogger();
            fakes.apns.behaviour.slowMs = 60_000;
            const p = provider({ apns: { requestTimeoutMs: 1500 } }, logger);
            const tokens = Array.from({ length: 100 }, (_, i) => T(i % 20 === 7 ? `slow-${i}` : `ok-${i}`));
            const c = newCollected();
            const sending = sendAndCollect(p, apnsBatch(tokens), c);
            const t0 = Date.now();
            while (c.results.length < 95 && Date.now() - t0 < 1000) {
                await new Promise((r) => setTimeout(r, 10));
            }
            assert.equal(c.results.length, 95, 'the answered tokens are out before the hung ones time out');
            assert.ok(c.results.every((r) => r.outcome === 'delivered'));
            await sending;
            const slow = c.results.filter((r) => r.outcome !== 'delivered');
            assert.deepEqual(slow.map((r) => `${r.outcome}:${r.reason}`), Array(5).fill('transient:timeout'));
            for (const r of slow) {
                const at = c.at.get(r.token)!;
                assert.ok(at >= 1400 && at < 4000, `timed out at ${at} ms`);
            }
            const lines = logger.at('warn').filter((e) => JSON.stringify(e.entry).includes('deadline'));
            assert.equal(lines.length, 1, 'one line for the call');
            assert.equal((lines[0].entry as { count: number }).count, 5);
        });

        it('hands node-apn sub-chunks, yielding before each, within the in-flight window; a hung token holds one place, not its chunk', async () => {
            fakes.apns.behaviour.slowMs = 60_000;
            let yields = 0;
            let maxInFlight = 0;
            const p: ApnsProvider = tuned({
                sendChunkTokens: 4, maxInFlightTokens: 8, requestTimeoutMs: 3000,
                yieldToLoop: () => {
                    yields++;
                    maxInFlight = Math.max(maxInFlight, (p as unknown as { window: { tokensInFlight: number } }).window.tokensInFlight);
                    return new Promise((r) => setImmediate(r));
                }
            });
            // Two hung tokens in the first chunk; everything else must still flow through the window of 8.
            const tokens = Array.from({ length: 30 }, (_, i) => T(i < 2 ? `slow-${i}` : i % 10 === 3 ? `dead-${i}` : `ok-${i}`));
            const c = newCollected();
            const sending = sendAndCollect(p, apnsBatch(tokens), c);
            const t0 = Date.now();
            while (c.results.length < 28 && Date.now() - t0 < 2000) {
                await new Promise((r) => setTimeout(r, 10));
            }
            assert.equal(c.results.length, 28, 'the 28 others went through while 2 hang');
            await sending;
            assert.equal(yields, 8, 'one yield per sub-chunk of 4');
            assert.ok(maxInFlight <= 8, `in flight ${maxInFlight}`);
            assert.equal(outcomes(c)[T('dead-3')], 'dead:Unregistered');
            assert.equal(outcomes(c)[T('slow-0')], 'transient:timeout');
            assert.equal(fakes.apns.counters.requests, 30);
        });

        it('a silent connection (APNs stops answering) is dropped after a request deadline; the next batch reconnects and is delivered', async () => {
            const logger = new TestLogger();
            const p = provider({ apns: { requestTimeoutMs: 300 } }, logger);
            await sendAndCollect(p, apnsBatch([T('before-1')]));
            fakes.apns.behaviour.delayMs = 60_000;
            const stuck = await sendAndCollect(p, apnsBatch([T('silent-1'), T('silent-2')]));
            assert.deepEqual(Object.values(outcomes(stuck)), ['transient:timeout', 'transient:timeout']);
            assert.ok(logger.at('warn').some((e) => JSON.stringify(e.entry).includes('dropping it')));
            fakes.apns.behaviour.delayMs = 0;
            const after = await sendAndCollect(p, apnsBatch([T('after-1')]));
            assert.deepEqual(outcomes(after), { [T('after-1')]: 'delivered:ok' });
            assert.equal(fakes.apns.counters.sessions, 2);
        });

        it('a TLS server that accepts and never completes the handshake: tokens come back transient timeout within connectTimeoutMs; once it answers, the next batch is delivered', async () => {
            const hole = await BlackHole.start();
            try {
                const logger = new TestLogger();
                const p = provider({ apns: { port: hole.port, connectTimeoutMs: 400 } }, logger);
                const t0 = Date.now();
                const c = await sendAndCollect(p, apnsBatch([T('tls-1'), T('tls-2')]));
                const took = Date.now() - t0;
                assert.deepEqual(Object.values(outcomes(c)), ['transient:timeout', 'transient:timeout']);
                assert.ok(took >= 350 && took < 2000, `settled after ${took} ms`);
                const lines = logger.at('warn').filter((e) => JSON.stringify(e.entry).includes('deadline'));
                assert.equal(lines.length, 1);
                assert.equal((lines[0].entry as { stage: string }).stage, 'TLS handshake');

                // Still a black hole: the next call is bounded the same way (no session stuck in "connecting").
                const again = await sendAndCollect(p, apnsBatch([T('tls-3')]));
                assert.deepEqual(outcomes(again), { [T('tls-3')]: 'transient:timeout' });

                hole.heal(`127.0.0.1:${fakes.apns.port}`);
                const after = await sendAndCollect(p, apnsBatch([T('tls-4')]));
                assert.deepEqual(outcomes(after), { [T('tls-4')]: 'delivered:ok' });
            } finally {
                await hole.close();
            }
        });
    });

    describe('createApnsProvider', () => {
        it('an unreadable key file fails at start, naming the key', () => {
            const config = loadServiceConfig(testConf({ apns: { token: { key: '/nonexistent/AuthKey.p8', keyId: 'K', teamId: 'T' } } }));
            assert.throws(() => createApnsProvider('apns', config.apns, { logger: new TestLogger(), egress: config }),
                (e: unknown) => e instanceof ConfigError && e.key === 'apns.token.key');
            assert.throws(() => createApnsProvider('apns-sandbox', config.apns, { logger: new TestLogger(), egress: config }),
                (e: unknown) => e instanceof ConfigError && e.key === 'providers.apns-sandbox.token.key');
        });

        it('no credentials is a ConfigError naming the block', () => {
            const config = loadServiceConfig(testConf());
            assert.throws(() => createApnsProvider('apns', config.apns, { logger: new TestLogger(), egress: config }),
                (e: unknown) => e instanceof ConfigError && e.key === 'apns');
        });

        it('defaults: no node-apn internal retries, 10 s request and connect deadlines', () => {
            const config = loadServiceConfig(testConf());
            assert.equal(config.apns.connectionRetryLimit, 0);
            assert.equal(config.apns.requestTimeoutMs, 10000);
            assert.equal(config.apns.connectTimeoutMs, 10000);
        });
    });
});
