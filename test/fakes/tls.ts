import { generateKeyPairSync } from 'node:crypto';
import { generate } from 'selfsigned';

/**
 * Throwaway TLS material for the fakes, made at run time so no private key is ever committed:
 * a CA the clients trust (`ca`), and one server certificate signed by it that is valid for
 * localhost, 127.0.0.1 and the real provider hosts. The real host names let a client that
 * connects "to fcm.googleapis.com" (through the CONNECT proxy or a redirecting agent) verify
 * the fake exactly as it would verify Google.
 */
export interface FakeTls {
    /** CA certificate (PEM): pass as `ca` to clients. */
    readonly ca: string;
    /** Server certificate and key (PEM) for `tls`/`http2.createSecureServer`. */
    readonly cert: string;
    readonly key: string;
}

export const FAKE_TLS_HOSTS = [
    'localhost',
    'fcm.googleapis.com',
    'oauth2.googleapis.com',
    'api.push.apple.com',
    'api.sandbox.push.apple.com'
];

export async function createFakeTls(hosts: readonly string[] = FAKE_TLS_HOSTS): Promise<FakeTls> {
    const notBeforeDate = new Date(Date.now() - 60_000);
    const notAfterDate = new Date(Date.now() + 24 * 3600_000);
    const ca = await generate([{ name: 'commonName', value: 'push-notifications test CA' }], {
        keyType: 'ec', algorithm: 'sha256', notBeforeDate, notAfterDate,
        extensions: [
            { name: 'basicConstraints', cA: true, critical: true },
            { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true }
        ]
    });
    const server = await generate([{ name: 'commonName', value: hosts[0] ?? 'localhost' }], {
        keyType: 'ec', algorithm: 'sha256', notBeforeDate, notAfterDate,
        ca: { key: ca.private, cert: ca.cert },
        extensions: [
            { name: 'basicConstraints', cA: false },
            { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
            { name: 'extKeyUsage', serverAuth: true },
            { name: 'subjectAltName', altNames: [...hosts.map((value) => ({ type: 2 as const, value })), { type: 7, ip: '127.0.0.1' }] }
        ]
    });
    return { ca: ca.cert, cert: server.cert, key: server.private };
}

/** A P-256 key in PKCS#8 PEM, the format of an APNs .p8 file, with its public half. */
export function createApnsSigningKey(): { privateKey: string; publicKey: string } {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    return {
        privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString()
    };
}

/** A Google-style service account (RSA key) for a fake project, with the public key to check it. */
export function createServiceAccount(projectId: string, tokenUri: string): {
    serviceAccount: { type: string; project_id: string; private_key_id: string; private_key: string; client_email: string; token_uri: string };
    publicKey: string;
} {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    return {
        serviceAccount: {
            type: 'service_account',
            project_id: projectId,
            private_key_id: 'test-key-1',
            private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
            client_email: `push@${projectId}.iam.gserviceaccount.com`,
            token_uri: tokenUri
        },
        publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString()
    };
}
