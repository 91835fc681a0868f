import assert from 'node:assert/strict';
import { validateWebPushConfig } from '../../src/config/sections/webpush';
import {
    VAPID_CACHE_MAX_ORIGINS, VAPID_FRESH_REFRESH_MS, VAPID_JWT_LIFETIME_SECONDS, VapidJwtCache
} from '../../src/providers/webpush/vapid';
import { vapidKeyPair, webpushSettings } from './webpush-helpers';

function claims(authorization: string): { aud: string; exp: number; sub: string } {
    const jwt = /^vapid t=([^,]+), k=/.exec(authorization)?.[1] ?? '';
    return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()) as { aud: string; exp: number; sub: string };
}

describe('VAPID JWT cache', () => {
    const keys = validateWebPushConfig(webpushSettings({ vapid: { subject: 'https://example.org/contact', ...vapidKeyPair() } }));
    const FCM = 'https://fcm.googleapis.com';
    const MOZ = 'https://updates.push.services.mozilla.com';
    let now: number;
    let cache: VapidJwtCache;
    beforeEach(() => {
        now = Date.UTC(2026, 0, 1);
        cache = new VapidJwtCache(keys, () => now);
    });

    it('signs one JWT per origin (aud = origin, exp = 12 h ahead, within the 24 h limit) and reuses it', () => {
        const a = cache.get(FCM);
        assert.equal(cache.get(FCM), a);
        const b = cache.get(MOZ);
        assert.notEqual(a, b);
        assert.deepEqual(claims(a.authorization), { aud: FCM, exp: now / 1000 + VAPID_JWT_LIFETIME_SECONDS, sub: 'https://example.org/contact' });
        assert.ok(VAPID_JWT_LIFETIME_SECONDS <= 24 * 3600);
        assert.equal(claims(b.authorization).aud, MOZ);
        assert.ok(a.authorization.endsWith(`, k=${keys.publicKey}`));
    });

    it('renews before expiry: never used with fewer than 6 hours left', () => {
        const a = cache.get(FCM);
        now += 6 * 3600_000 - 1000;
        assert.equal(cache.get(FCM), a, 'still more than 6 h left');
        now += 2000;
        const b = cache.get(FCM);
        assert.notEqual(b, a);
        assert.equal(claims(b.authorization).exp, Math.floor(now / 1000) + VAPID_JWT_LIFETIME_SECONDS);
        assert.equal(b.refresh, false);
    });

    it('a refused cached JWT is re-signed once; a refusal of the fresh one is final', () => {
        const a = cache.get(FCM);
        now += 1000;
        const r = cache.refreshAfterRefusal(FCM, a);
        assert.ok(r?.resigned);
        assert.notEqual(r.credential, a);
        assert.equal(r.credential.refresh, true);
        assert.equal(cache.get(FCM), r.credential, 'the cache now holds the new one');
        // Requests that were in flight with `a` retry with the new one, without signing again.
        const other = cache.refreshAfterRefusal(FCM, a);
        assert.deepEqual(other, { credential: r.credential, resigned: false });
        // The fresh one refused too: configuration, no more retries.
        assert.equal(cache.refreshAfterRefusal(FCM, r.credential), undefined);
        // Once it is no longer fresh, a refusal is worth one more re-signing.
        now += VAPID_FRESH_REFRESH_MS;
        assert.ok(cache.refreshAfterRefusal(FCM, r.credential)?.resigned);
    });

    it('keeps at most VAPID_CACHE_MAX_ORIGINS origins, dropping the least recently used', () => {
        const first = cache.get('https://a0.notify.windows.com');
        for (let i = 1; i <= VAPID_CACHE_MAX_ORIGINS; i++) {
            cache.get(`https://a${i}.notify.windows.com`);
        }
        assert.equal(cache.size, VAPID_CACHE_MAX_ORIGINS);
        assert.notEqual(cache.get('https://a0.notify.windows.com'), first, 'the oldest was dropped and is signed anew');
    });
});
