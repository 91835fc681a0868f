// Type declarations for http_ece (Encrypted Content-Encoding for HTTP, RFC 8188), which ships none.
declare module 'http_ece' {
    import type { ECDH } from 'node:crypto';

    interface EceParams {
        /** 'aes128gcm' (RFC 8188, the default) or the legacy 'aesgcm'. */
        version?: 'aes128gcm' | 'aesgcm';
        /** Record size; default 4096. */
        rs?: number;
        /** 16 bytes (Buffer or base64url); random when absent (encrypt). */
        salt?: Buffer | string;
        /** An explicit 16-byte content-encryption key. */
        key?: Buffer | string;
        keyid?: Buffer | string;
        /** Web Push: the other party's ECDH public key (encrypt: the user agent's). */
        dh?: Buffer | string;
        /** Web Push: our own ECDH key pair (encrypt: the ephemeral sender key; decrypt: the user agent's). */
        privateKey?: ECDH;
        /** Web Push: the 16-byte authentication secret. */
        authSecret?: Buffer | string;
        /** Zero padding bytes to add. */
        pad?: number;
    }

    export function encrypt(buffer: Buffer, params: EceParams): Buffer;
    export function decrypt(buffer: Buffer, params: EceParams): Buffer;
}
