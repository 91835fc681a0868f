/**
 * The `webpush` provider kind: entry points for the registry, the front doors and the routes.
 */
export { createWebPushProvider, renderWebPushMessage, webPushTopic, WebPushProvider } from './webpush-provider';
export type { RenderedWebPush, WebPushProviderDeps } from './webpush-provider';
export { INVALID_SUBSCRIPTION, parseSubscription, webPushTokenSyntax } from './subscription';
export type { ParsedSubscription, WebPushSubscription } from './subscription';
export { EndpointPolicy, isPublicAddress, publicOnlyLookup } from './endpoint-policy';
export { WEBPUSH_LOCAL_OUTCOMES, WEBPUSH_STATUS_TABLE } from './webpush-errors';
export { encryptAes128gcm, WEBPUSH_MAX_PLAINTEXT_BYTES } from './encryption';
