import { createECDH } from 'node:crypto';
import * as ece from 'http_ece';

/**
 * Web Push message encryption: RFC 8291 over the RFC 8188 `aes128gcm` content coding, done by
 * `http_ece` (the RFC 8188 author's implementation, also what the `web-push` package uses):
 * - a fresh ephemeral P-256 key pair and a random 16-byte salt per message (RFC 8291 §3.1, §3.4);
 * - IKM from ECDH(as_private, ua_public) and the subscription's auth secret with info
 *   "WebPush: info" ‖ 0x00 ‖ ua_public ‖ as_public (§3.3, §3.4);
 * - one record of at most 4096 bytes: header salt(16) ‖ rs(4) ‖ idlen(1)=65 ‖ as_public(65),
 *   then AES-128-GCM of plaintext ‖ 0x02 with its 16-byte tag (§4; RFC 8188 §2).
 * Checked against RFC 8291 §5's example byte for byte (test/providers/webpush-encryption.test.ts).
 */

/** RFC 8291 §4: push services need not accept a body over 4096 bytes, one record. */
export const WEBPUSH_RECORD_SIZE = 4096;
/** The aes128gcm header with a 65-byte key id: 16 + 4 + 1 + 65. */
export const WEBPUSH_HEADER_BYTES = 86;
/** The largest plaintext that fits one 4096-byte record: 4096 - 86 - 16 (tag) - 1 (delimiter). */
export const WEBPUSH_MAX_PLAINTEXT_BYTES = WEBPUSH_RECORD_SIZE - WEBPUSH_HEADER_BYTES - 16 - 1;

export interface EncryptOptions {
    /** Fixed salt (16 bytes), for test vectors; random otherwise. */
    readonly salt?: Buffer;
    /** Fixed sender private key (32 bytes), for test vectors; a fresh key pair otherwise. */
    readonly senderPrivateKey?: Buffer;
}

/**
 * Encrypts `plaintext` for one subscription.
 *
 * @param plaintext at most WEBPUSH_MAX_PLAINTEXT_BYTES bytes
 * @param uaPublic the subscription's `p256dh` (65-byte point)
 * @param authSecret the subscription's `auth` (16 bytes)
 * @returns the request body (Content-Encoding: aes128gcm)
 * @throws RangeError when the plaintext does not fit one record; Error on a bad key
 */
export function encryptAes128gcm(plaintext: Buffer, uaPublic: Buffer, authSecret: Buffer, options: EncryptOptions = {}): Buffer {
    if (plaintext.length > WEBPUSH_MAX_PLAINTEXT_BYTES) {
        throw new RangeError(`Web Push plaintext of ${plaintext.length} bytes exceeds ${WEBPUSH_MAX_PLAINTEXT_BYTES}`);
    }
    const sender = createECDH('prime256v1');
    if (options.senderPrivateKey) {
        sender.setPrivateKey(options.senderPrivateKey);
    } else {
        sender.generateKeys();
    }
    return ece.encrypt(plaintext, {
        version: 'aes128gcm',
        rs: WEBPUSH_RECORD_SIZE,
        dh: uaPublic,
        privateKey: sender,
        authSecret,
        ...(options.salt ? { salt: options.salt } : {})
    });
}
