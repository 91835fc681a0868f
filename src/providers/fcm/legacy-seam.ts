import { Batch as LegacyBatch } from '../../push/push-request';
import { PushProvider as LegacyPushProvider, TokenResult as LegacyTokenResult } from '../push-provider';
import { FcmProvider } from './fcm-provider';

/**
 * TRANSITIONAL, delete when the new core is wired: the FCM provider (new seam,
 * `send(batch, onResults)`) behind the old seam (`send(batch) => results`), so that the
 * service as it stands keeps running on it. The old batch names only a message type; Echo's
 * message for it renders, for FCM, to the same bytes as before:
 * `{"message":{"token":…,"android":{"collapse_key":<type>},"data":{"type":<type>}}}`.
 */
export function asLegacyFcmProvider(provider: FcmProvider): LegacyPushProvider {
    return {
        name: 'fcm',
        async send(batch: LegacyBatch): Promise<LegacyTokenResult[]> {
            const results: LegacyTokenResult[] = [];
            const type = batch.messageType;
            await provider.send({
                provider: provider.id,
                message: { type, data: { type }, collapseKey: type },
                dryRun: batch.dryRun,
                tokens: batch.tokens
            }, (group) => {
                for (const r of group) {
                    results.push(r);
                }
            });
            return results;
        },
        close: () => provider.close()
    };
}
