import Ajv from 'ajv';
import assert from 'node:assert/strict';
import { createECDH } from 'node:crypto';
import { WebPushConfig, webpushSchema } from '../../src/config/sections/webpush';
import { PushMessage } from '../../src/push/message';
import { Batch, PushProvider, TokenResult } from '../../src/push/provider';

/** A VAPID key pair as `web-push generate-vapid-keys` prints it: raw, base64url. */
export function vapidKeyPair(): { publicKey: string; privateKey: string } {
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const d = ecdh.getPrivateKey();
    return {
        publicKey: ecdh.getPublicKey().toString('base64url'),
        privateKey: Buffer.concat([Buffer.alloc(32 - d.length), d]).toString('base64url')
    };
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, allowUnionTypes: true });
const validate = ajv.compile({ type: 'object', additionalProperties: false, properties: { webpush: webpushSchema } });

/** Settings as the config loader hands them over: validated, the schema's defaults applied. */
export function webpushSettings(raw: Record<string, unknown>): WebPushConfig {
    const doc = { webpush: JSON.parse(JSON.stringify(raw)) as Record<string, unknown> };
    assert.ok(validate(doc), JSON.stringify(validate.errors));
    return doc.webpush as unknown as WebPushConfig;
}

/** Echo's checkEchoV1 message, as the Echo front door builds it (common.md). */
export const CHECK_ECHO: PushMessage = {
    type: 'checkEchoV1',
    data: { type: 'checkEchoV1' },
    collapseKey: 'checkEchoV1',
    mutableContent: true,
    apns: { alertText: 'checkEchoV1', threadId: 'checkEchoV1', pushType: 'alert', payload: { data: { type: 'checkEchoV1' } } }
};

export function webpushBatch(tokens: readonly string[], extra: Partial<Batch> = {}): Batch {
    return { provider: 'webpush', message: CHECK_ECHO, dryRun: false, tokens, ...extra };
}

/** Sends a batch and collects what `onResults` reported, checking each token is reported exactly once. */
export async function sendAll(provider: PushProvider, batch: Batch): Promise<TokenResult[]> {
    const results: TokenResult[] = [];
    const p = provider.send(batch, (group) => results.push(...group));
    await p;
    const seen = new Set<string>();
    for (const r of results) {
        assert.ok(!seen.has(r.token), 'each token reported once');
        seen.add(r.token);
    }
    assert.equal(seen.size, new Set(batch.tokens).size, 'every token reported');
    return results;
}

export function resultOf(results: readonly TokenResult[], token: string): TokenResult {
    const r = results.find((x) => x.token === token);
    assert.ok(r, 'token reported');
    return r;
}

export function outcomeOf(results: readonly TokenResult[], token: string): string {
    const r = resultOf(results, token);
    return `${r.outcome}:${r.reason}`;
}
