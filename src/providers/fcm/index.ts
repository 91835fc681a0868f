/**
 * The FCM provider kind: everything the composition root needs to configure, validate and
 * build FCM instances.
 * - `fcmSchema` / `FcmConfig`: the config block (ajv schema with defaults, and its type);
 * - `createFcmProvider(id, config, deps)`: an instance (reads its files, ConfigError on a bad one);
 * - `fcmTokenSyntax`: the per-token syntax check front doors run (invalid → 'invalid_token');
 * - `FCM_ERROR_OUTCOMES`: the classification table (the README can quote it).
 */
export { fcmSchema } from '../../config/sections/providers';
export type { FcmConfig } from '../../config/sections/providers';
export { createFcmProvider, FcmProvider, FCM_HOST } from './fcm-provider';
export type { FcmIdentity, FcmProviderDeps, FcmProviderOptions } from './fcm-provider';
export { fcmTokenSyntax, FCM_TOKEN_MAX_LENGTH } from './fcm-token-syntax';
export { FCM_ERROR_OUTCOMES, classifyFcmError } from './fcm-errors';
export { renderFcmMessage } from './fcm-message';
