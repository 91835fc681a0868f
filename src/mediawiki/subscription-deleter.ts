import { MwApiError } from './errors';
import { encodeMultiValue } from './multi-value';
import { MwSession } from './mw-session';

export type DeleteResult = 'deleted' | 'already_gone';

/**
 * One `action=echopushsubscriptions&command=delete` call for up to one chunk of tokens.
 * `echo-push-token-not-found` (none of the tokens exist) means the work is already done.
 */
export class SubscriptionDeleter {
    constructor(private readonly session: MwSession) {}

    async delete(tokens: readonly string[]): Promise<DeleteResult> {
        try {
            await this.session.write({
                action: 'echopushsubscriptions',
                command: 'delete',
                providertoken: encodeMultiValue(tokens)
            });
            return 'deleted';
        } catch (e) {
            if (e instanceof MwApiError && e.code === 'echo-push-token-not-found') {
                return 'already_gone';
            }
            throw e;
        }
    }
}
