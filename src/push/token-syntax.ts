/**
 * Per-kind device-token syntax, checked per token at the front door so that one malformed
 * token never decides the fate of its neighbours (and nothing that is not a token reaches a
 * provider's URL path).
 */
export type TokenCheck =
    /** `wire`: what is sent (normalised); `key`: what de-duplicates (same token, same key). */
    | { readonly ok: true; readonly wire: string; readonly key: string }
    /** `reason`: a metric label ('invalid_token', 'invalid_subscription'). */
    | { readonly ok: false; readonly reason: string };

export type TokenSyntax = (token: string) => TokenCheck;
