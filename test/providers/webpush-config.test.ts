import assert from 'node:assert/strict';
import { generateKeyPairSync, verify } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import Ajv from 'ajv';
import { ConfigError } from '../../src/config/config-error';
import {
    publicPointOf, validateWebPushConfig, WEBPUSH_DEFAULT_ALLOWED_ENDPOINTS, WebPushConfig, webpushProperties, webpushSchema
} from '../../src/config/sections/webpush';
import { signVapidJwt } from '../../src/providers/webpush/vapid';
import { vapidKeyPair, webpushSettings } from './webpush-helpers';

function withDefaults(raw: Record<string, unknown>): WebPushConfig {
    return webpushSettings(raw);
}

function schemaErrors(raw: Record<string, unknown>): string[] {
    const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, allowUnionTypes: true });
    const validate = ajv.compile({ type: 'object', properties: { w: webpushSchema } });
    return validate({ w: raw }) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
}

function expectConfigError(fn: () => unknown, key: string, problem: RegExp): void {
    assert.throws(fn, (e: unknown) => {
        assert.ok(e instanceof ConfigError, `a ConfigError, got ${String(e)}`);
        assert.equal(e.key, key);
        assert.match(e.message, problem);
        return true;
    });
}

describe('webpush config', () => {
    const keys = vapidKeyPair();
    const subject = 'mailto:push-admins@example.org';

    it('compiles under ajv strict mode and applies the defaults', () => {
        const c = withDefaults({ vapid: { subject, ...keys } });
        assert.deepEqual(c.allowedEndpoints, [...WEBPUSH_DEFAULT_ALLOWED_ENDPOINTS]);
        assert.deepEqual(c.allowedEndpoints, ['fcm.googleapis.com', 'updates.push.services.mozilla.com', '*.push.apple.com', '*.notify.windows.com']);
        assert.equal(c.ttl, 86400);
        assert.equal(c.urgency, 'normal');
        assert.equal(c.mock, false);
        assert.equal(c.requestTimeoutMs, 10000);
        assert.equal(c.maxSocketsPerOrigin, 50);
        assert.deepEqual(c.testOnlyLoopbackEndpoints, []);
        // providers.<id> entries reuse the same properties (the lead adds `kind`).
        assert.equal(webpushProperties, webpushSchema.properties);
    });

    it('refuses unknown keys, bad globs, non-loopback test endpoints, and subjects that are not mailto:/https:', () => {
        assert.ok(schemaErrors({ vapid: { subject, ...keys }, allowedEndpoint: [] }).length > 0, 'typo refused');
        assert.ok(schemaErrors({ allowedEndpoints: ['https://fcm.googleapis.com'] }).length > 0, 'a URL is not a host glob');
        assert.ok(schemaErrors({ allowedEndpoints: ['FCM.googleapis.com'] }).length > 0, 'lower-case only');
        for (const bad of ['10.0.0.5:443', '169.254.169.254:80', 'example.org:8443', '127.0.0.1']) {
            assert.ok(schemaErrors({ testOnlyLoopbackEndpoints: [bad] }).length > 0, `${bad} refused`);
        }
        for (const ok of ['127.0.0.1:8443', 'localhost:9000', '[::1]:8443']) {
            assert.deepEqual(schemaErrors({ testOnlyLoopbackEndpoints: [ok] }), [], `${ok} accepted`);
        }
        assert.ok(schemaErrors({ vapid: { subject: 'push-admins@example.org', ...keys } }).length > 0, 'bare address refused');
        assert.ok(schemaErrors({ vapid: { subject: 'http://example.org', ...keys } }).length > 0, 'http refused');
        assert.ok(schemaErrors({ urgency: 'urgent' }).length > 0);
        assert.ok(schemaErrors({ ttl: -1 }).length > 0);
    });

    it('loads a matching key pair; the key signs JWTs that verify against the public key', () => {
        const v = validateWebPushConfig(withDefaults({ vapid: { subject, ...keys } }));
        assert.equal(v.publicKey, keys.publicKey);
        assert.equal(v.subject, subject);
        const jwt = signVapidJwt(v, 'https://fcm.googleapis.com', 2_000_000_000);
        const [h, c, s] = jwt.split('.');
        assert.deepEqual(JSON.parse(Buffer.from(h, 'base64url').toString()), { typ: 'JWT', alg: 'ES256' });
        assert.deepEqual(JSON.parse(Buffer.from(c, 'base64url').toString()), { aud: 'https://fcm.googleapis.com', exp: 2_000_000_000, sub: subject });
        assert.equal(Buffer.from(s, 'base64url').length, 64, 'raw r||s, not DER');
        const pub = { key: { kty: 'EC', crv: 'P-256', x: Buffer.from(keys.publicKey, 'base64url').subarray(1, 33).toString('base64url'), y: Buffer.from(keys.publicKey, 'base64url').subarray(33).toString('base64url') }, format: 'jwk' as const, dsaEncoding: 'ieee-p1363' as const };
        assert.ok(verify('sha256', Buffer.from(`${h}.${c}`), pub, Buffer.from(s, 'base64url')));
    });

    it('reads privateKeyFile: a raw base64url key or an EC PEM', () => {
        const dir = mkdtempSync(path.join(tmpdir(), 'vapid-'));
        writeFileSync(path.join(dir, 'raw.key'), `${keys.privateKey}\n`);
        const raw = validateWebPushConfig(withDefaults({ vapid: { subject, publicKey: keys.publicKey, privateKeyFile: 'raw.key' } }), { baseDir: dir });
        assert.equal(raw.publicKey, keys.publicKey);

        const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
        writeFileSync(path.join(dir, 'vapid.pem'), pair.privateKey.export({ type: 'sec1', format: 'pem' }));
        const pem = validateWebPushConfig(withDefaults({
            vapid: { subject, publicKey: publicPointOf(pair.publicKey).toString('base64url'), privateKeyFile: path.join(dir, 'vapid.pem') }
        }));
        assert.equal(pem.publicKey, publicPointOf(pair.publicKey).toString('base64url'));
    });

    describe('start-up errors name the key', () => {
        const other = vapidKeyPair();
        const cases: [string, Record<string, unknown>, string, RegExp][] = [
            ['a private key of another pair', { vapid: { subject, publicKey: keys.publicKey, privateKey: other.privateKey } },
                'webpush.vapid.privateKey', /^config: webpush\.vapid\.privateKey: does not match webpush\.vapid\.publicKey$/],
            ['a public key of the wrong length', { vapid: { subject, publicKey: keys.publicKey.slice(0, 86), privateKey: keys.privateKey } },
                'webpush.vapid.publicKey', /65-byte uncompressed P-256 point/],
            ['a compressed public key', { vapid: { subject, publicKey: Buffer.concat([Buffer.from([2]), Buffer.from(keys.publicKey, 'base64url').subarray(1, 33)]).toString('base64url'), privateKey: keys.privateKey } },
                'webpush.vapid.publicKey', /65-byte uncompressed/],
            ['a public key off the curve', { vapid: { subject, publicKey: Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 7)]).toString('base64url'), privateKey: keys.privateKey } },
                'webpush.vapid.publicKey', /not a point on the P-256 curve/],
            ['a private key of the wrong length', { vapid: { subject, publicKey: keys.publicKey, privateKey: keys.privateKey.slice(0, 40) } },
                'webpush.vapid.privateKey', /32-byte P-256 private key; got 30 bytes/],
            ['a private key of zero', { vapid: { subject, publicKey: keys.publicKey, privateKey: Buffer.alloc(32).toString('base64url') } },
                'webpush.vapid.privateKey', /not a valid P-256 private key/],
            ['both privateKey and privateKeyFile', { vapid: { subject, ...keys, privateKeyFile: '/nonexistent' } },
                'webpush.vapid.privateKey', /exactly one of privateKey and privateKeyFile/],
            ['neither privateKey nor privateKeyFile', { vapid: { subject, publicKey: keys.publicKey } },
                'webpush.vapid.privateKey', /exactly one/],
            ['an unreadable privateKeyFile', { vapid: { subject, publicKey: keys.publicKey, privateKeyFile: '/nonexistent/vapid.key' } },
                'webpush.vapid.privateKeyFile', /cannot read \/nonexistent\/vapid\.key: ENOENT/],
            ['no vapid block outside mock mode', {}, 'webpush.vapid', /is required/],
            ['a mailto: subject at localhost (Apple refuses it)', { vapid: { subject: 'mailto:me@localhost', ...keys } },
                'webpush.vapid.subject', /localhost/],
            ['an https: subject at localhost', { vapid: { subject: 'https://localhost/contact', ...keys } },
                'webpush.vapid.subject', /localhost/]
        ];
        for (const [name, raw, key, problem] of cases) {
            it(name, () => expectConfigError(() => validateWebPushConfig(withDefaults(raw)), key, problem));
        }

        it('under a providers.<id> entry, the key names that entry', () => {
            expectConfigError(() => validateWebPushConfig(withDefaults({ vapid: { subject, publicKey: keys.publicKey, privateKey: other.privateKey } }), { key: 'providers.webpush-beta' }),
                'providers.webpush-beta.vapid.privateKey', /does not match providers\.webpush-beta\.vapid\.publicKey/);
        });

        it('testOnlyLoopbackEndpoints is refused under NODE_ENV=production', () => {
            const c = withDefaults({ vapid: { subject, ...keys }, testOnlyLoopbackEndpoints: ['127.0.0.1:8443'] });
            expectConfigError(() => validateWebPushConfig(c, { env: { NODE_ENV: 'production' } }), 'webpush.testOnlyLoopbackEndpoints', /tests and dev mode only/);
            assert.doesNotThrow(() => validateWebPushConfig(c, { env: {} }));
        });
    });

    it('mock mode without vapid gets a throwaway key pair', () => {
        const v = validateWebPushConfig(withDefaults({ mock: true }));
        assert.equal(Buffer.from(v.publicKey, 'base64url').length, 65);
        assert.ok(v.privateKey);
    });
});
