import assert from 'node:assert/strict';
import { backoffDelayMs } from '../../src/util/backoff';
import { CookieJar } from '../../src/mediawiki/cookie-jar';
import { isNoProxyHost } from '../../src/mediawiki/egress-dispatcher';
import { MwApiError, MwHttpError, redactInfo } from '../../src/mediawiki/errors';
import { decodeMultiValue, encodeMultiValue } from '../../src/mediawiki/multi-value';
import { parseRetryAfter } from '../../src/util/retry-after';

describe('MediaWiki client parts', () => {
    it('encodes multi-value parameters, with \\x1f when a value contains |', () => {
        assert.equal(encodeMultiValue(['a', 'b']), 'a|b');
        assert.equal(encodeMultiValue(['a|b', 'c']), '\x1fa|b\x1fc');
        assert.deepEqual(decodeMultiValue(encodeMultiValue(['a|b', 'c'])), ['a|b', 'c']);
        assert.deepEqual(decodeMultiValue('a|b'), ['a', 'b']);
    });

    it('parses Retry-After as delta-seconds or an HTTP-date', () => {
        const now = Date.parse('2026-11-22T10:00:00Z');
        assert.equal(parseRetryAfter('120', now), 120_000);
        assert.equal(parseRetryAfter('Sun, 22 Nov 2026 10:00:30 GMT', now), 30_000);
        assert.equal(parseRetryAfter('Sun, 22 Nov 2026 09:00:00 GMT', now), 0);
        assert.equal(parseRetryAfter('soon', now), undefined);
        assert.equal(parseRetryAfter(null, now), undefined);
    });

    it('backs off exponentially with jitter, capped, never below Retry-After', () => {
        const p = { baseDelayMs: 1000, maxDelayMs: 60_000 };
        assert.equal(backoffDelayMs(p, 1, 'equal', undefined, () => 0), 500);
        assert.equal(backoffDelayMs(p, 1, 'equal', undefined, () => 1), 1000);
        assert.equal(backoffDelayMs(p, 4, 'equal', undefined, () => 1), 8000);
        assert.equal(backoffDelayMs(p, 40, 'equal', undefined, () => 1), 60_000);
        assert.equal(backoffDelayMs(p, 1, 'equal', 30_000, () => 1), 30_000);
    });

    it('keeps session cookies, and forgets expired or deleted ones', () => {
        let now = 1_000_000;
        const jar = new CookieJar(() => now);
        jar.store(['s=abc; path=/; HttpOnly', 'u=Bot; Max-Age=10', 'gone=x; Expires=Thu, 01 Jan 1970 00:00:00 GMT']);
        assert.equal(jar.header(), 's=abc; u=Bot');
        now += 11_000;
        assert.equal(jar.header(), 's=abc');
        jar.store(['s=deleted; Max-Age=0']);
        assert.equal(jar.header(), undefined);
    });

    it('matches no_proxy_list hosts and .suffix domains', () => {
        assert.ok(isNoProxyHost('meta.wikimedia.org', ['.wikimedia.org']));
        assert.ok(isNoProxyHost('wikimedia.org', ['.wikimedia.org']));
        assert.ok(isNoProxyHost('api-rw.discovery.wmnet', ['api-rw.discovery.wmnet']));
        assert.ok(!isNoProxyHost('evilwikimedia.org', ['.wikimedia.org']));
        assert.ok(!isNoProxyHost('fcm.googleapis.com', ['.wmnet']));
    });

    it('classifies errors as retryable or not, and redacts token-shaped text', () => {
        assert.ok(new MwApiError('x', 'maxlag', '').retryable);
        assert.ok(new MwApiError('x', 'ratelimited', '').retryable);
        assert.ok(!new MwApiError('x', 'permissiondenied', '').retryable);
        assert.ok(new MwHttpError('x', 503).retryable);
        assert.ok(new MwHttpError('x', 429).retryable);
        assert.ok(!new MwHttpError('x', 403).retryable);
        const token = 'dGhpcyBpcyBhIGRldmljZSB0b2tlbg:APA91bHUNx';
        assert.ok(!redactInfo(`Bad value ${token}.`).includes(token));
    });
});
