import { PROJECT_ROOT } from '../../config/service-config';
import { KindModule } from '../kind-module';
import { checkWebPushInstance } from './webpush-check';
import { webPushTokenSyntax } from './subscription';
import { createWebPushProvider } from './webpush-provider';

/** The `webpush` kind for the provider registry. */
export const webpushKind: KindModule<'webpush'> = {
    create: (id, key, settings, deps) => createWebPushProvider(id, settings, {
        logger: deps.logger, egress: deps.egress, userAgent: deps.userAgent, configKey: key, baseDir: PROJECT_ROOT, env: deps.env
    }),
    missing: (c) => (c.vapid ? undefined : 'set vapid (subject, publicKey, privateKey or privateKeyFile)'),
    tokenSyntax: webPushTokenSyntax,
    ownMock: true,
    check: checkWebPushInstance
};
