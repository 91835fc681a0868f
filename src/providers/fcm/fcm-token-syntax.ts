import { TokenSyntax } from '../../push/token-syntax';

/** The longest FCM registration token accepted (the API spec's bound; real ones are ~160). */
export const FCM_TOKEN_MAX_LENGTH = 4096;

/** 1 to FCM_TOKEN_MAX_LENGTH printable ASCII characters, no whitespace ('!' to '~'). */
const FCM_TOKEN = /^[!-~]{1,4096}$/;

/**
 * The syntax of an FCM registration token: printable ASCII without whitespace, at most
 * FCM_TOKEN_MAX_LENGTH characters (the same pattern as the API spec's `deviceTokens`).
 * FCM documents no finer grammar (tokens are opaque: "Do not truncate or add additional
 * characters", FCM error codes, INVALID_ARGUMENT), so nothing is normalised: the wire form
 * and the de-duplication key are the token as accepted. Anything else cannot be a token
 * FCM issued: `{ok: false, reason: 'invalid_token'}` (issue 11 §1: dead, never sent).
 */
export const fcmTokenSyntax: TokenSyntax = (token) =>
    FCM_TOKEN.test(token) ? { ok: true, wire: token, key: token } : { ok: false, reason: 'invalid_token' };
