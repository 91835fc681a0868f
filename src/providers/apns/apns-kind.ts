import { KindModule } from '../kind-module';
import { checkApnsInstance } from './apns-check';
import { apnsHasCredentials, apnsTokenSyntax, createApnsProvider } from './index';

/** The `apns` kind for the provider registry. */
export const apnsKind: KindModule<'apns'> = {
    create: (id, key, settings, deps) => createApnsProvider(id, settings, {
        logger: deps.logger, egress: deps.egress, userAgent: deps.userAgent, configKey: key
    }),
    missing: (c) => (apnsHasCredentials(c) ? undefined : 'set token (key, keyId, teamId) or cert'),
    tokenSyntax: apnsTokenSyntax,
    check: checkApnsInstance
};
