import assert from 'node:assert/strict';
import { createECDH, randomBytes } from 'node:crypto';
import type { LookupAddress } from 'node:dns';
import { EndpointPolicy, isPublicAddress, publicOnlyLookup, DnsLookup, addressRange } from '../../src/providers/webpush/endpoint-policy';
import { parseSubscription, webPushTokenSyntax } from '../../src/providers/webpush/subscription';
import { answerDetail, webPushStatusRule, WEBPUSH_LOCAL_OUTCOMES, WEBPUSH_STATUS_TABLE } from '../../src/providers/webpush/webpush-errors';
import { renderWebPushMessage, webPushTopic } from '../../src/providers/webpush/webpush-provider';
import { WEBPUSH_DEFAULT_ALLOWED_ENDPOINTS } from '../../src/config/sections/webpush';
import { CHECK_ECHO } from './webpush-helpers';

function keys(): { p256dh: string; auth: string } {
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    return { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') };
}

const ENDPOINT = 'https://fcm.googleapis.com/fcm/send/dQw4w9WgXcQ:APA91bExample';

describe('Web Push subscription syntax (the webpush TokenSyntax)', () => {
    const k = keys();
    const good = JSON.stringify({ endpoint: ENDPOINT, expirationTime: null, keys: k });

    it('accepts a browser subscription: wire is the canonical JSON, key is the endpoint', () => {
        const c = webPushTokenSyntax(good);
        assert.ok(c.ok);
        assert.equal(c.key, ENDPOINT);
        assert.deepEqual(JSON.parse(c.wire), { endpoint: ENDPOINT, keys: k });
        // The same subscription with padding, the standard base64 alphabet and keys in another order: same key.
        const p = Buffer.from(k.p256dh, 'base64url').toString('base64');
        const padded = webPushTokenSyntax(JSON.stringify({ keys: { auth: Buffer.from(k.auth, 'base64url').toString('base64'), p256dh: p }, endpoint: ENDPOINT }));
        assert.ok(padded.ok);
        assert.equal(padded.key, c.key);
        assert.equal(padded.wire, c.wire);
    });

    const bad: [string, string, string][] = [
        ['not JSON', 'dQw4w9WgXcQ:APA91bExample', 'not_json'],
        ['JSON but not an object', '"https://fcm.googleapis.com/x"', 'not_object'],
        ['an array', `[${good}]`, 'not_object'],
        ['no endpoint', JSON.stringify({ keys: k }), 'endpoint_missing'],
        ['endpoint not a URL', JSON.stringify({ endpoint: 'fcm.googleapis.com/x', keys: k }), 'endpoint_not_url'],
        ['plain http endpoint', JSON.stringify({ endpoint: 'http://fcm.googleapis.com/x', keys: k }), 'endpoint_not_https'],
        ['javascript: endpoint', JSON.stringify({ endpoint: 'javascript:alert(1)', keys: k }), 'endpoint_not_https'],
        ['no keys', JSON.stringify({ endpoint: ENDPOINT }), 'keys_missing'],
        ['p256dh missing', JSON.stringify({ endpoint: ENDPOINT, keys: { auth: k.auth } }), 'p256dh_invalid'],
        ['p256dh 64 bytes', JSON.stringify({ endpoint: ENDPOINT, keys: { ...k, p256dh: Buffer.from(k.p256dh, 'base64url').subarray(1).toString('base64url') } }), 'p256dh_invalid'],
        ['p256dh compressed (33 bytes)', JSON.stringify({ endpoint: ENDPOINT, keys: { ...k, p256dh: Buffer.concat([Buffer.from([2]), randomBytes(32)]).toString('base64url') } }), 'p256dh_invalid'],
        ['p256dh not on the curve', JSON.stringify({ endpoint: ENDPOINT, keys: { ...k, p256dh: Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)]).toString('base64url') } }), 'p256dh_invalid'],
        ['p256dh not base64', JSON.stringify({ endpoint: ENDPOINT, keys: { ...k, p256dh: `${k.p256dh.slice(0, -2)}!!` } }), 'p256dh_invalid'],
        ['auth missing', JSON.stringify({ endpoint: ENDPOINT, keys: { p256dh: k.p256dh } }), 'auth_invalid'],
        ['auth 15 bytes', JSON.stringify({ endpoint: ENDPOINT, keys: { ...k, auth: randomBytes(15).toString('base64url') } }), 'auth_invalid'],
        ['auth 32 bytes', JSON.stringify({ endpoint: ENDPOINT, keys: { ...k, auth: randomBytes(32).toString('base64url') } }), 'auth_invalid'],
        ['auth a number', JSON.stringify({ endpoint: ENDPOINT, keys: { ...k, auth: 12345 } }), 'auth_invalid']
    ];
    for (const [name, token, problem] of bad) {
        it(`refuses ${name} as invalid_subscription`, () => {
            assert.deepEqual(webPushTokenSyntax(token), { ok: false, reason: 'invalid_subscription' });
            const p = parseSubscription(token);
            assert.ok(!p.ok);
            assert.equal(p.problem, problem);
        });
    }
});

describe('Web Push endpoint policy (SSRF)', () => {
    const policy = new EndpointPolicy({ allowedEndpoints: WEBPUSH_DEFAULT_ALLOWED_ENDPOINTS, testOnlyLoopbackEndpoints: [] });
    const verdict = (u: string): string => {
        const d = policy.check(new URL(u));
        return d.ok ? `ok ${d.origin}` : d.detail;
    };

    it('allows the four browser push services on 443', () => {
        assert.equal(verdict('https://fcm.googleapis.com/fcm/send/abc'), 'ok https://fcm.googleapis.com');
        assert.equal(verdict('https://fcm.googleapis.com:443/fcm/send/abc'), 'ok https://fcm.googleapis.com');
        assert.equal(verdict('https://updates.push.services.mozilla.com/wpush/v2/abc'), 'ok https://updates.push.services.mozilla.com');
        assert.equal(verdict('https://web.push.apple.com/QGx1'), 'ok https://web.push.apple.com');
        assert.equal(verdict('https://wns2-par02p.notify.windows.com/w/?token=abc'), 'ok https://wns2-par02p.notify.windows.com');
        assert.equal(verdict('https://FCM.GoogleAPIs.com/fcm/send/abc'), 'ok https://fcm.googleapis.com');
    });

    it('refuses other hosts, ports, userinfo and IP literals', () => {
        assert.match(verdict('https://push.apple.com/x'), /not in allowedEndpoints/, 'the glob needs a label before .push.apple.com');
        assert.match(verdict('https://fcm.googleapis.com.evil.example/x'), /not in allowedEndpoints/);
        assert.match(verdict('https://evilfcm.googleapis.com/x'), /not in allowedEndpoints/);
        assert.match(verdict('https://metadata.google.internal/computeMetadata/v1/'), /not in allowedEndpoints/);
        assert.match(verdict('https://fcm.googleapis.com:8443/x'), /port 8443 \(only 443\)/);
        assert.match(verdict('https://user:pw@fcm.googleapis.com/x'), /userinfo/);
        assert.match(verdict('https://fcm.googleapis.com@10.0.0.1/x'), /userinfo/);
        assert.match(verdict('https://127.0.0.1/x'), /IP address/);
        assert.match(verdict('https://169.254.169.254/latest/meta-data/'), /IP address/);
        assert.match(verdict('https://[::1]/x'), /IP address/);
        assert.match(verdict('https://[fd00::1]/x'), /IP address/);
        assert.match(verdict('http://fcm.googleapis.com/x'), /not https/);
    });

    it('a `*` allow-list still refuses IP literals and other ports', () => {
        const open = new EndpointPolicy({ allowedEndpoints: ['*'], testOnlyLoopbackEndpoints: [] });
        assert.ok(open.check(new URL('https://push.example.org/x')).ok);
        assert.ok(!open.check(new URL('https://10.1.2.3/x')).ok);
        assert.ok(!open.check(new URL('https://push.example.org:444/x')).ok);
    });

    it('testOnlyLoopbackEndpoints exempts exactly the listed host:port', () => {
        const t = new EndpointPolicy({ allowedEndpoints: [], testOnlyLoopbackEndpoints: ['127.0.0.1:8443', 'localhost:9000'] });
        const d = t.check(new URL('https://127.0.0.1:8443/push/x'));
        assert.deepEqual(d, { ok: true, origin: 'https://127.0.0.1:8443', loopbackExempt: true });
        assert.ok(t.check(new URL('https://localhost:9000/push/x')).ok);
        assert.ok(!t.check(new URL('https://127.0.0.1:8444/push/x')).ok, 'another port');
        assert.ok(!t.check(new URL('https://localhost:8443/push/x')).ok, 'another host');
        assert.ok(!t.check(new URL('https://127.0.0.2:8443/push/x')).ok, 'another loopback address');
        assert.ok(!t.check(new URL('https://x:y@127.0.0.1:8443/push/x')).ok, 'userinfo still refused');
    });

    describe('public addresses only (connect time)', () => {
        const refused: [string, string][] = [
            ['127.0.0.1', 'loopback'], ['127.1.2.3', 'loopback'], ['10.0.0.1', 'private'], ['172.16.5.4', 'private'],
            ['192.168.1.1', 'private'], ['169.254.169.254', 'linkLocal'], ['100.64.0.1', 'carrierGradeNat'],
            ['100.100.100.200', 'carrierGradeNat'], ['0.0.0.0', 'unspecified'], ['255.255.255.255', 'broadcast'],
            ['224.0.0.1', 'multicast'], ['192.0.2.1', 'reserved'], ['198.18.0.1', 'reserved'], ['240.0.0.1', 'reserved'],
            ['::1', 'loopback'], ['::', 'unspecified'], ['fe80::1', 'linkLocal'], ['fd00:ec2::254', 'uniqueLocal'],
            ['fc00::1', 'uniqueLocal'], ['::ffff:127.0.0.1', 'ipv4Mapped'], ['::ffff:10.0.0.1', 'ipv4Mapped'],
            ['::ffff:8.8.8.8', 'ipv4Mapped'], ['2002:7f00:1::', '6to4'], ['64:ff9b::a00:1', 'rfc6052'], ['ff02::1', 'multicast'],
            ['not-an-ip', 'invalid']
        ];
        for (const [ip, range] of refused) {
            it(`refuses ${ip} (${range})`, () => {
                assert.equal(addressRange(ip), range);
                assert.equal(isPublicAddress(ip), false);
            });
        }
        for (const ip of ['142.250.74.42', '8.8.8.8', '17.188.143.1', '2a00:1450:4007:80f::200a', '2620:149:a44::1']) {
            it(`allows ${ip}`, () => assert.equal(isPublicAddress(ip), true));
        }

        function fakeDns(answers: Record<string, string[]>): DnsLookup {
            return (hostname, _options, callback) => {
                const a = answers[hostname];
                if (!a) {
                    callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
                    return;
                }
                callback(null, a.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 })));
            };
        }
        const lookupOnce = (lookup: ReturnType<typeof publicOnlyLookup>, host: string, all: boolean) => new Promise<{ err: NodeJS.ErrnoException | null; res: unknown }>((resolve) => {
            (lookup as unknown as (h: string, o: object, cb: (err: NodeJS.ErrnoException | null, a?: unknown, f?: unknown) => void) => void)(
                host, { all }, (err, a, f) => resolve({ err, res: all ? a : [a, f] }));
        });

        it('the socket lookup passes public answers through, in both callback forms', async () => {
            const lookup = publicOnlyLookup(fakeDns({ 'fcm.googleapis.com': ['142.250.74.42', '2a00:1450:4007:80f::200a'] }));
            const one = await lookupOnce(lookup, 'fcm.googleapis.com', false);
            assert.equal(one.err, null);
            assert.deepEqual(one.res, ['142.250.74.42', 4]);
            const all = await lookupOnce(lookup, 'fcm.googleapis.com', true);
            assert.deepEqual(all.res, [{ address: '142.250.74.42', family: 4 }, { address: '2a00:1450:4007:80f::200a', family: 6 }]);
        });

        it('refuses a name that resolves (or rebinds) to an inside address, even mixed with a public one', async () => {
            const lookup = publicOnlyLookup(fakeDns({
                'rebind.push.apple.com': ['127.0.0.1'],
                'mixed.push.apple.com': ['17.188.143.1', '169.254.169.254']
            }));
            for (const host of ['rebind.push.apple.com', 'mixed.push.apple.com']) {
                const r = await lookupOnce(lookup, host, false);
                assert.equal(r.err?.code, 'ENDPOINT_NOT_ALLOWED', host);
                assert.match(r.err?.message ?? '', /non-public/);
            }
            const nx = await lookupOnce(lookup, 'nx.push.apple.com', false);
            assert.equal(nx.err?.code, 'ENOTFOUND', 'a DNS failure stays a DNS failure');
        });

        it('a test-only exempt origin may resolve to loopback, never to a private address', async () => {
            const lookup = publicOnlyLookup(fakeDns({ localhost: ['127.0.0.1', '::1'], inside: ['10.0.0.1'] }), true);
            assert.equal((await lookupOnce(lookup, 'localhost', true)).err, null);
            assert.equal((await lookupOnce(lookup, 'inside', true)).err?.code, 'ENDPOINT_NOT_ALLOWED');
        });
    });
});

describe('Web Push status table', () => {
    const expected: [number, string, boolean][] = [
        [201, 'delivered:ok', false], [200, 'delivered:ok', false], [202, 'delivered:ok', false],
        [404, 'dead:http-404', false], [410, 'dead:http-410', false],
        [429, 'transient:http-429', true], [500, 'transient:http-5xx', true], [502, 'transient:http-5xx', true],
        [503, 'transient:http-5xx', true], [504, 'transient:http-5xx', true],
        [400, 'config_error:http-400', false], [401, 'config_error:http-401', false], [403, 'config_error:http-403', false],
        [413, 'config_error:http-413', false], [301, 'config_error:http-3xx', false], [307, 'config_error:http-3xx', false],
        [405, 'config_error:http-4xx', false], [418, 'config_error:http-4xx', false], [999, 'config_error:http-other', false]
    ];
    for (const [status, want, retryAfter] of expected) {
        it(`${status} → ${want}`, () => {
            const r = webPushStatusRule(status);
            assert.equal(`${r.outcome}:${r.reason}`, want);
            assert.equal(r.retryAfter === true, retryAfter);
        });
    }

    it('every row of the table is covered above, and no status is ever dead except 404 and 410', () => {
        for (const row of WEBPUSH_STATUS_TABLE) {
            assert.ok(expected.some(([, want]) => want === `${row.outcome}:${row.reason}`), `row ${String(row.status)} tested`);
        }
        for (let s = 100; s < 1000; s++) {
            assert.equal(webPushStatusRule(s).outcome === 'dead', s === 404 || s === 410, String(s));
        }
    });

    it('local conditions: only invalid_subscription is dead; endpoint_not_allowed never deletes nor loops', () => {
        assert.deepEqual(WEBPUSH_LOCAL_OUTCOMES, {
            invalid_subscription: 'dead', endpoint_not_allowed: 'config_error', payload_too_large: 'config_error',
            timeout: 'transient', network_error: 'transient', closed: 'transient', internal_error: 'config_error'
        });
    });

    it('the error detail is one line, cut, and never carries the endpoint\'s secret path', () => {
        const path = '/fcm/send/dQw4w9WgXcQ:APA91bSecretPart';
        const d = answerDetail(400, `{"error":"bad\nrequest for ${path}","x":"${'y'.repeat(500)}"}`, path);
        assert.ok(!d.includes('APA91bSecretPart'));
        assert.ok(!d.includes('\n'));
        assert.ok(d.length <= 310);
        assert.match(d, /^400 \{"error":"bad request for …"/);
        assert.equal(answerDetail(403, '', path), '403');
    });
});

describe('Web Push rendering', () => {
    const defaults = { ttl: 86400, urgency: 'normal' as const, userAgent: 'UA/1' };

    it('Echo\'s checkEchoV1: plaintext {"type":"checkEchoV1"}, Topic checkEchoV1, the instance TTL and urgency', () => {
        const r = renderWebPushMessage(CHECK_ECHO, defaults);
        assert.equal(r.plaintext.toString(), '{"type":"checkEchoV1"}');
        assert.deepEqual(r.headers, {
            'TTL': '86400', 'Urgency': 'normal', 'Topic': 'checkEchoV1', 'Content-Encoding': 'aes128gcm',
            'Content-Type': 'application/octet-stream', 'User-Agent': 'UA/1'
        });
    });

    it('webpush.payload wins over data; ttlSeconds and priority win over the instance defaults', () => {
        const r = renderWebPushMessage({ type: 't', data: { a: 1 }, webpush: { payload: { b: [2] } }, ttlSeconds: 60, priority: 'high' }, defaults);
        assert.equal(r.plaintext.toString(), '{"b":[2]}');
        assert.equal(r.headers.TTL, '60');
        assert.equal(r.headers.Urgency, 'high');
        assert.equal(r.headers.Topic, undefined);
        assert.equal(renderWebPushMessage({ type: 't' }, { ...defaults, urgency: 'low' }).plaintext.toString(), '{}');
        assert.equal(renderWebPushMessage({ type: 't' }, { ...defaults, urgency: 'low' }).headers.Urgency, 'low');
        assert.equal(renderWebPushMessage({ type: 't', data: { a: 1 } }, defaults).plaintext.toString(), '{"a":1}');
    });

    it('a collapse key that is not a valid Topic becomes a stable 32-character base64url one', () => {
        assert.equal(webPushTopic('checkEchoV1'), 'checkEchoV1');
        const t = webPushTopic('!room:example.org/with spaces and more than thirty-two characters');
        assert.match(t, /^[A-Za-z0-9_-]{32}$/);
        assert.equal(webPushTopic('!room:example.org/with spaces and more than thirty-two characters'), t);
        assert.notEqual(webPushTopic('!other:example.org'), t);
    });
});
