import { readFileSync } from 'node:fs';
import * as https from 'node:https';
import { validateWebPushConfig, WebPushConfig } from '../../src/config/sections/webpush';
import { fcmBodyTemplate } from '../../src/providers/fcm/fcm-message';
import { encryptAes128gcm } from '../../src/providers/webpush/encryption';
import { signVapidJwt } from '../../src/providers/webpush/vapid';
import { renderWebPushMessage } from '../../src/providers/webpush/webpush-provider';
import type { PushMessage } from '../../src/push/message';
import type { PushProvider, TokenResult } from '../../src/push/provider';

/**
 * Same-run baselines of delivery for FCM and Web Push (APNs: apns-floor.ts): bare node:https
 * keep-alive clients sending the same requests as the providers (same bytes, rendered once
 * with the providers' own renderers; credentials got once, outside the measured part), as
 * many in flight as the provider allows, no classification, no retries, no deadlines. For Web
 * Push the floor also encrypts each message (RFC 8291, one fresh ECDH per message), which any
 * Web Push sender has to do. What Node's own HTTPS client (and the protocol's required
 * crypto) costs per token on this Node version.
 */

/** Sends the requests in parallel lanes, reports once per batch. */
function laneProvider(id: string, kind: PushProvider['kind'], lanes: number,
    post: (token: string) => Promise<number>, close: () => Promise<void>, ok = (s: number) => s >= 200 && s < 300): PushProvider {
    return {
        id, kind,
        async send(batch, onResults) {
            let next = 0;
            const results: TokenResult[] = [];
            const lane = async (): Promise<void> => {
                while (next < batch.tokens.length) {
                    const token = batch.tokens[next++];
                    const status = await post(token);
                    results.push({ token, outcome: ok(status) ? 'delivered' : 'transient', reason: String(status) });
                }
            };
            await Promise.all(Array.from({ length: lanes }, lane));
            onResults(results);
        },
        close
    };
}

function request(agent: https.Agent, url: URL, headers: Record<string, string>, body: Buffer | string): Promise<number> {
    return new Promise((resolve) => {
        const req = https.request({
            agent, method: 'POST', host: url.hostname, port: url.port, path: url.pathname + url.search, headers
        }, (res) => {
            res.on('data', () => undefined);
            res.on('end', () => resolve(res.statusCode ?? 0));
            res.on('error', () => resolve(0));
        });
        req.on('error', () => resolve(0));
        req.end(body);
    });
}

export interface FcmFloorTarget {
    /** The fake's origin, `https://127.0.0.1:<port>`. */
    readonly origin: string;
    readonly projectId: string;
    /** An access token the fake issued (FakeFcmServer.issueAccessToken()). */
    readonly accessToken: string;
    /** PEM file of the CA of the fake's certificate. */
    readonly ca: string;
    /** Requests in flight over all batches (the provider's max_sockets, 100 by default). */
    readonly maxSockets: number;
}

/** FCM HTTP v1, one POST per token, `maxSockets` keep-alive sockets, as the provider sends it. */
export function fcmFloorProvider(target: FcmFloorTarget, message: PushMessage, batchesInFlight = 4): PushProvider {
    const agent = new https.Agent({ keepAlive: true, maxSockets: target.maxSockets, ca: readFileSync(target.ca) });
    const url = new URL(`/v1/projects/${encodeURIComponent(target.projectId)}/messages:send`, target.origin);
    const template = fcmBodyTemplate(message, false);
    const authorization = `Bearer ${target.accessToken}`;
    return laneProvider('fcm-floor', 'fcm', Math.max(1, Math.floor(target.maxSockets / batchesInFlight)), (token) => {
        const body = template.prefix + JSON.stringify(token) + template.suffix;
        return request(agent, url, {
            authorization, 'content-type': 'application/json; charset=UTF-8', 'content-length': String(Buffer.byteLength(body))
        }, body);
    }, () => {
        agent.destroy();
        return Promise.resolve();
    });
}

export interface WebPushFloorTarget {
    /** The webpush block the service gets (vapid keys inline, `ca`). */
    readonly conf: Record<string, unknown>;
    /** Requests in flight per origin (the provider's maxSocketsPerOrigin, 50 by default). */
    readonly maxSockets: number;
    readonly userAgent: string;
}

/** Web Push (RFC 8030/8291/8292): one encrypted POST per subscription, one VAPID JWT per origin. */
export function webPushFloorProvider(target: WebPushFloorTarget, message: PushMessage, batchesInFlight = 4): PushProvider {
    const conf = target.conf as unknown as WebPushConfig & { ca: string; ttl?: number };
    const keys = validateWebPushConfig({ ...conf, testOnlyLoopbackEndpoints: [] });
    const agent = new https.Agent({ keepAlive: true, maxSockets: target.maxSockets, ca: readFileSync(conf.ca) });
    const rendered = renderWebPushMessage(message, { ttl: conf.ttl ?? 86400, urgency: 'normal', userAgent: target.userAgent });
    const authorizations = new Map<string, string>();
    const exp = Math.floor(Date.now() / 1000) + 12 * 3600;
    return laneProvider('webpush-floor', 'webpush', Math.max(1, Math.floor(target.maxSockets / batchesInFlight)), (token) => {
        const sub = JSON.parse(token) as { endpoint: string; keys: { p256dh: string; auth: string } };
        const url = new URL(sub.endpoint);
        let authorization = authorizations.get(url.origin);
        if (!authorization) {
            authorization = `vapid t=${signVapidJwt(keys, url.origin, exp)}, k=${keys.publicKey}`;
            authorizations.set(url.origin, authorization);
        }
        const body = encryptAes128gcm(rendered.plaintext, Buffer.from(sub.keys.p256dh, 'base64url'), Buffer.from(sub.keys.auth, 'base64url'));
        return request(agent, url, { ...rendered.headers, 'Authorization': authorization, 'Content-Length': String(body.length) }, body);
    }, () => {
        agent.destroy();
        return Promise.resolve();
    });
}

/**
 * Sends `batches` through `provider`, `concurrency` calls at a time (delivery.concurrency,
 * 4 by default), and counts what each result said; resolves when every batch is done.
 */
export async function driveBatches(provider: PushProvider, message: PushMessage, batches: readonly (readonly string[])[],
    concurrency = 4): Promise<Record<string, number>> {
    const outcomes: Record<string, number> = {};
    let next = 0;
    const worker = async (): Promise<void> => {
        while (next < batches.length) {
            const tokens = batches[next++];
            await provider.send({ provider: provider.id, message, dryRun: false, tokens }, (group) => {
                for (const r of group) {
                    outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
                }
            });
        }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return outcomes;
}

/** `tokens` in batches of `size` (delivery.batchSize, 500 by default). */
export function inBatches<T>(tokens: readonly T[], size = 500): T[][] {
    const out: T[][] = [];
    for (let i = 0; i < tokens.length; i += size) {
        out.push(tokens.slice(i, i + size));
    }
    return out;
}
