import assert from 'node:assert/strict';
import { bypassesProxy } from '../../src/egress/no-proxy';
import { proxyFor, proxyHostPort } from '../../src/egress/agents';

describe('egress: no_proxy_list', () => {
    it('matches exact hosts, case-insensitively, ignoring ports', () => {
        assert.equal(bypassesProxy('meta.wikimedia.org', ['meta.wikimedia.org']), true);
        assert.equal(bypassesProxy('META.wikimedia.org:443', ['meta.wikimedia.org']), true);
        assert.equal(bypassesProxy('en.wikipedia.org', ['meta.wikimedia.org']), false);
    });
    it('matches .suffix entries for the domain and hosts below it, not look-alikes', () => {
        assert.equal(bypassesProxy('api-rw.discovery.wmnet', ['.wmnet']), true);
        assert.equal(bypassesProxy('wmnet', ['.wmnet']), true);
        assert.equal(bypassesProxy('evilwmnet', ['.wmnet']), false);
    });
    it('* bypasses everything; an empty list bypasses nothing', () => {
        assert.equal(bypassesProxy('fcm.googleapis.com', ['*']), true);
        assert.equal(bypassesProxy('fcm.googleapis.com', []), false);
    });
    it('handles IPv6 literals', () => {
        assert.equal(bypassesProxy('[::1]:8443', ['::1']), true);
    });
    it('picks the proxy for a host unless it is listed', () => {
        const policy = { proxy: 'http://webproxy.eqiad.wmnet:8080', no_proxy_list: ['.wmnet', 'localhost'] };
        assert.equal(proxyFor('fcm.googleapis.com', policy)?.host, 'webproxy.eqiad.wmnet:8080');
        assert.equal(proxyFor('mw-api-int.discovery.wmnet', policy), undefined);
        assert.deepEqual(proxyHostPort('api.push.apple.com', policy), { host: 'webproxy.eqiad.wmnet', port: 8080 });
        assert.equal(proxyHostPort('localhost', policy), undefined);
        assert.equal(proxyFor('fcm.googleapis.com', { no_proxy_list: [] }), undefined);
    });
});
