import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as yaml from 'js-yaml';
import { ApiSpec, loadApiSpec } from '../../../src/http/api-spec';
import type { ApnsPayloadOptions, FcmPayloadOptions, MatrixApp, WebPushPayloadOptions } from '../../../src/front-doors/matrix/apps-config';
import { createNotifyValidator, MatrixNotification, NotifyParse } from '../../../src/front-doors/matrix/notification';
import { WEBPUSH_MAX_PLAINTEXT_BYTES } from '../../../src/providers/webpush';

export const ROOT = path.join(__dirname, '..', '..', '..');
export const FRAGMENT = path.join(ROOT, 'spec.yaml');

/** spec.yaml, loaded by the service's own ApiSpec (ajv strict mode): the validator under test is the service's. */
export function mergedSpec(): ApiSpec {
    return loadApiSpec(path.join(ROOT, 'spec.yaml'), { messageTypes: ['checkEchoV1'], maxDeviceTokens: 500, version: '0.0.0-test' });
}

/** spec.yaml as a document. */
export function fragment(): any {
    return yaml.load(readFileSync(FRAGMENT, 'utf8'));
}

let validator: ((body: unknown) => NotifyParse) | undefined;

/** The notify-body check as the service will build it. */
export function notifyValidator(): (body: unknown) => NotifyParse {
    validator ??= createNotifyValidator(mergedSpec().requestValidator('/_matrix/push/v1/notify', 'post'));
    return validator;
}

/** A parsed notification from a body that must be valid. */
export function parseNotification(body: unknown): MatrixNotification {
    const r = notifyValidator()(structuredClone(body));
    if (!r.ok) {
        throw new Error(`unexpected invalid body: ${r.error.error}`);
    }
    return r.notification;
}

export const APNS_DEFAULTS: ApnsPayloadOptions = { convertDeviceTokenToHex: true, sendBadgeCounts: true };
export const FCM_DEFAULTS: FcmPayloadOptions = { sendBadgeCounts: true, fcmOptions: {} };
export const WEBPUSH_DEFAULTS: WebPushPayloadOptions = {};

/** An app as parseMatrixApps makes it, for payload tests (credentials do not matter there). */
export function app(kind: 'apns', payload?: Partial<ApnsPayloadOptions>): MatrixApp;
export function app(kind: 'fcm', payload?: Partial<FcmPayloadOptions>): MatrixApp;
export function app(kind: 'webpush', payload?: Partial<WebPushPayloadOptions>): MatrixApp;
export function app(kind: 'apns' | 'fcm' | 'webpush', payload: object = {}): MatrixApp {
    const base = { name: `com.example.${kind}`, scheduling: 'immediate' as const, providerId: `matrix/com.example.${kind}` };
    switch (kind) {
        case 'apns':
            return { ...base, kind, payload: { ...APNS_DEFAULTS, ...payload } };
        case 'fcm':
            return { ...base, kind, payload: { ...FCM_DEFAULTS, ...payload } };
        case 'webpush':
            return { ...base, kind, payload: { ...WEBPUSH_DEFAULTS, ...payload } };
    }
}

/**
 * The decrypted Web Push plaintext against Sygnal's payload. Sygnal's own payload when that
 * fits one aes128gcm record; else (Sygnal sends it and the push service refuses it with a
 * 413) the same payload with the longest display texts shortened until it fits.
 */
export function assertWebPushPlaintext(plaintext: string, expected: Record<string, any>, key: string): void {
    const actual = JSON.parse(plaintext) as Record<string, any>;
    if (Buffer.byteLength(JSON.stringify(expected)) <= WEBPUSH_MAX_PLAINTEXT_BYTES) {
        assert.deepEqual(actual, expected, key);
        return;
    }
    assert.ok(Buffer.byteLength(plaintext) <= WEBPUSH_MAX_PLAINTEXT_BYTES, `${key}: ${Buffer.byteLength(plaintext)} bytes`);
    assert.ok(Buffer.byteLength(plaintext) > WEBPUSH_MAX_PLAINTEXT_BYTES - 8, `${key}: filled up to the limit`);
    const cut = (a: unknown, e: unknown, where: string): void => {
        if (a === e) {
            return;
        }
        assert.equal(typeof a, 'string', where);
        assert.ok((a as string).endsWith('…') && (e as string).startsWith((a as string).slice(0, -1)), `${where}: a prefix of Sygnal's, and …`);
    };
    const { content: ac, room_name: arn, sender_display_name: asd, ...aRest } = actual;
    const { content: ec, room_name: ern, sender_display_name: esd, ...eRest } = expected;
    assert.deepEqual(aRest, eRest, `${key}: ids and counts are never cut`);
    cut(arn, ern, `${key} room_name`);
    cut(asd, esd, `${key} sender_display_name`);
    const { body: ab, ...acRest } = ac ?? {};
    const { body: eb, ...ecRest } = ec ?? {};
    assert.deepEqual(acRest, ecRest, `${key} content`);
    cut(ab, eb, `${key} content.body`);
}
