import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FakeApnsServer } from './apns-server';
import { FakeConnectProxy } from './connect-proxy';
import { FakeFcmServer } from './fcm-server';
import { createECDH } from 'node:crypto';
import { FakeWebPushServer } from './webpush-server';
import { createApnsSigningKey, createFakeTls, createServiceAccount, FakeTls } from './tls';

export const FAKE_FCM_PROJECT = 'fake-project';
export const FAKE_APNS_KEY_ID = 'FAKEKEY123';
export const FAKE_APNS_TEAM_ID = 'FAKETEAM12';
export const FAKE_APNS_TOPIC = 'org.wikimedia.wikipedia';

export interface ProviderFakes {
    readonly tls: FakeTls;
    readonly fcm: FakeFcmServer;
    readonly apns: FakeApnsServer;
    /** A Web Push service (VAPID checked, bodies decrypted); `webpush.subscribe(prefix)` makes a browser subscription. */
    readonly webpush: FakeWebPushServer;
    /** Present with `{ proxy: true }`: maps the real Google and Apple hosts to the fakes. */
    readonly proxy?: FakeConnectProxy;
    /** Throwaway files (CA, service account, .p8) in a temp dir removed by close(). */
    readonly files: { readonly dir: string; readonly ca: string; readonly serviceAccount: string; readonly apnsKey: string };
    /**
     * Service conf keys that point the real providers at these fakes: merge into a conf block
     * (`{...testConf(), ...fakes.conf}`). Direct mode uses fcm_endpoint/oauth_token_uri/
     * apns.address; proxy mode keeps the real host names and sets `proxy`.
     */
    readonly conf: { fcm: Record<string, unknown>; apns: Record<string, unknown>; webpush: Record<string, unknown>; proxy?: string };
    close(): Promise<void>;
}

/**
 * Starts a fake FCM (+ OAuth) and a fake APNs on ephemeral ports, with fresh keys and
 * certificates, for tests, dev mode and benchmarks. With `proxy: true` also a CONNECT proxy
 * that routes fcm.googleapis.com:443, oauth2.googleapis.com:443 and api(.sandbox).push.apple.com:443
 * to them, and a conf that reaches them only through it.
 */
export async function startProviderFakes(options: { proxy?: boolean } = {}): Promise<ProviderFakes> {
    const tls = await createFakeTls();
    const dir = mkdtempSync(path.join(tmpdir(), 'push-fakes-'));
    const tokenUri = options.proxy ? 'https://oauth2.googleapis.com/token' : undefined;
    const sa = createServiceAccount(FAKE_FCM_PROJECT, tokenUri ?? 'https://127.0.0.1:1/token');
    const apnsKey = createApnsSigningKey();
    const fcm = await FakeFcmServer.start({
        tls, projectId: FAKE_FCM_PROJECT, publicKey: sa.publicKey, clientEmail: sa.serviceAccount.client_email
    });
    const directTokenUri = `${fcm.url}/token`;
    fcm.expectedAudience = tokenUri ?? directTokenUri;
    const apns = await FakeApnsServer.start({ tls, publicKey: apnsKey.publicKey, keyId: FAKE_APNS_KEY_ID, teamId: FAKE_APNS_TEAM_ID });
    const webpush = await FakeWebPushServer.start({ tls });
    // A throwaway VAPID key pair (RFC 8292): raw P-256, base64url. getPrivateKey() drops
    // leading zero bytes (1 key in 256 came out 31 bytes and was refused by the config): pad to 32.
    const vapidKeys = createECDH('prime256v1');
    vapidKeys.generateKeys();
    const vapidPrivate = vapidKeys.getPrivateKey();
    const files = {
        dir,
        ca: path.join(dir, 'ca.pem'),
        serviceAccount: path.join(dir, 'service-account.json'),
        apnsKey: path.join(dir, 'AuthKey.p8')
    };
    writeFileSync(files.ca, tls.ca);
    writeFileSync(files.serviceAccount, JSON.stringify({ ...sa.serviceAccount, token_uri: tokenUri ?? directTokenUri }));
    writeFileSync(files.apnsKey, apnsKey.privateKey);

    let proxy: FakeConnectProxy | undefined;
    const apnsCommon = {
        production: false,
        topic: FAKE_APNS_TOPIC,
        ca: files.ca,
        token: { key: files.apnsKey, keyId: FAKE_APNS_KEY_ID, teamId: FAKE_APNS_TEAM_ID }
    };
    const fcmCommon = { service_account: files.serviceAccount, ca: files.ca };
    // Reached directly (a loopback endpoint, allowed for tests only), also in proxy mode.
    const webpushConf = {
        vapid: { subject: 'mailto:push-dev@example.org', publicKey: vapidKeys.getPublicKey('base64url'), privateKey: Buffer.concat([Buffer.alloc(32 - vapidPrivate.length), vapidPrivate]).toString('base64url') },
        ca: files.ca,
        testOnlyLoopbackEndpoints: [webpush.hostPort]
    };
    let conf: ProviderFakes['conf'];
    if (options.proxy) {
        const local = (port: number) => `127.0.0.1:${port}`;
        proxy = await FakeConnectProxy.start({
            map: {
                'fcm.googleapis.com:443': local(fcm.port),
                'oauth2.googleapis.com:443': local(fcm.port),
                'api.sandbox.push.apple.com:443': local(apns.port),
                'api.push.apple.com:443': local(apns.port)
            }
        });
        conf = { fcm: fcmCommon, apns: apnsCommon, webpush: webpushConf, proxy: proxy.url };
    } else {
        conf = {
            fcm: { ...fcmCommon, fcm_endpoint: fcm.url, oauth_token_uri: directTokenUri },
            apns: { ...apnsCommon, address: '127.0.0.1', port: apns.port },
            webpush: webpushConf
        };
    }
    return {
        tls, fcm, apns, webpush, proxy, files, conf,
        async close() {
            await Promise.allSettled([fcm.close(), apns.close(), webpush.close(), proxy?.close()]);
            rmSync(dir, { recursive: true, force: true });
        }
    };
}
