import assert from 'node:assert/strict';
import { createECDH, randomBytes } from 'node:crypto';
import * as ece from 'http_ece';
import {
    encryptAes128gcm, WEBPUSH_HEADER_BYTES, WEBPUSH_MAX_PLAINTEXT_BYTES, WEBPUSH_RECORD_SIZE
} from '../../src/providers/webpush/encryption';

const b64 = (s: string): Buffer => Buffer.from(s, 'base64url');

/**
 * RFC 8291 §5 "Push Message Encryption Example" (the values of its Appendix A), with the
 * line breaks removed.
 */
const RFC8291 = {
    plaintext: 'When I grow up, I want to be a watermelon',
    asPrivate: 'yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw',
    asPublic: 'BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8',
    uaPrivate: 'q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94',
    uaPublic: 'BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4',
    authSecret: 'BTBZMqHH6r4Tts7J_aSIgg',
    salt: 'DGv6ra1nlYgDCS1FRnbzlw',
    recordSize: 4096,
    header: 'DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8',
    ciphertext: '8pfeW0KbunFT06SuDKoJH9Ql87S1QUrdirN6GcG7sFz1y1sqLgVi1VhjVkHsUoEsbI_0LpXMuGvnzQ',
    body: 'DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN'
};

function userAgent(): { ecdh: ReturnType<typeof createECDH>; auth: Buffer } {
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    return { ecdh, auth: randomBytes(16) };
}

describe('Web Push encryption (RFC 8291, aes128gcm)', () => {
    it('reproduces the RFC 8291 §5 example byte for byte, given its keys, salt and record size', () => {
        const body = encryptAes128gcm(Buffer.from(RFC8291.plaintext), b64(RFC8291.uaPublic), b64(RFC8291.authSecret),
            { salt: b64(RFC8291.salt), senderPrivateKey: b64(RFC8291.asPrivate) });
        assert.equal(body.toString('base64url'), RFC8291.body);
        // Its parts, as the RFC lays them out: header (salt, rs = 4096, idlen = 65, as_public), then the record.
        assert.equal(body.subarray(0, WEBPUSH_HEADER_BYTES).toString('base64url'), RFC8291.header);
        assert.equal(body.readUInt32BE(16), RFC8291.recordSize);
        assert.equal(body[20], 65);
        assert.equal(body.subarray(21, 86).toString('base64url'), RFC8291.asPublic);
        assert.equal(body.subarray(WEBPUSH_HEADER_BYTES).toString('base64url'), RFC8291.ciphertext);
    });

    it('the example decrypts with the user agent\'s private key and auth secret', () => {
        const ua = createECDH('prime256v1');
        ua.setPrivateKey(b64(RFC8291.uaPrivate));
        assert.equal(ua.getPublicKey().toString('base64url'), RFC8291.uaPublic);
        const plain = ece.decrypt(b64(RFC8291.body), { version: 'aes128gcm', privateKey: ua, authSecret: b64(RFC8291.authSecret) });
        assert.equal(plain.toString(), RFC8291.plaintext);
    });

    it('uses a fresh sender key and salt per message, and each decrypts at the user agent', () => {
        const { ecdh, auth } = userAgent();
        const plaintext = Buffer.from('{"type":"checkEchoV1"}');
        const a = encryptAes128gcm(plaintext, ecdh.getPublicKey(), auth);
        const b = encryptAes128gcm(plaintext, ecdh.getPublicKey(), auth);
        assert.notDeepEqual(a.subarray(0, 16), b.subarray(0, 16), 'salt differs');
        assert.notDeepEqual(a.subarray(21, 86), b.subarray(21, 86), 'sender key differs');
        for (const body of [a, b]) {
            assert.equal(body.length, WEBPUSH_HEADER_BYTES + plaintext.length + 1 + 16);
            assert.equal(ece.decrypt(body, { version: 'aes128gcm', privateKey: ecdh, authSecret: auth }).toString(), '{"type":"checkEchoV1"}');
        }
    });

    it('fits the largest allowed plaintext (3993 bytes) in one 4096-byte record, and refuses one byte more', () => {
        assert.equal(WEBPUSH_MAX_PLAINTEXT_BYTES, 3993);
        const { ecdh, auth } = userAgent();
        const body = encryptAes128gcm(Buffer.alloc(WEBPUSH_MAX_PLAINTEXT_BYTES, 0x61), ecdh.getPublicKey(), auth);
        assert.equal(body.length, WEBPUSH_RECORD_SIZE);
        assert.equal(ece.decrypt(body, { version: 'aes128gcm', privateKey: ecdh, authSecret: auth }).length, WEBPUSH_MAX_PLAINTEXT_BYTES);
        assert.throws(() => encryptAes128gcm(Buffer.alloc(WEBPUSH_MAX_PLAINTEXT_BYTES + 1), ecdh.getPublicKey(), auth), RangeError);
    });
});
