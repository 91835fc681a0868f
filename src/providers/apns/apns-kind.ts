import { TokenResult } from '../../push/provider';
import { KindModule, readConfigFile } from '../kind-module';
import { ApnsProvider } from './apns-provider';

/** TEMPORARY adapter of the batch-at-once ApnsProvider to the streaming seam (replaced by the new provider). */
export const apnsKind: KindModule<'apns'> = {
    create(id, key, c, deps) {
        const old = new ApnsProvider({
            token: c.token ? { key: readConfigFile(`${key}.token.key`, c.token.key), keyId: c.token.keyId, teamId: c.token.teamId } : undefined,
            pfx: c.cert ? readConfigFile(`${key}.cert`, c.cert) : undefined,
            passphrase: c.passphrase, production: c.production, topic: c.topic, address: c.address, port: c.port,
            ca: c.ca ? readConfigFile(`${key}.ca`, c.ca) : undefined,
            clientCount: c.clientCount, requestTimeoutMs: c.requestTimeoutMs, connectionRetryLimit: c.connectionRetryLimit,
            shutdownTimeoutMs: c.shutdownTimeoutMs, egress: deps.egress, logger: deps.logger
        });
        return {
            id, kind: 'apns',
            async send(batch, onResults) {
                const results: TokenResult[] = await old.send({ provider: 'apns', messageType: batch.message.type,
                    topic: batch.message.apns?.topic, dryRun: batch.dryRun, tokens: batch.tokens });
                onResults(results);
            },
            close: () => old.close()
        };
    },
    missing: (c) => (!c.token && !c.cert ? 'set token (key, keyId, teamId) or cert' : undefined),
    tokenSyntax: (token) => ({ ok: true, wire: token, key: token })
};
