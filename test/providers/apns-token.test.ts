import assert from 'node:assert/strict';
import { APNS_TOKEN_MAX_BYTES, APNS_TOKEN_MIN_BYTES, apnsTokenSyntax } from '../../src/providers/apns/apns-token';

describe('APNs token syntax (issue 11 §1)', () => {
    const hex = '0123456789abcdef'.repeat(4);

    const valid: [string, string, string][] = [
        // name, input, wire (= key)
        ['64 lower-case hex digits, as is', hex, hex],
        ['upper-case hex is lower-cased', hex.toUpperCase(), hex],
        ['a trailing newline is dropped', `${hex}\n`, hex],
        ['surrounding spaces and CRLF are dropped', `  ${hex}\r\n`, hex],
        ['the old printed NSData form <01234567 89abcdef …>', `<${hex.match(/.{8}/g)!.join(' ')}>`, hex],
        ['the printed form in upper case with a newline', `<${hex.toUpperCase().match(/.{8}/g)!.join(' ')}>\n`, hex],
        [`${APNS_TOKEN_MAX_BYTES} bytes (Apple may lengthen tokens)`, 'ab'.repeat(APNS_TOKEN_MAX_BYTES), 'ab'.repeat(APNS_TOKEN_MAX_BYTES)],
        ['a 33-byte token', 'cd'.repeat(33), 'cd'.repeat(33)]
    ];
    for (const [name, input, wire] of valid) {
        it(`valid: ${name}`, () => {
            assert.deepEqual(apnsTokenSyntax(input), { ok: true, wire, key: wire });
        });
    }

    const invalid: [string, string][] = [
        ['empty', ''],
        ['not hex', 'zz'.repeat(32)],
        ['a raw label', 'ok-1'],
        ['odd number of digits', `${hex}a`],
        [`shorter than ${APNS_TOKEN_MIN_BYTES} bytes`, 'ab'.repeat(APNS_TOKEN_MIN_BYTES - 1)],
        [`longer than ${APNS_TOKEN_MAX_BYTES} bytes`, 'ab'.repeat(APNS_TOKEN_MAX_BYTES + 1)],
        ['a path segment', `${hex}/../../x`],
        ['URL-encoded', `${hex.slice(0, 60)}%2F00`],
        ['an angle bracket on one side only', `<${hex}`],
        ['angle brackets inside', `${hex.slice(0, 32)}<>${hex.slice(32)}`],
        ['an FCM registration token', `${'x'.repeat(22)}:APA91b${'Q'.repeat(134)}`],
        ['a newline inside', `${hex.slice(0, 32)}\n${hex.slice(32)}`],
        ['a Web Push subscription', JSON.stringify({ endpoint: 'https://push.example/x', keys: {} })]
    ];
    for (const [name, input] of invalid) {
        it(`invalid: ${name}`, () => {
            assert.deepEqual(apnsTokenSyntax(input), { ok: false, reason: 'invalid_token' });
        });
    }

    it('the upper- and lower-case copies of a token have the same key', () => {
        const a = apnsTokenSyntax(hex);
        const b = apnsTokenSyntax(` <${hex.toUpperCase()}> `);
        assert.ok(a.ok && b.ok);
        assert.equal(a.key, b.key);
    });
});
