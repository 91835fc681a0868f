import { createSign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import type { PushProvider, TokenResult } from '../../src/push/provider';

/**
 * The floor of APNs delivery on this Node: a bare node:http2 client sending the same requests
 * as the APNs provider (same headers, body and provider JWT, signed once), no classification,
 * no retries, no deadlines. What Node's own HTTP/2 client costs per token, the part no APNs
 * client on this Node version can go below. Used by bench/apns-provider-cpu.ts (--floor), the
 * delivery benchmark's same-run baseline and the relay baseline of the Matrix and MongoosePush
 * endpoints (bench/baseline-server.ts). No imports from src/ but types: it also runs transpiled
 * on its own.
 */
export interface ApnsFloorTarget {
    readonly address: string;
    readonly port: number;
    /** PEM file of the CA that signed the fake's certificate. */
    readonly ca: string;
    readonly topic: string;
    /** The .p8 key file and its ids, as in the apns config block. */
    readonly token: { readonly key: string; readonly keyId: string; readonly teamId: string };
}

/** checkEchoV1's APNs body, byte for byte (the common brief). */
export const CHECK_ECHO_APNS_BODY = '{"data":{"type":"checkEchoV1"},"aps":{"alert":"checkEchoV1","mutable-content":1,"thread-id":"checkEchoV1"}}';

export interface ApnsFloorClient {
    /** POSTs one notification; resolves with the HTTP status (0: no answer). */
    post(token: string, body?: Buffer): Promise<number>;
    close(): Promise<void>;
}

export function apnsFloorClient(target: ApnsFloorTarget): ApnsFloorClient {
    const key = readFileSync(target.token.key);
    const header = Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid: target.token.keyId })).toString('base64url');
    const claims = Buffer.from(JSON.stringify({ iss: target.token.teamId, iat: Math.floor(Date.now() / 1000) })).toString('base64url');
    const signature = createSign('SHA256').update(`${header}.${claims}`).sign({ key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
    const authorization = `bearer ${header}.${claims}.${signature}`;
    const session = http2.connect(`https://${target.address}:${target.port}`, { ca: readFileSync(target.ca) });
    session.on('error', () => undefined);
    const defaultBody = Buffer.from(CHECK_ECHO_APNS_BODY);
    return {
        post: (token, body = defaultBody) => new Promise((resolve) => {
            const req = session.request({
                ':method': 'POST', ':path': `/3/device/${token}`, ':scheme': 'https', ':authority': target.address,
                'apns-priority': 10, 'apns-topic': target.topic, 'apns-push-type': 'alert', authorization
            });
            let status = 0;
            req.on('response', (h) => {
                status = Number(h[':status']);
            });
            req.on('data', () => undefined);
            req.on('end', () => resolve(status));
            req.on('error', () => resolve(0));
            req.end(body);
        }),
        close: () => new Promise<void>((resolve) => session.close(() => resolve()))
    };
}

/**
 * The floor client as a PushProvider stand-in: each batch's tokens sent `streamsPerBatch` at
 * a time (50 per batch, 4 batches at once = the provider's 200 streams in flight), the results
 * reported once per batch.
 */
export function apnsFloorProvider(target: ApnsFloorTarget, streamsPerBatch = 50): PushProvider {
    const client = apnsFloorClient(target);
    return {
        id: 'apns-floor', kind: 'apns',
        async send(batch, onResults) {
            let next = 0;
            const results: TokenResult[] = [];
            const worker = async (): Promise<void> => {
                while (next < batch.tokens.length) {
                    const token = batch.tokens[next++];
                    const status = await client.post(token);
                    results.push({ token, outcome: status === 200 ? 'delivered' : 'transient', reason: String(status) });
                }
            };
            await Promise.all(Array.from({ length: streamsPerBatch }, worker));
            onResults(results);
        },
        close: () => client.close()
    };
}
