import assert from 'node:assert/strict';
import { createProviders } from '../../src/providers/create-providers';
import { ApnsProvider } from '../../src/providers/apns/apns-provider';
import { PushProvider } from '../../src/providers/push-provider';
import { createApnsSigningKey } from '../fakes/tls';
import { FAKE_APNS_TOPIC, ProviderFakes, startProviderFakes } from '../fakes/provider-fakes';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { batch, byToken, configFor, instrumentPacer, newLogger } from './helpers';

describe('APNs provider (real node-apn against the fake HTTP/2 APNs)', function () {
    this.timeout(20000);
    let fakes: ProviderFakes;
    const open: PushProvider[] = [];

    function provider(overrides: Record<string, unknown> = {}, logger = newLogger()): ApnsProvider {
        const p = createProviders({ config: configFor(fakes, overrides), logger }).apns;
        open.push(p);
        assert.ok(p instanceof ApnsProvider);
        return p;
    }

    before(async () => {
        fakes = await startProviderFakes();
    });
    afterEach(async () => {
        await Promise.all(open.splice(0).map((p) => p.close()));
        fakes.apns.reset();
        fakes.apns.behaviour.goawayAfter = undefined;
    });
    after(async () => {
        await fakes.close();
    });

    it('sends the Wikipedia iOS payload and headers with a valid ES256 provider token', async () => {
        const p = provider();
        const results = await p.send(batch('apns', ['tok-a', 'tok-b']));
        assert.deepEqual(byToken(results), { 'tok-a': 'delivered:ok', 'tok-b': 'delivered:ok' });
        assert.equal(fakes.apns.counters.jwtFailures, 0);
        const r = fakes.apns.received[0];
        assert.equal(r.headers['apns-topic'], FAKE_APNS_TOPIC);
        assert.equal(r.headers['apns-push-type'], 'alert');
        assert.deepEqual(r.body, {
            data: { type: 'checkEchoV1' },
            aps: { alert: 'checkEchoV1', 'mutable-content': 1, 'thread-id': 'checkEchoV1' }
        });
    });

    it('uses the topic of the batch over the configured one', async () => {
        const p = provider();
        await p.send(batch('apns', ['tok'], { topic: 'org.wikimedia.other' }));
        assert.equal(fakes.apns.received[0].headers['apns-topic'], 'org.wikimedia.other');
    });

    it('without any topic answers config_error MissingTopic and sends nothing', async () => {
        const p = provider({ apns: { topic: undefined } });
        const results = await p.send(batch('apns', ['tok']));
        assert.deepEqual(byToken(results), { tok: 'config_error:MissingTopic' });
        assert.equal(fakes.apns.counters.requests, 0);
    });

    it('dryRun is logged and not sent', async () => {
        const logger = newLogger();
        const p = provider({}, logger);
        const results = await p.send(batch('apns', ['tok', 'dead-x'], { dryRun: true }));
        assert.deepEqual(byToken(results), { tok: 'delivered:dry_run', 'dead-x': 'delivered:dry_run' });
        assert.equal(fakes.apns.counters.requests, 0);
        assert.ok(logger.at('debug').some((e) => JSON.stringify(e.entry).includes('dry run')));
    });

    it('classifies every APNs answer through the real client (table rows end to end)', async () => {
        const logger = newLogger();
        const p = provider({}, logger);
        fakes.apns.behaviour.retryAfterSeconds = 11;
        const results = await p.send(batch('apns', ['ok-1', 'dead-1', 'expired-1', 'bad-1', 'topic-1', 'transient-1',
            'ratelimit-1', 'internal-1', 'auth-1', 'reset-1']));
        assert.deepEqual(byToken(results), {
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
        assert.equal(results.find((r) => r.token === 'transient-1')?.retryAfterMs, 11000);
        // One request each: node-apn does not retry by itself (connectionRetryLimit 0).
        assert.equal(fakes.apns.received.filter((r) => r.token === 'transient-1').length, 1);
        assert.equal(fakes.apns.received.filter((r) => r.token === 'ratelimit-1').length, 1);
        assert.ok(!logger.text().includes('topic-1'));
    });

    it('a provider token signed with the wrong key is a config_error (InvalidProviderToken)', async () => {
        const other = path.join(fakes.files.dir, 'other.p8');
        writeFileSync(other, createApnsSigningKey().privateKey);
        const p = provider({ apns: { token: { key: other, keyId: 'FAKEKEY123', teamId: 'FAKETEAM12' } } });
        const results = await p.send(batch('apns', ['tok']));
        assert.deepEqual(byToken(results), { tok: 'config_error:InvalidProviderToken' });
        assert.equal(fakes.apns.counters.jwtFailures, 1);
    });

    it('keeps one HTTP/2 session across batches', async () => {
        const p = provider();
        for (let i = 0; i < 4; i++) {
            const results = await p.send(batch('apns', [`b${i}-1`, `b${i}-2`, `b${i}-3`]));
            assert.ok(results.every((r) => r.outcome === 'delivered'));
        }
        assert.equal(fakes.apns.counters.sessions, 1);
        assert.equal(new Set(fakes.apns.received.map((r) => r.session)).size, 1);
    });

    it('recovers after GOAWAY: the next batch opens a new session and is delivered', async () => {
        const p = provider();
        assert.ok((await p.send(batch('apns', ['g1']))).every((r) => r.outcome === 'delivered'));
        fakes.apns.goaway();
        await new Promise((r) => setTimeout(r, 100));
        const after = await p.send(batch('apns', ['g2', 'g3']));
        assert.deepEqual(byToken(after), { g2: 'delivered:ok', g3: 'delivered:ok' });
        assert.equal(fakes.apns.counters.sessions, 2);
    });

    it('recovers after the connection is lost', async () => {
        const p = provider();
        await p.send(batch('apns', ['l1']));
        fakes.apns.destroySessions();
        await new Promise((r) => setTimeout(r, 100));
        const after = await p.send(batch('apns', ['l2']));
        assert.deepEqual(byToken(after), { l2: 'delivered:ok' });
        assert.ok(fakes.apns.counters.sessions >= 2);
    });

    it('a slow APNs times out as transient', async () => {
        fakes.apns.behaviour.slowMs = 1500;
        const p = provider({ apns: { requestTimeoutMs: 300 } });
        const results = await p.send(batch('apns', ['slow-1', 'fast-1']));
        assert.deepEqual(byToken(results), { 'slow-1': 'transient:connection-error', 'fast-1': 'delivered:ok' });
    });

    it('an unreachable APNs makes every token transient, and close() stays bounded', async () => {
        const p = provider({ apns: { port: 1, shutdownTimeoutMs: 300 } });
        const results = await p.send(batch('apns', ['u1', 'u2']));
        assert.deepEqual(results.map((r) => r.outcome), ['transient', 'transient']);
        const t = Date.now();
        await p.close();
        assert.ok(Date.now() - t < 1500);
    });

    it('spreads load over clientCount sessions (MultiProvider)', async () => {
        const p = provider({ apns: { clientCount: 2 } });
        await p.send(batch('apns', ['m1', 'm2', 'm3', 'm4']));
        assert.equal(fakes.apns.counters.sessions, 2);
        assert.equal(fakes.apns.counters.delivered, 4);
    });

    it('hands node-apn sub-chunks, yielding to the event loop before each, within the in-flight window', async () => {
        const p = provider();
        const seen = instrumentPacer(p, 4, 8);
        const tokens = Array.from({ length: 30 }, (_, i) => (i % 10 === 3 ? `dead-${i}` : `ok-${i}`));
        const results = await p.send(batch('apns', tokens));
        assert.equal(seen.yields, 8, 'one yield per sub-chunk of 4');
        assert.ok(seen.maxInFlight <= 8, `in flight ${seen.maxInFlight}`);
        // Every token answered, in order, failures included (they come back per chunk).
        assert.deepEqual(results.map((r) => `${r.token}:${r.outcome}`),
            tokens.map((t) => `${t}:${t.startsWith('dead') ? 'dead' : 'delivered'}`));
        assert.equal(fakes.apns.counters.requests, 30);
    });
});
