import assert from 'node:assert/strict';
import { MwApiError, MwHttpError, MwLoginError, MwNetworkError, redactInfo } from '../../src/mediawiki/errors';

describe('mediawiki: errors', () => {
    const retryable: Array<[string, boolean]> = [
        ['maxlag', true], ['ratelimited', true], ['readonly', true], ['actionthrottledtext', true],
        ['internal_api_error_DBQueryError', true],
        ['permissiondenied', false], ['badvalue', false], ['toomanyvalues', false], ['echo-push-token-not-found', false]
    ];
    for (const [code, expected] of retryable) {
        it(`API error ${code} is ${expected ? '' : 'not '}retryable`, () => {
            assert.equal(new MwApiError('x', code, '').retryable, expected);
        });
    }

    for (const [status, expected] of [[503, true], [500, true], [429, true], [408, true], [200, true], [403, false], [404, false]] as const) {
        it(`HTTP ${status} is ${expected ? '' : 'not '}retryable`, () => {
            assert.equal(new MwHttpError('x', status).retryable, expected);
        });
    }

    it('no answer (a timeout included) and a refused login are retryable', () => {
        const timeout = new MwNetworkError('query', 'timed out after 100 ms', 'timeout');
        assert.equal(timeout.retryable, true);
        assert.equal(timeout.failure, 'timeout');
        assert.equal(new MwNetworkError('query', 'ECONNREFUSED').failure, 'network');
        assert.equal(new MwLoginError('Failed').retryable, true);
    });

    it('redacts token-shaped text from what the wiki says', () => {
        const token = 'dGhpcyBpcyBhIGRldmljZSB0b2tlbg:APA91bHUNx';
        assert.ok(!redactInfo(`Bad value ${token}.`).includes(token));
        assert.ok(!new MwApiError('x', 'badvalue', `Bad value ${token}.`).message.includes(token));
        assert.equal(redactInfo('short words stay'), 'short words stay');
    });
});
