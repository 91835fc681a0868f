import { ConfigError } from '../../config/config-error';
import { TokenResult } from '../../push/provider';
import { KindModule, readConfigFile } from '../kind-module';
import { FcmProvider } from './fcm-provider';
import { ServiceAccount } from './jwt-bearer-credential';

/** TEMPORARY adapter of the batch-at-once FcmProvider to the streaming seam (replaced by the new provider). */
export const fcmKind: KindModule<'fcm'> = {
    create(id, key, c, deps) {
        const saPath = c.service_account ?? deps.env.GOOGLE_APPLICATION_CREDENTIALS ?? '';
        const saKey = c.service_account ? `${key}.service_account` : 'GOOGLE_APPLICATION_CREDENTIALS';
        let serviceAccount: ServiceAccount;
        try {
            serviceAccount = JSON.parse(readConfigFile(saKey, saPath).toString('utf8')) as ServiceAccount;
        } catch (e) {
            throw e instanceof ConfigError ? e : new ConfigError(saKey, 'is not valid JSON');
        }
        const old = new FcmProvider({
            serviceAccount, projectId: c.project_id, oauthTokenUri: c.oauth_token_uri, fcmEndpoint: c.fcm_endpoint,
            ca: c.ca ? readConfigFile(`${key}.ca`, c.ca) : undefined, maxSockets: c.max_sockets,
            egress: deps.egress, userAgent: deps.userAgent, logger: deps.logger
        });
        return {
            id, kind: 'fcm',
            async send(batch, onResults) {
                const results: TokenResult[] = await old.send({ provider: 'fcm', messageType: batch.message.type,
                    dryRun: batch.dryRun, tokens: batch.tokens });
                onResults(results);
            },
            close: () => old.close()
        };
    },
    missing: (c, env) => (!c.service_account && !env.GOOGLE_APPLICATION_CREDENTIALS ?
        'set service_account (or GOOGLE_APPLICATION_CREDENTIALS)' : undefined),
    tokenSyntax: (token) => ({ ok: true, wire: token, key: token })
};
