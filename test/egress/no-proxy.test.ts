import assert from 'node:assert/strict';
import { bypassesProxy } from '../../src/egress/no-proxy';
import { proxyFor, proxyHostPort } from '../../src/egress/agents';

describe('egress: no_proxy_list (the one rule for every egress path)', () => {
    const cases: Array<[string, readonly string[], boolean]> = [
        // host, no_proxy_list, bypasses?
        ['meta.wikimedia.org', ['meta.wikimedia.org'], true],
        ['META.wikimedia.org:443', ['meta.wikimedia.org'], true],
        ['meta.wikimedia.org.', ['meta.wikimedia.org'], true],
        ['meta.wikimedia.org', [' meta.wikimedia.org '], true],
        ['meta.wikimedia.org', ['meta.wikimedia.org:8080'], true],
        ['en.wikipedia.org', ['meta.wikimedia.org'], false],
        ['meta.wikimedia.org', ['.wikimedia.org'], true],
        ['wikimedia.org', ['.wikimedia.org'], true],
        ['api-rw.discovery.wmnet', ['.wmnet'], true],
        ['wmnet', ['.wmnet'], true],
        ['evilwmnet', ['.wmnet'], false],
        ['evilwikimedia.org', ['.wikimedia.org'], false],
        ['fcm.googleapis.com', ['.wmnet'], false],
        ['fcm.googleapis.com', ['*'], true],
        ['fcm.googleapis.com', [], false],
        ['[::1]:8443', ['::1'], true],
        ['[::1]', ['::1'], true],
        ['127.0.0.1:8080', ['127.0.0.1'], true],
        ['127.0.0.10', ['127.0.0.1'], false]
    ];
    for (const [host, list, expected] of cases) {
        it(`${JSON.stringify(host)} with ${JSON.stringify(list)}: ${expected ? 'direct' : 'proxied'}`, () => {
            assert.equal(bypassesProxy(host, list), expected);
        });
    }

    it('picks the proxy for a host unless it is listed', () => {
        const policy = { proxy: 'http://webproxy.eqiad.wmnet:8080', no_proxy_list: ['.wmnet', 'localhost'] };
        assert.equal(proxyFor('fcm.googleapis.com', policy)?.host, 'webproxy.eqiad.wmnet:8080');
        assert.equal(proxyFor('mw-api-int.discovery.wmnet', policy), undefined);
        assert.equal(proxyFor('localhost:6500', policy), undefined);
        assert.deepEqual(proxyHostPort('api.push.apple.com', policy), { host: 'webproxy.eqiad.wmnet', port: 8080 });
        assert.deepEqual(proxyHostPort('api.push.apple.com', { proxy: 'http://proxy', no_proxy_list: [] }), { host: 'proxy', port: 80 });
        assert.deepEqual(proxyHostPort('api.push.apple.com', { proxy: 'https://proxy', no_proxy_list: [] }), { host: 'proxy', port: 443 });
        assert.equal(proxyHostPort('localhost', policy), undefined);
        assert.equal(proxyFor('fcm.googleapis.com', { no_proxy_list: [] }), undefined);
    });
});
