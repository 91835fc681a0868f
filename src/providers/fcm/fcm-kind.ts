import { PROJECT_ROOT } from '../../config/service-config';
import { KindModule } from '../kind-module';
import { checkFcmInstance } from './fcm-check';
import { createFcmProvider, fcmTokenSyntax } from './index';

/** The `fcm` kind for the provider registry. */
export const fcmKind: KindModule<'fcm'> = {
    create: (id, key, settings, deps) => createFcmProvider(id, settings, {
        logger: deps.logger, egress: deps.egress, userAgent: deps.userAgent, env: deps.env, baseDir: PROJECT_ROOT, configKey: key
    }),
    missing: (c, env) => (!c.service_account && !env.GOOGLE_APPLICATION_CREDENTIALS ?
        'set service_account (or GOOGLE_APPLICATION_CREDENTIALS)' : undefined),
    tokenSyntax: fcmTokenSyntax,
    check: checkFcmInstance
};
