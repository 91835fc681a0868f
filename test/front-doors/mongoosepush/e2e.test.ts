import assert from 'node:assert/strict';
import { apnsToken, ReceivedNotification } from '../../fakes/apns-server';
import { ReceivedFcmMessage } from '../../fakes/fcm-server';
import { FAKE_APNS_TOPIC, ProviderFakes, startProviderFakes } from '../../fakes/provider-fakes';
import { metricValue } from '../../helpers/metrics';
import { startTestService, TestService } from '../../helpers/service-harness';
import { chatSummary, jingleSummary, mongooseImRequest, PublishOptions } from './mongooseim';

/**
 * The MongoosePush v3 front door end to end: the real service (startTestService) takes the
 * requests MongooseIM really sends (mongooseim.ts: a port of mod_push_service_mongoosepush,
 * byte for byte) and the provider fakes show what went out: the exact APNs body and headers
 * and the exact FCM v1 message. And what MongooseIM does with our answer (issue 14): it
 * waits 2 s, never retries, and disables the device only on a 410.
 */

const ALICE = chatSummary('alice@localhost', 'OH, HAI!', 3);
/** MongooseIM's HTTP pool gives up after this long (request_timeout default). */
const MONGOOSEIM_TIMEOUT_MS = 2000;
/**
 * Below the default 1500: the client, the service and the fakes share one event loop here,
 * so the answer's transit gets more room than it needs in production.
 */
const ANSWER_WITHIN_MS = 1000;
const RETRY = { baseDelayMs: 100, maxDelayMs: 400, maxAttempts: 20, maxAgeMs: 60_000 };
const DEV_TOPIC = 'com.example.chat.dev';
/** Requests MongooseIM has in flight at most: its HTTP pool's `workers` (its documented example). */
const MONGOOSEIM_WORKERS = 50;

interface Answer {
    readonly status: number;
    readonly body: unknown;
    readonly headers: Headers;
    readonly ms: number;
}

async function waitUntil(what: string, cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!(await cond())) {
        if (Date.now() > deadline) {
            throw new Error(`timed out after ${ms} ms waiting for: ${what}`);
        }
        await new Promise((r) => setTimeout(r, 20));
    }
}

describe('MongoosePush v3 front door end to end (the service against the provider fakes)', function () {
    this.timeout(60_000);
    let fakes: ProviderFakes;
    let svc: TestService;

    before(async () => {
        fakes = await startProviderFakes();
        svc = await startTestService({
            ...fakes.conf,
            providers: { 'apns-dev': { kind: 'apns', ...fakes.conf.apns } },
            delivery: {
                retry: RETRY, deletionGuard: { windowMs: 60_000, minDeadTokens: 100_000, maxDeadRatio: 0.99 },
                // Calls in flight per instance. The immediate sender makes one call per request
                // (one token): at the default 4, four slow devices hold every slot and all other
                // devices wait behind them (answered 200 at the deadline, delivered seconds late).
                concurrency: { apns: 64, fcm: 64 }
            },
            mongoosepush: { apns: { prod: 'apns', dev: { provider: 'apns-dev', topic: DEV_TOPIC } }, fcm: 'fcm', answerWithinMs: ANSWER_WITHIN_MS }
        });
    });

    after(async () => {
        await svc?.close();
        await fakes?.close();
    });

    afterEach(() => {
        for (const f of [fakes.apns, fakes.fcm]) {
            f.behaviour.delayMs = 0;
            f.behaviour.slowMs = 2000;
            f.behaviour.retryAfterSeconds = 7;
            f.behaviour.failuresPerToken = undefined;
        }
    });

    /** POSTs a body as MongooseIM does (its JSON text as is); the answer, asserted within MongooseIM's 2 s. */
    async function post(path: string, json: string): Promise<Answer> {
        const started = performance.now();
        const res = await fetch(`${svc.baseUrl}/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: json });
        const text = await res.text();
        const ms = performance.now() - started;
        assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
        assert.ok(ms < MONGOOSEIM_TIMEOUT_MS, `answered in ${Math.round(ms)} ms: MongooseIM gives up after 2 s`);
        return { status: res.status, body: JSON.parse(text) as unknown, headers: res.headers, ms };
    }

    /** The request MongooseIM sends for these publish options and summary form. */
    async function fromMongooseIm(options: PublishOptions, form = ALICE): Promise<Answer> {
        const req = mongooseImRequest(options, form);
        return await post(req.path, req.json);
    }

    const v3 = (token: string, body: unknown): Promise<Answer> => post(`v3/notification/${encodeURIComponent(token)}`, JSON.stringify(body));
    const apnsFor = (label: string): ReceivedNotification[] => fakes.apns.received.filter((r) => r.label === label);
    const fcmFor = (token: string): ReceivedFcmMessage[] => fakes.fcm.received.filter((r) => r.token === token);
    const ok = (a: Answer): void => {
        assert.equal(a.status, 200, JSON.stringify(a.body));
        assert.equal(a.body, null, 'a 200\'s body is JSON null, as MongoosePush\'s');
    };

    describe('APNs: the exact body and headers', () => {
        it('an alert with no options', async () => {
            ok(await fromMongooseIm({ device_id: apnsToken('ok-a1'), service: 'apns' }));
            const [r] = apnsFor('ok-a1');
            assert.equal(r.rawBody, '{"aps":{"alert":{"title":"alice@localhost","body":"OH, HAI!"},"badge":3}}');
            assert.equal(r.headers['apns-topic'], FAKE_APNS_TOPIC, 'the instance\'s topic');
            assert.equal(r.headers['apns-push-type'], 'alert');
            assert.equal(r.headers['apns-priority'], '10');
            assert.equal(r.headers['apns-expiration'], undefined, 'time_to_live is FCM\'s only');
            assert.equal(r.headers['apns-collapse-id'], undefined);
        });

        it('every option as a string (mode dev, priority, topic, mutable_content, time_to_live, click_action, sound)', async () => {
            const before = await metricValue('push_notifications_provider_answers_total', { provider: 'apns-dev' });
            ok(await fromMongooseIm({
                device_id: apnsToken('ok-a2'), service: 'apns', mode: 'dev', priority: 'high', topic: 'com.example.chat',
                mutable_content: 'true', time_to_live: '3600', click_action: 'REPLY', sound: 'default'
            }));
            const [r] = apnsFor('ok-a2');
            assert.equal(r.rawBody, '{"aps":{"alert":{"title":"alice@localhost","body":"OH, HAI!"},"badge":3,"sound":"default",' +
                '"mutable-content":1,"category":"REPLY"}}');
            assert.equal(r.headers['apns-topic'], 'com.example.chat', 'the request\'s topic');
            assert.equal(r.headers['apns-push-type'], 'alert');
            assert.equal(r.headers['apns-priority'], '10');
            assert.equal(r.headers['apns-expiration'], undefined);
            assert.equal(await metricValue('push_notifications_provider_answers_total', { provider: 'apns-dev' }), before + 1,
                'mode dev goes to the dev route\'s instance');
        });

        it('mode dev without a topic: the dev route\'s topic; priority normal: apns-priority 5', async () => {
            ok(await fromMongooseIm({ device_id: apnsToken('ok-a3'), service: 'apns', mode: 'dev', priority: 'normal' }));
            const [r] = apnsFor('ok-a3');
            assert.equal(r.headers['apns-topic'], DEV_TOPIC);
            assert.equal(r.headers['apns-priority'], '5');
        });

        it('silent: the summary form at the top level, content-available, background, priority 5', async () => {
            ok(await fromMongooseIm({ device_id: apnsToken('ok-a4'), service: 'apns', silent: 'true', priority: 'high' }));
            const [r] = apnsFor('ok-a4');
            assert.equal(r.rawBody, '{"last-message-body":"OH, HAI!","last-message-sender":"alice@localhost","message-count":3,' +
                '"aps":{"content-available":1}}');
            assert.equal(r.headers['apns-push-type'], 'background');
            assert.equal(r.headers['apns-priority'], '5', 'Apple: background pushes at 5, whatever priority says');
            assert.equal(r.headers['apns-topic'], FAKE_APNS_TOPIC, 'a topic even on a silent push (token auth requires one)');
        });

        it('silent Jingle call message (plugin_hints)', async () => {
            ok(await fromMongooseIm({ device_id: apnsToken('ok-a5'), service: 'apns', silent: 'true' },
                jingleSummary('bob@localhost/phone', 'propose', 'sess-1')));
            // The data keys in the order MongooseIM's JSON encoder (jiffy) wrote them: sorted.
            assert.equal(apnsFor('ok-a5')[0].rawBody, '{"jingle-message":"propose","jingle-session-id":"sess-1",' +
                '"message-sender":"bob@localhost/phone","aps":{"content-available":1}}');
        });

        it('mixed: alert and data side by side, data keys at the top level', async () => {
            ok(await v3(apnsToken('ok-a6'), {
                service: 'apns', alert: { title: 't', body: 'b', badge: '2', sound: 's.caf', click_action: 'OPEN' },
                data: { room: 'r1', n: 2, nested: { a: [1] } }, mutable_content: 'false'
            }));
            const [r] = apnsFor('ok-a6');
            assert.equal(r.rawBody, '{"room":"r1","n":2,"nested":{"a":[1]},"aps":{"alert":{"title":"t","body":"b"},"badge":2,' +
                '"sound":"s.caf","category":"OPEN"}}');
            assert.equal(r.headers['apns-push-type'], 'alert');
        });
    });

    describe('FCM: the exact HTTP v1 message', () => {
        it('an alert with every option as a string: android block, and an apns block for iOS apps', async () => {
            ok(await fromMongooseIm({
                device_id: 'ok-f1', service: 'fcm', priority: 'high', mutable_content: 'true', time_to_live: '3600',
                click_action: 'REPLY', sound: 'default'
            }));
            const [r] = fcmFor('ok-f1');
            assert.deepEqual(JSON.parse(r.rawBody), {
                message: {
                    token: 'ok-f1',
                    android: {
                        priority: 'high',
                        ttl: '3600s',
                        notification: { title: 'alice@localhost', body: 'OH, HAI!', click_action: 'REPLY', tag: 'alice@localhost', sound: 'default' }
                    },
                    apns: {
                        payload: {
                            aps: {
                                alert: { title: 'alice@localhost', body: 'OH, HAI!' }, badge: 3, sound: 'default', 'mutable-content': 1, category: 'REPLY'
                            }
                        }
                    }
                }
            });
        });

        it('an alert with no options', async () => {
            ok(await fromMongooseIm({ device_id: 'ok-f2', service: 'fcm' }));
            assert.deepEqual(fcmFor('ok-f2')[0].message, {
                token: 'ok-f2',
                android: { notification: { title: 'alice@localhost', body: 'OH, HAI!', tag: 'alice@localhost' } },
                apns: { payload: { aps: { alert: { title: 'alice@localhost', body: 'OH, HAI!' }, badge: 3 } } }
            });
        });

        it('silent: data values as strings (message-count too), no notification, no apns block', async () => {
            ok(await fromMongooseIm({ device_id: 'ok-f3', service: 'fcm', silent: 'true', priority: 'normal', time_to_live: '60' }));
            assert.deepEqual(fcmFor('ok-f3')[0].message, {
                token: 'ok-f3',
                data: { 'last-message-body': 'OH, HAI!', 'last-message-sender': 'alice@localhost', 'message-count': '3' },
                android: { priority: 'normal', ttl: '60s' }
            });
        });

        it('mixed: alert and data, nested values as JSON text', async () => {
            ok(await v3('ok-f4', {
                service: 'fcm', alert: { title: 't', body: 'b', tag: 'g' }, data: { s: 'x', n: 1.5, b: true, o: { a: [1, 'b'] } },
                time_to_live: 0
            }));
            assert.deepEqual(fcmFor('ok-f4')[0].message, {
                token: 'ok-f4',
                data: { s: 'x', n: '1.5', b: 'true', o: '{"a":[1,"b"]}' },
                android: { ttl: '0s', notification: { title: 't', body: 'b', tag: 'g' } },
                apns: { payload: { aps: { alert: { title: 't', body: 'b' } } } }
            });
        });
    });

    describe('what MongooseIM acts on: 410 for a dead token, now or on the next request', () => {
        it('APNs Unregistered, APNs BadDeviceToken and FCM UNREGISTERED: 410 {"reason":"unregistered"}', async () => {
            for (const a of [
                await fromMongooseIm({ device_id: apnsToken('dead-d1'), service: 'apns' }),
                await fromMongooseIm({ device_id: apnsToken('bad-d2'), service: 'apns' }),
                await fromMongooseIm({ device_id: 'dead-d3', service: 'fcm', silent: 'true' })
            ]) {
                assert.equal(a.status, 410);
                assert.deepEqual(a.body, { reason: 'unregistered' });
            }
            // Remembered: the next request answers 410 without sending.
            const again = await fromMongooseIm({ device_id: 'dead-d3', service: 'fcm' });
            assert.equal(again.status, 410);
            assert.equal(fakes.fcm.requestsFor('dead-d3'), 1);
        });

        it('dead, answered by the provider after answerWithinMs: 200 now, 410 on the next request (not sent again)', async () => {
            fakes.fcm.behaviour.delayMs = ANSWER_WITHIN_MS + 300;
            const first = await fromMongooseIm({ device_id: 'dead-late-1', service: 'fcm' });
            ok(first);
            assert.ok(first.ms >= ANSWER_WITHIN_MS - 100, `waited for the answer until the deadline (${Math.round(first.ms)} ms)`);
            await waitUntil('the fake answered', () => fakes.fcm.counters.rejected > 0 && fcmFor('dead-late-1').length === 1);
            await new Promise((r) => setTimeout(r, 500));
            fakes.fcm.behaviour.delayMs = 0;
            const next = await fromMongooseIm({ device_id: 'dead-late-1', service: 'fcm' });
            assert.equal(next.status, 410);
            assert.deepEqual(next.body, { reason: 'unregistered' });
            assert.equal(fakes.fcm.requestsFor('dead-late-1'), 1);
            // The same for APNs.
            fakes.apns.behaviour.delayMs = ANSWER_WITHIN_MS + 300;
            ok(await fromMongooseIm({ device_id: apnsToken('dead-late-2'), service: 'apns' }));
            await waitUntil('the fake answered', () => apnsFor('dead-late-2').length === 1);
            await new Promise((r) => setTimeout(r, ANSWER_WITHIN_MS));
            fakes.apns.behaviour.delayMs = 0;
            assert.equal((await fromMongooseIm({ device_id: apnsToken('dead-late-2'), service: 'apns' })).status, 410);
            assert.equal(fakes.apns.requestsFor(apnsToken('dead-late-2')), 1);
        });

        it('a transient failure: 200, and delivered later by our retries (MongooseIM never retries)', async () => {
            fakes.fcm.behaviour.retryAfterSeconds = 1;
            fakes.fcm.behaviour.failuresPerToken = 1;
            fakes.apns.behaviour.retryAfterSeconds = 1;
            fakes.apns.behaviour.failuresPerToken = 1;
            ok(await fromMongooseIm({ device_id: 'transient-t1', service: 'fcm' }));
            ok(await fromMongooseIm({ device_id: apnsToken('transient-t2'), service: 'apns' }));
            await waitUntil('both retried after Retry-After and delivered', () =>
                fcmFor('transient-t1').length === 2 && apnsFor('transient-t2').length === 2, 15_000);
            assert.ok(fcmFor('transient-t1')[1].at - fcmFor('transient-t1')[0].at >= 900, 'Retry-After: 1 honoured');
            assert.equal(await metricValue('push_notifications_tokens_finished_total', { provider: 'fcm', result: 'delivered' }) > 0, true);
            // Not dead: the next request is sent.
            ok(await fromMongooseIm({ device_id: 'transient-t1', service: 'fcm' }));
            assert.equal(fcmFor('transient-t1').length, 3);
        });

        it('a provider that is down: 200 within the deadline, delivered once it is back', async () => {
            const down = fakes.apns.restart(1500);
            await new Promise((r) => setTimeout(r, 50));
            ok(await fromMongooseIm({ device_id: apnsToken('while-down'), service: 'apns' }));
            await down;
            await waitUntil('delivered after the restart', () => apnsFor('while-down').length === 1, 15_000);
        });

        it('configuration errors are never a 410: MongoosePush\'s classes (400, 503), and the token is not remembered', async () => {
            const expect: [Promise<Answer>, number, string][] = [
                [fromMongooseIm({ device_id: apnsToken('auth-c1'), service: 'apns' }), 503, 'service_internal'],
                [fromMongooseIm({ device_id: apnsToken('topic-c2'), service: 'apns' }), 400, 'invalid_request'],
                [fromMongooseIm({ device_id: 'sender-c3', service: 'fcm' }), 503, 'service_internal'],
                [fromMongooseIm({ device_id: 'badpayload-c4', service: 'fcm' }), 400, 'invalid_request'],
                [fromMongooseIm({ device_id: 'notfound-c5', service: 'fcm' }), 503, 'internal_config']
            ];
            for (const [p, status, reason] of expect) {
                const a = await p;
                assert.equal(a.status, status, JSON.stringify(a.body));
                assert.deepEqual(a.body, { reason });
            }
            assert.equal((await fromMongooseIm({ device_id: 'sender-c3', service: 'fcm' })).status, 503);
            assert.equal(fakes.fcm.requestsFor('sender-c3'), 2, 'sent again: a config error says nothing about the token');
        });

        it('a token that cannot be one (not hex for APNs): 400 invalid_request, never sent, never 410', async () => {
            const a = await fromMongooseIm({ device_id: 'not-a-hex-token', service: 'apns' });
            assert.equal(a.status, 400);
            assert.deepEqual(a.body, { reason: 'invalid_request' });
            assert.equal(fakes.apns.requestsFor('not-a-hex-token'), 0);
        });
    });

    describe('every answer within 2 s under a burst', () => {
        it('200 requests from MongooseIM\'s 50 pool workers, mixed (delivered, dead, transient, slow past the deadline): each within 2 s', async () => {
            // No speed is asserted beyond MongooseIM's 2 s: a dead token whose answer comes
            // after answerWithinMs under this load is a 200 now and a 410 on the next request.
            fakes.fcm.behaviour.slowMs = 3000;
            fakes.apns.behaviour.slowMs = 3000;
            fakes.fcm.behaviour.retryAfterSeconds = 1;
            fakes.apns.behaviour.retryAfterSeconds = 1;
            const kinds = ['ok', 'dead', 'transient', 'slow'] as const;
            const expected: Record<(typeof kinds)[number], readonly number[]> = { ok: [200], dead: [410, 200], transient: [200], slow: [200] };
            const requests = Array.from({ length: 200 }, (_, i) => {
                const kind = kinds[Math.floor(i / 2) % kinds.length];
                const service = i % 2 === 0 ? 'apns' : 'fcm';
                const label = `${kind}-burst-${i}`;
                return { kind, service, label, token: service === 'apns' ? apnsToken(label) : label };
            });
            // Warm, as in production: the pool's connections, and ours to the providers (whose TLS
            // handshakes would otherwise run on this one event loop with the fakes and the client).
            await Promise.all(Array.from({ length: MONGOOSEIM_WORKERS }, async (_, i) => {
                const req = mongooseImRequest({ device_id: i % 2 === 0 ? apnsToken(`ok-warm-${i}`) : `ok-warm-${i}`, service: i % 2 === 0 ? 'apns' : 'fcm' }, ALICE);
                const res = await fetch(`${svc.baseUrl}/${req.path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: req.json });
                assert.equal(res.status, 200, await res.text());
            }));
            // MongooseIM's HTTP pool: `workers` connections (50 in its documented example),
            // each sending its next request as soon as the previous one is answered.
            const answers: { r: (typeof requests)[number]; a: Answer }[] = [];
            let next = 0;
            await Promise.all(Array.from({ length: MONGOOSEIM_WORKERS }, async () => {
                while (next < requests.length) {
                    const r = requests[next++];
                    answers.push({ r, a: await fromMongooseIm({ device_id: r.token, service: r.service, ...(r.kind === 'transient' ? {} : { priority: 'high' }) }) });
                }
            }));
            for (const { r, a } of answers) {
                assert.ok(expected[r.kind].includes(a.status), `${r.service} ${r.label}: ${a.status} ${JSON.stringify(a.body)}`);
                assert.ok(a.ms < MONGOOSEIM_TIMEOUT_MS, `${r.label}: ${Math.round(a.ms)} ms`);
            }
            const late = answers.filter(({ r, a }) => r.kind === 'dead' && a.status === 200).map(({ r }) => r);
            await waitUntil('every dead token answered at the fakes', () => late.every((r) =>
                (r.service === 'apns' ? fakes.apns.requestsFor(r.token) : fakes.fcm.requestsFor(r.token)) === 1));
            await new Promise((r) => setTimeout(r, ANSWER_WITHIN_MS + 500));
            for (const r of late) {
                const a = await fromMongooseIm({ device_id: r.token, service: r.service });
                assert.equal(a.status, 410, `${r.label}, on the next request`);
            }
        });
    });

    describe('schema errors, bad bodies, routes, /healthcheck', () => {
        const err = (pointer: string, message: string) => ({ title: 'Invalid value', source: { pointer }, message });

        it('schema errors: 422 {"errors": [...]} with a JSON pointer to the field; nothing is sent', async () => {

            const cases: [unknown, unknown[]][] = [
                [{ service: 'apns', alert: { title: 't', body: 'b' }, field: 'peek-a-boo' }, [err('/field', 'Unexpected field: field')]],
                [{ alert: { title: 't', body: 'b' } }, [err('/service', 'Missing field: service')]],
                [{ service: 'apns', alert: { title: 't' } }, [err('/alert/body', 'Missing field: body')]],
                [{ service: 'fcm', priority: 'urgent', alert: { title: 't', body: 'b' } }, [err('/priority', 'Invalid value for enum')]],
                [{ service: 'apns', mutable_content: 'yes', alert: { title: 't', body: 'b' } }, [err('/mutable_content', 'Invalid boolean. Got: string')]],
                [{ service: 'fcm', time_to_live: 'infinity', data: { a: 1 } }, [err('/time_to_live', 'Invalid integer. Got: string')]],
                [{ service: 'fcm' }, [err('/alert', 'Missing field: alert')]]
            ];
            for (const [body, errors] of cases) {
                const a = await v3('ok-schema', body);
                assert.equal(a.status, 422, JSON.stringify(body));
                assert.deepEqual(a.body, { errors }, JSON.stringify(body));
            }
            assert.equal(fakes.apns.requestsFor('ok-schema') + fakes.fcm.requestsFor('ok-schema'), 0);
        });

        it('not JSON: 400 invalid_request; tags no pool has: 400 no_matching_pool; unknown paths 404', async () => {
            const notJson = await post('v3/notification/ok-x', '{"service": ');
            assert.equal(notJson.status, 400);
            assert.deepEqual(notJson.body, { reason: 'invalid_request' });
            const tags = await v3('ok-x', { service: 'fcm', tags: ['vip'], alert: { title: 't', body: 'b' } });
            assert.equal(tags.status, 400);
            assert.deepEqual(tags.body, { reason: 'no_matching_pool' });
            const unknown = await post('v3/notifications/ok-x', '{}');
            assert.equal(unknown.status, 404);
            assert.deepEqual(unknown.body, { reason: 'invalid_request' });
            assert.equal(fakes.fcm.requestsFor('ok-x'), 0);
        });

        it('GET /healthcheck: 200, one passing check per provider instance routed to', async () => {
            const res = await fetch(`${svc.baseUrl}/healthcheck`);
            assert.equal(res.status, 200);
            const body = await res.json() as { status: string; checks: Record<string, { componentId: string; componentType: string; status: string }[]> };
            assert.equal(body.status, 'pass');
            assert.deepEqual(Object.keys(body.checks).sort(), ['provider:apns', 'provider:apns-dev', 'provider:fcm']);
            for (const [key, [check]] of Object.entries(body.checks)) {
                assert.equal(check.status, 'pass', key);
                assert.equal(`provider:${check.componentId}`, key);
            }
            assert.equal(body.checks['provider:fcm'][0].componentType, 'fcm');
        });
    });
});
