import assert from 'node:assert/strict';
import { createECDH, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generate } from 'selfsigned';
import { ConfigError } from '../../../src/config/config-error';
import { MatrixApp, parseMatrixApps, readVapidKey } from '../../../src/front-doors/matrix/apps-config';
import type { ProviderKind } from '../../../src/push/provider';
import { createApnsSigningKey } from '../../fakes/tls';

/**
 * `matrix.apps`: Sygnal's `apps:` block (sygnal.yaml.sample, docs/applications.md, each
 * pushkin's UNDERSTOOD_CONFIG_FIELDS and __init__ checks).
 */

let dir: string;
const files = {
    cert: 'apns-cert.pem',
    certNoKey: 'apns-cert-only.pem',
    certNoUid: 'apns-cert-nouid.pem',
    p8: 'AuthKey_ABC123.p8',
    sa: 'service-account.json',
    saNoKey: 'service-account-nokey.json',
    vapidPkcs8: 'vapid-pkcs8.pem',
    vapidSec1: 'vapid-sec1.pem',
    vapidDer: 'vapid.der.b64',
    vapidRaw: 'vapid.raw.b64',
    rsa: 'rsa.pem',
    notJson: 'not.json'
};
let vapid: { publicKey: string; privateKey: string };

before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'matrix-apps-'));
    const w = (name: string, text: string): void => writeFileSync(path.join(dir, name), text);
    const uid = { name: '0.9.2342.19200300.100.1.1', value: 'com.example.voip' } as any;
    const cert = await generate([uid, { name: 'commonName', value: 'Apple Push Services: com.example.voip' }], { keyType: 'ec' });
    // As `openssl pkcs12 -nodes` writes it: key first, with Bag Attributes lines.
    w(files.cert, `Bag Attributes\n    localKeyID: 01\n${cert.private.trim()}\nBag Attributes\n    friendlyName: x\n${cert.cert.trim()}\n`);
    w(files.certNoKey, cert.cert);
    const noUid = await generate([{ name: 'commonName', value: 'no uid' }], { keyType: 'ec' });
    w(files.certNoUid, `${noUid.cert.trim()}\n${noUid.private}`);
    w(files.p8, createApnsSigningKey().privateKey);
    w(files.sa, JSON.stringify({ type: 'service_account', project_id: 'p', client_email: 'x@p.iam.gserviceaccount.com', private_key: 'k' }));
    w(files.saNoKey, JSON.stringify({ type: 'service_account', client_email: 'x@p' }));
    w(files.notJson, '{');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    w(files.vapidPkcs8, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    w(files.vapidSec1, privateKey.export({ type: 'sec1', format: 'pem' }).toString());
    w(files.vapidDer, (privateKey.export({ type: 'pkcs8', format: 'der' })).toString('base64url'));
    const d = Buffer.from(privateKey.export({ format: 'jwk' }).d as string, 'base64url');
    w(files.vapidRaw, d.toString('base64url'));
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(d);
    vapid = { publicKey: ecdh.getPublicKey().toString('base64url'), privateKey: d.toString('base64url') };
    w(files.rsa, generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
});

after(() => {
    rmSync(dir, { recursive: true, force: true });
});

const providers = new Map<string, ProviderKind>([['apns-prod', 'apns'], ['fcm-main', 'fcm'], ['webpush', 'webpush']]);
const parse = (apps: unknown) => parseMatrixApps(apps, { baseDir: dir, providers });
const one = (settings: Record<string, unknown>, name = 'com.example.app'): { app: MatrixApp; warnings: readonly string[] } => {
    const r = parse({ [name]: settings });
    return { app: r.apps[0], warnings: r.warnings };
};
const apnsToken = { type: 'apns', keyfile: files.p8, key_id: 'ABC123', team_id: 'TEAM1', topic: 'com.example.app' };
const gcm = { type: 'gcm', api_version: 'v1', project_id: 'p', service_account_file: files.sa };
const webpush = { type: 'webpush', vapid_private_key: files.vapidPkcs8, vapid_contact_email: 'push@example.org' };

describe('matrix.apps: app ids and globs (Sygnal find_pushkins)', () => {
    const apps = () => parse({
        'com.example.app': apnsToken,
        'com.example.*': gcm,
        '*.android': gcm,
        'im.vector.app.ios.?': webpush,
        'org.exact': { provider: 'webpush' }
    });

    const table: [string, string][] = [
        ['com.example.app', 'com.example.app'],
        ['com.example.other', 'com.example.*'],
        ['com.example.', 'com.example.*'],
        ['com.example.x.android', 'ambiguous'],
        ['org.thing.android', '*.android'],
        ['im.vector.app.ios.1', 'im.vector.app.ios.?'],
        ['im.vector.app.ios.12', 'unknown'],
        ['org.exact', 'org.exact'],
        ['org.exactly', 'unknown'],
        ['COM.EXAMPLE.OTHER', 'unknown'],
        ['com.example\nx', 'unknown'],
        ['comxexample.other', 'unknown'],
        ['', 'unknown']
    ];
    for (const [appId, expected] of table) {
        it(`${JSON.stringify(appId)} -> ${expected}`, () => {
            const hit = apps().findApp(appId);
            assert.equal(typeof hit === 'string' ? hit : hit.name, expected);
        });
    }

    it('an exact name wins even when globs also match it', () => {
        const r = parse({ 'a.*': gcm, '*.b': gcm, 'a.b': gcm });
        assert.equal((r.findApp('a.b') as MatrixApp).name, 'a.b');
        assert.equal(r.findApp('a.x.b'), 'ambiguous');
    });

    it('a name with regex characters is literal', () => {
        const r = parse({ 'a+b(c)[d]$^|.x': gcm, 'e.*': gcm });
        assert.equal((r.findApp('a+b(c)[d]$^|.x') as MatrixApp).name, 'a+b(c)[d]$^|.x');
        assert.equal(r.findApp('aab(c)[d]$^|.x'), 'unknown');
        assert.equal((r.findApp('e.+') as MatrixApp).name, 'e.*');
    });
});

describe('matrix.apps: APNs apps', () => {
    it('token auth (keyfile): defaults as Sygnal\'s', () => {
        const { app, warnings } = one(apnsToken);
        assert.deepEqual(app, {
            name: 'com.example.app', scheduling: 'immediate', providerId: 'matrix/com.example.app', kind: 'apns',
            payload: { convertDeviceTokenToHex: true, sendBadgeCounts: true, pushType: undefined, defaultPayload: undefined, topic: undefined },
            create: { kind: 'apns', production: true, token: { key: path.join(dir, files.p8), keyId: 'ABC123', teamId: 'TEAM1' }, topic: 'com.example.app' }
        });
        assert.deepEqual(warnings, []);
    });

    it('certificate auth (certfile): the topic comes from the certificate UID, the expiry is known', () => {
        const { app } = one({ type: 'apns', certfile: files.cert, platform: 'sandbox' });
        assert.equal(app.kind, 'apns');
        const create = app.create as any;
        assert.equal(create.production, false);
        assert.equal(create.certPemFile, path.join(dir, files.cert));
        assert.equal(create.topic, 'com.example.voip');
        assert.ok(create.certNotAfterMs > Date.now());
        assert.equal(create.token, undefined);
        const withTopic = one({ type: 'apns', certfile: files.cert, topic: 'com.other' });
        assert.equal((withTopic.app.create as any).topic, 'com.example.voip');
        assert.deepEqual(withTopic.warnings, ['matrix.apps.com.example.app.topic: ignored: with certfile the topic is the certificate\'s UID, \'com.example.voip\' (as in Sygnal)']);
        assert.equal((one({ type: 'apns', certfile: files.certNoUid, topic: 'com.other' }).app.create as any).topic, 'com.other');
    });

    it('platform production, prod, or absent is production; sandbox is not', () => {
        for (const [platform, production] of [['production', true], ['prod', true], [undefined, true], ['sandbox', false]] as const) {
            assert.equal((one({ ...apnsToken, platform }).app.create as any).production, production, String(platform));
        }
    });

    it('payload keys', () => {
        const { app } = one({ ...apnsToken, push_type: 'voip', convert_device_token_to_hex: false, send_badge_counts: false, default_payload: { aps: { 'mutable-content': 1 } } });
        assert.deepEqual(app.payload, { convertDeviceTokenToHex: false, sendBadgeCounts: false, pushType: 'voip', defaultPayload: { aps: { 'mutable-content': 1 } }, topic: undefined });
    });

    it('both certfile and keyfile: the certificate wins, with a warning', () => {
        const { app, warnings } = one({ ...apnsToken, certfile: files.cert });
        assert.ok((app.create as any).certPemFile);
        assert.deepEqual(warnings, [
            'matrix.apps.com.example.app.keyfile: ignored: certfile is set, and wins (as in Sygnal)',
            'matrix.apps.com.example.app.topic: ignored: with certfile the topic is the certificate\'s UID, \'com.example.voip\' (as in Sygnal)'
        ]);
    });
});

describe('matrix.apps: FCM apps', () => {
    it('v1 with fcm_options and max_connections', () => {
        const fcmOptions = { android: { notification: { body: 'x' } }, apns: { payload: { aps: { 'content-available': 1 } } } };
        const { app, warnings } = one({ ...gcm, fcm_options: fcmOptions, send_badge_counts: false, max_connections: 5 });
        assert.deepEqual(app, {
            name: 'com.example.app', scheduling: 'immediate', providerId: 'matrix/com.example.app', kind: 'fcm',
            payload: { sendBadgeCounts: false, fcmOptions, defaultPayload: undefined },
            create: { kind: 'fcm', service_account: path.join(dir, files.sa), project_id: 'p', max_sockets: 5 }
        });
        assert.deepEqual(warnings, []);
    });

    it('no api_version: v1, with a warning (Sygnal would use the shut-down legacy API)', () => {
        const { app, warnings } = one({ type: 'gcm', project_id: 'p', service_account_file: files.sa });
        assert.equal((app.create as any).project_id, 'p');
        assert.deepEqual(warnings, ['matrix.apps.com.example.app.api_version: not set; using v1 (Sygnal would default to the shut-down legacy API)']);
    });

    it('fcm_options that FCM v1 will refuse, or that the notification replaces, are warned about', () => {
        const { warnings } = one({ ...gcm, fcm_options: { content_available: true, data: {}, token: 'x', android: {} } });
        assert.deepEqual(warnings, [
            'matrix.apps.com.example.app.fcm_options.content_available: not a field of an FCM v1 message (a legacy API option?); FCM will refuse every message',
            'matrix.apps.com.example.app.fcm_options.data: ignored: the notification sets message.data (as in Sygnal)',
            'matrix.apps.com.example.app.fcm_options.token: ignored: the notification sets message.token (as in Sygnal)'
        ]);
    });

    it('an api_key next to v1 settings is ignored, with a warning', () => {
        const { warnings } = one({ ...gcm, api_key: 'kii' });
        assert.deepEqual(warnings, ['matrix.apps.com.example.app.api_key: ignored: FCM v1 authenticates with service_account_file']);
    });
});

describe('matrix.apps: Web Push apps', () => {
    for (const [form, file] of [['PKCS#8 PEM', files.vapidPkcs8], ['SEC1 PEM', files.vapidSec1], ['base64url DER', files.vapidDer], ['raw base64url', files.vapidRaw]]) {
        it(`the VAPID key pair is derived from a ${form} file`, () => {
            const { app } = one({ ...webpush, vapid_private_key: file });
            assert.deepEqual(app.create, { kind: 'webpush', vapid: { subject: 'mailto:push@example.org', ...vapid }, ttlSeconds: 900 });
        });
    }

    it('the derived public key is the private key\'s (a signature verifies)', () => {
        const { app } = one(webpush);
        const v = (app.create as any).vapid;
        assert.equal(Buffer.from(v.publicKey, 'base64url').length, 65);
        assert.equal(Buffer.from(v.privateKey, 'base64url').length, 32);
        const jwk = { kty: 'EC', crv: 'P-256', d: v.privateKey, x: Buffer.from(v.publicKey, 'base64url').subarray(1, 33).toString('base64url'), y: Buffer.from(v.publicKey, 'base64url').subarray(33).toString('base64url') };
        assert.doesNotThrow(() => createPrivateKey({ key: jwk, format: 'jwk' }));
    });

    it('ttl, allowed_endpoints, a subject that is already a URI', () => {
        const { app } = one({ ...webpush, ttl: 60, allowed_endpoints: ['*.mozilla.com', 'FCM.googleapis.com'], vapid_contact_email: 'https://example.org/contact' });
        assert.equal((app.create as any).ttlSeconds, 60);
        assert.equal((app.create as any).vapid.subject, 'https://example.org/contact');
        const allowed = (app.payload as any).allowedEndpoints as RegExp[];
        assert.ok(allowed[0].test('updates.push.services.mozilla.com'));
        assert.ok(allowed[1].test('fcm.googleapis.com'));
        assert.ok(!allowed[1].test('fcm.googleapis.com:8443'));
    });

    it('an empty allowed_endpoints allows everything (as in Sygnal)', () => {
        assert.equal((one({ ...webpush, allowed_endpoints: [] }).app.payload as any).allowedEndpoints, undefined);
    });

    it('a localhost contact is warned about (Apple refuses it)', () => {
        assert.deepEqual(one({ ...webpush, vapid_contact_email: 'me@localhost' }).warnings,
            ['matrix.apps.com.example.app.vapid_contact_email: Apple\'s push service refuses a localhost address (BadJwtToken)']);
    });
});

describe('matrix.apps: provider apps, scheduling, warnings', () => {
    it('provider: <id> takes the kind from the registry, and only payload keys apply', () => {
        const { app, warnings } = one({ provider: 'apns-prod', push_type: 'alert', certfile: 'ignored.pem', scheduling: 'batched' });
        assert.deepEqual(app, {
            name: 'com.example.app', scheduling: 'batched', providerId: 'apns-prod', kind: 'apns',
            payload: { convertDeviceTokenToHex: true, sendBadgeCounts: true, pushType: 'alert', defaultPayload: undefined, topic: undefined }, create: undefined
        });
        assert.deepEqual(warnings, ['matrix.apps.com.example.app.certfile: ignored: the app sends through provider \'apns-prod\', with its settings']);
    });

    it('an APNs provider app may name its own topic (one token key serves every app of a team)', () => {
        const { app, warnings } = one({ provider: 'apns-prod', topic: 'com.example.other' });
        assert.equal((app.payload as any).topic, 'com.example.other');
        assert.deepEqual(warnings, []);
        assert.equal((one(apnsToken).app.payload as any).topic, undefined, 'a type: app\'s topic is its instance\'s');
    });

    it('type and provider together must agree', () => {
        assert.equal(one({ type: 'gcm', provider: 'fcm-main' }).app.kind, 'fcm');
    });

    it('unknown keys are warnings, one per key, as Sygnal logs them', () => {
        const { warnings } = one({ ...apnsToken, max_connections: 3, colour: 'blue' });
        assert.deepEqual(warnings, [
            'matrix.apps.com.example.app.max_connections: not understood (ignored)',
            'matrix.apps.com.example.app.colour: not understood (ignored)'
        ]);
    });

    it('Sygnal\'s inflight_request_limit is accepted, with a warning that it has no effect', () => {
        assert.deepEqual(one({ ...gcm, inflight_request_limit: 512 }).warnings,
            ['matrix.apps.com.example.app.inflight_request_limit: has no effect here (the provider instance\'s limits apply)']);
    });

    it('a pasted Sygnal config with three kinds parses', () => {
        const r = parse({
            'im.vector.app.ios.prod': { type: 'apns', keyfile: files.p8, key_id: 'K', team_id: 'T', topic: 'im.vector.app', platform: 'production' },
            'im.vector.app.android': { type: 'gcm', api_version: 'v1', project_id: 'p', service_account_file: files.sa },
            'im.vector.app.web': { type: 'webpush', vapid_private_key: files.vapidPkcs8, vapid_contact_email: 'a@b.org', allowed_endpoints: ['*.push.services.mozilla.com'] }
        });
        assert.deepEqual(r.apps.map((a) => [a.name, a.kind, a.providerId]), [
            ['im.vector.app.ios.prod', 'apns', 'matrix/im.vector.app.ios.prod'],
            ['im.vector.app.android', 'fcm', 'matrix/im.vector.app.android'],
            ['im.vector.app.web', 'webpush', 'matrix/im.vector.app.web']
        ]);
        assert.deepEqual(r.warnings, []);
    });
});

describe('matrix.apps: errors name the key', () => {
    const table: [string, unknown, string][] = [
        ['apps not a mapping', ['a'], 'config: matrix.apps: must be a mapping of app ids (or globs) to app settings'],
        ['no apps', {}, 'config: matrix.apps: no app is configured (every pushkey would be rejected)'],
        ['an app that is not a mapping', { a: 'apns' }, 'config: matrix.apps.a: must be a mapping (type: apns|gcm|webpush, or provider: <id>)'],
        ['no type or provider', { a: { platform: 'sandbox' } }, 'config: matrix.apps.a.type: missing: set type (apns, gcm or webpush) or provider (a provider instance id)'],
        ['unknown type', { a: { type: 'mqtt' } }, 'config: matrix.apps.a.type: must be apns, gcm or webpush, not \'mqtt\''],
        ['prototype name as type', { a: { type: 'toString' } }, 'config: matrix.apps.a.type: must be apns, gcm or webpush, not \'toString\''],
        ['custom pushkin class', { a: { type: 'tests.test_gcm.TestGcmPushkin' } }, 'config: matrix.apps.a.type: custom pushkin classes are not supported (\'tests.test_gcm.TestGcmPushkin\'); use apns, gcm or webpush'],
        ['type not a string', { a: { type: 1 } }, 'config: matrix.apps.a.type: must be a string, not number 1'],
        ['unknown provider', { a: { provider: 'nope' } }, 'config: matrix.apps.a.provider: no provider instance \'nope\' is configured'],
        ['type and provider disagree', { a: { type: 'apns', provider: 'fcm-main' } }, 'config: matrix.apps.a.provider: \'fcm-main\' is a fcm provider, but type is apns'],
        ['bad scheduling', { a: { ...gcm, scheduling: 'later' } }, 'config: matrix.apps.a.scheduling: must be one of immediate, batched, not \'later\''],
        ['inflight_request_limit not an integer', { a: { ...gcm, inflight_request_limit: 'many' } }, 'config: matrix.apps.a.inflight_request_limit: must be an integer >= 1, not string "many"'],
        ['bad platform', { a: { ...apnsToken, platform: 'staging' } }, 'config: matrix.apps.a.platform: must be production or sandbox, not \'staging\''],
        ['no credentials', { a: { type: 'apns' } }, 'config: matrix.apps.a.certfile: missing: set certfile (a PEM file with certificate and key), or keyfile with key_id, team_id and topic'],
        ['keyfile without key_id', { a: { ...apnsToken, key_id: undefined } }, 'config: matrix.apps.a.key_id: missing: token auth (keyfile) needs key_id, team_id and topic'],
        ['keyfile without team_id', { a: { ...apnsToken, team_id: undefined } }, 'config: matrix.apps.a.team_id: missing: token auth (keyfile) needs key_id, team_id and topic'],
        ['keyfile without topic', { a: { ...apnsToken, topic: undefined } }, 'config: matrix.apps.a.topic: missing: token auth (keyfile) needs key_id, team_id and topic'],
        ['keyfile missing', { a: { ...apnsToken, keyfile: 'nope.p8' } }, `config: matrix.apps.a.keyfile: cannot read the APNs signing key ${'DIR'}/nope.p8: ENOENT`],
        ['keyfile not a key', { a: { ...apnsToken, keyfile: files.sa } }, 'config: matrix.apps.a.keyfile: service-account.json is not a PEM private key (an AuthKey_<key id>.p8 file)'],
        ['certfile missing', { a: { type: 'apns', certfile: 'nope.pem' } }, `config: matrix.apps.a.certfile: cannot read the APNs certificate ${'DIR'}/nope.pem: ENOENT`],
        ['certfile without a key', { a: { type: 'apns', certfile: files.certNoKey } }, 'config: matrix.apps.a.certfile: apns-cert-only.pem has no private key: it must hold the certificate and its key, as for Sygnal'],
        ['certfile not a certificate', { a: { type: 'apns', certfile: files.p8 } }, 'config: matrix.apps.a.certfile: AuthKey_ABC123.p8 holds no PEM certificate'],
        ['certfile without UID and no topic', { a: { type: 'apns', certfile: files.certNoUid } }, 'config: matrix.apps.a.topic: missing: the certificate names no bundle id (UID); set topic'],
        ['bad push_type', { a: { ...apnsToken, push_type: 'loud' } }, 'config: matrix.apps.a.push_type: must be one of alert, background, voip, complication, fileprovider, mdm, location, liveactivity, pushtotalk, not \'loud\''],
        ['convert_device_token_to_hex not a boolean', { a: { ...apnsToken, convert_device_token_to_hex: 'yes' } }, 'config: matrix.apps.a.convert_device_token_to_hex: must be true or false, not string "yes"'],
        ['send_badge_counts not a boolean', { a: { ...gcm, send_badge_counts: 0 } }, 'config: matrix.apps.a.send_badge_counts: must be true or false, not number 0'],
        ['default_payload not a mapping', { a: { ...apnsToken, default_payload: [] } }, 'config: matrix.apps.a.default_payload: must be a mapping, not a list'],
        ['legacy api_version', { a: { ...gcm, api_version: 'legacy' } }, 'config: matrix.apps.a.api_version: the legacy FCM API is shut down (June 2024); set api_version: v1, project_id and service_account_file'],
        ['a legacy config (api_key only)', { a: { type: 'gcm', api_key: 'kii' } }, 'config: matrix.apps.a.api_version: the legacy FCM API is shut down (June 2024); set api_version: v1, project_id and service_account_file'],
        ['unknown api_version', { a: { ...gcm, api_version: 'v2' } }, 'config: matrix.apps.a.api_version: must be v1, not \'v2\''],
        ['no project_id', { a: { ...gcm, project_id: undefined } }, 'config: matrix.apps.a.project_id: missing: FCM v1 needs project_id'],
        ['no service_account_file', { a: { ...gcm, service_account_file: undefined } }, 'config: matrix.apps.a.service_account_file: missing: FCM v1 needs service_account_file'],
        ['service account not JSON', { a: { ...gcm, service_account_file: files.notJson } }, 'config: matrix.apps.a.service_account_file: not.json is not valid JSON'],
        ['service account without a key', { a: { ...gcm, service_account_file: files.saNoKey } }, 'config: matrix.apps.a.service_account_file: service-account-nokey.json is not a service-account file (needs client_email and private_key)'],
        ['fcm_options not a mapping', { a: { ...gcm, fcm_options: 'x' } }, 'config: matrix.apps.a.fcm_options: must be a mapping, not string "x"'],
        ['max_connections 0', { a: { ...gcm, max_connections: 0 } }, 'config: matrix.apps.a.max_connections: must be an integer >= 1, not number 0'],
        ['no vapid_private_key', { a: { ...webpush, vapid_private_key: undefined } }, 'config: matrix.apps.a.vapid_private_key: missing: the path of the VAPID private key (PEM) file'],
        ['vapid key missing', { a: { ...webpush, vapid_private_key: 'nope.pem' } }, `config: matrix.apps.a.vapid_private_key: cannot read the VAPID key file ${'DIR'}/nope.pem: ENOENT`],
        ['vapid key not P-256', { a: { ...webpush, vapid_private_key: files.rsa } }, 'config: matrix.apps.a.vapid_private_key: rsa.pem is not a P-256 (prime256v1) EC private key'],
        ['vapid key not a key', { a: { ...webpush, vapid_private_key: files.sa } }, 'config: matrix.apps.a.vapid_private_key: service-account.json is not a VAPID private key (PEM, base64url DER, or raw base64url)'],
        ['no contact', { a: { ...webpush, vapid_contact_email: undefined } }, 'config: matrix.apps.a.vapid_contact_email: missing: a contact address for the push services (VAPID sub)'],
        ['contact not an address', { a: { ...webpush, vapid_contact_email: 'nobody' } }, 'config: matrix.apps.a.vapid_contact_email: \'nobody\' is not an email address'],
        ['ttl negative', { a: { ...webpush, ttl: -1 } }, 'config: matrix.apps.a.ttl: must be an integer >= 0, not number -1'],
        ['allowed_endpoints not a list of strings', { a: { ...webpush, allowed_endpoints: 'x' } }, 'config: matrix.apps.a.allowed_endpoints: must be a list of strings'],
        ['allowed_endpoints with a number', { a: { ...webpush, allowed_endpoints: ['a', 1] } }, 'config: matrix.apps.a.allowed_endpoints: must be a list of strings']
    ];
    for (const [title, apps, message] of table) {
        it(title, () => {
            assert.throws(() => parse(apps), (e: unknown) => {
                assert.ok(e instanceof ConfigError, String(e));
                assert.equal(e.message, message.replace('DIR', dir));
                return true;
            });
        });
    }

    it('readVapidKey refuses an invalid scalar', () => {
        assert.throws(() => readVapidKey('k', Buffer.alloc(32).toString('base64url'), 'zero.b64'), /k: zero.b64 holds an invalid P-256 private key/);
    });
});
