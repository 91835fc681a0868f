import assert from 'node:assert/strict';
import { CookieJar } from '../../src/mediawiki/cookie-jar';

describe('mediawiki: CookieJar', () => {
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

    it('lets Max-Age win over Expires (RFC 6265 5.3), and replaces a cookie of the same name', () => {
        const now = Date.parse('2026-01-01T00:00:00Z');
        const jar = new CookieJar(() => now);
        jar.store(['a=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=60']);
        assert.equal(jar.header(), 'a=1');
        jar.store(['a=2']);
        assert.equal(jar.header(), 'a=2');
        assert.equal(jar.size, 1);
    });

    it('ignores malformed lines and clears on request', () => {
        const jar = new CookieJar(() => 0);
        jar.store(['novalue', '=x', 'ok=1']);
        assert.equal(jar.header(), 'ok=1');
        jar.clear();
        assert.equal(jar.header(), undefined);
    });
});
