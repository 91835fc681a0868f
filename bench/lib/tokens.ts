import type { ProviderKind } from '../../src/push/provider';

/** The kinds whose tokens are plain strings made up here (Web Push needs a real subscription from the fake). */
export type StringTokenKind = Exclude<ProviderKind, 'webpush'>;

/** Where the load runner puts a fresh 16-hex-digit number per request (bench/load-runner.ts). */
export const UNIQUE = '{{hex}}';

/**
 * Device tokens shaped like the real ones: FCM registration tokens are ~163 characters
 * (`<22-char instance id>:APA91b<~134 chars>`), APNs device tokens are 64 hex digits (the
 * provider refuses anything else; the fake APNs answers 200 to any label it has no rule for).
 * Deterministic in `i`, and unique per `i`, so the queue's de-duplication removes nothing.
 */
export function deviceToken(kind: StringTokenKind, i: number, salt = ''): string {
    const id = `${salt}${i.toString(36)}`;
    if (kind === 'apns') {
        const hex = Buffer.from(id).toString('hex');
        return (hex + '0'.repeat(64)).slice(0, 64);
    }
    const head = (id + 'x'.repeat(22)).slice(0, 22);
    return `${head}:APA91b${'Q'.repeat(134 - id.length)}${id}`;
}

/**
 * A token template with UNIQUE in it, for the load runner: 48 hex digits + the 16-digit
 * counter for APNs (64 hex digits in all), an FCM-shaped string for FCM.
 */
export function uniqueToken(kind: StringTokenKind, lane = 0): string {
    if (kind === 'apns') {
        return `${(0xbe00 + lane).toString(16).padStart(4, '0')}${'0'.repeat(44)}${UNIQUE}`;
    }
    return `bench${lane.toString(36).padStart(4, '0')}${'x'.repeat(13)}:APA91b${'Q'.repeat(118)}${UNIQUE}`;
}

/** The string's own bytes on the V8 heap (64-bit, one-byte sequential string: 16-byte header, 8-aligned). */
export function stringHeapBytes(s: string): number {
    return 16 + Math.ceil(s.length / 8) * 8;
}

/** Echo's POST /v1/message/<kind> body (topic for APNs, as Echo sends it). */
export function messageBody(kind: StringTokenKind, tokens: readonly string[], dryRun = false): string {
    return JSON.stringify({
        deviceTokens: tokens,
        messageType: 'checkEchoV1',
        ...(kind === 'apns' ? { topic: 'org.wikimedia.wikipedia' } : {}),
        ...(dryRun ? { dryRun: true } : {})
    });
}

/**
 * The same request shape for every load run: `count` tokens, different from each other.
 * `unique`: each request gets fresh tokens (UNIQUE templates, filled by the load runner).
 */
export function loadBody(kind: StringTokenKind, count: number, o: { unique?: boolean; dryRun?: boolean } = {}): string {
    const token = o.unique ? (i: number) => uniqueToken(kind, i) : (i: number) => deviceToken(kind, i, 'load');
    return messageBody(kind, Array.from({ length: count }, (_, i) => token(i)), o.dryRun);
}
