import { ProviderName } from '../../src/push/push-request';

/**
 * Device tokens shaped like the real ones: FCM registration tokens are ~163 characters
 * (`<22-char instance id>:APA91b<~134 chars>`), APNs device tokens are 64 hex digits.
 * Deterministic in `i`, and unique per `i`, so the queue's de-duplication removes nothing.
 */
export function deviceToken(provider: ProviderName, i: number, salt = ''): string {
    const id = `${salt}${i.toString(36)}`;
    if (provider === 'apns') {
        const hex = Buffer.from(id).toString('hex');
        return (hex + '0'.repeat(64)).slice(0, 64);
    }
    const head = (id + 'x'.repeat(22)).slice(0, 22);
    return `${head}:APA91b${'Q'.repeat(134 - id.length)}${id}`;
}

/** The string's own bytes on the V8 heap (64-bit, one-byte sequential string: 16-byte header, 8-aligned). */
export function stringHeapBytes(s: string): number {
    return 16 + Math.ceil(s.length / 8) * 8;
}

export function messageBody(provider: ProviderName, tokens: readonly string[]): string {
    return JSON.stringify({
        deviceTokens: tokens,
        messageType: 'checkEchoV1',
        ...(provider === 'apns' ? { topic: 'org.wikimedia.wikipedia' } : {})
    });
}

/** The same request shape for every load run: `count` tokens, different from each other. */
export function loadBody(provider: ProviderName, count: number, salt = 'load'): string {
    // autocannon's `[<id>]` placeholder must survive as is (deviceToken would hex-encode it).
    const token = salt.includes('[<id>]') ?
        (i: number) => `${salt}${i.toString(36)}` :
        (i: number) => deviceToken(provider, i, salt);
    return messageBody(provider, Array.from({ length: count }, (_, i) => token(i)));
}
