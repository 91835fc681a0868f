import type { Logger } from '../logging/logger';
import { MwApiError } from './errors';
import { encodeMultiValue } from './multi-value';
import type { MwSession } from './mw-session';

export type DeleteResult = 'deleted' | 'already_gone';

/**
 * The action API's limit on the values of one multi-value parameter without the
 * `apihighlimits` right: 50 (500 with it). MediaWiki core ApiBase::LIMIT_SML1 / LIMIT_SML2;
 * message api-help-right-apihighlimits: "The limits for slow queries also apply to multivalue
 * parameters". A request over the limit is refused with the error `toomanyvalues`.
 */
export const LOW_VALUE_LIMIT = 50;

/** The writes the deleter needs from a logged-in session (MwSession). */
export type SessionWriter = Pick<MwSession, 'write'>;

/**
 * Deletes push subscriptions: `action=echopushsubscriptions&command=delete` with up to one
 * chunk of tokens in `providertoken`. `echo-push-token-not-found` (none of the tokens exist)
 * means the work is already done.
 *
 * It knows the API's value limit: when the wiki refuses a call with `toomanyvalues` (the
 * account lacks `apihighlimits`, so the configured chunk of up to 500 is too many), it
 * falls back to 50 values per call for the rest of its life, resends the refused chunk in
 * calls of 50 at once, and splits every later chunk the same way. Callers keep handing it
 * chunks of the configured size.
 */
export class SubscriptionDeleter {
    /** Most values per call; lowered to LOW_VALUE_LIMIT on the first toomanyvalues. */
    private limit = Infinity;

    constructor(private readonly session: SessionWriter, private readonly logger: Logger) {}

    /**
     * Deletes `tokens` (already-gone ones included) in one call, or in calls of at most 50
     * when the wiki said that is its limit. Resolves 'deleted' when at least one call deleted
     * something, 'already_gone' when none of the tokens existed. Rejects with the MwError of
     * the first call that failed (a chunk split into several calls is retried as a whole,
     * which is safe: deleting a deleted subscription is a no-op).
     */
    async delete(tokens: readonly string[]): Promise<DeleteResult> {
        if (tokens.length <= this.limit) {
            try {
                return await this.call(tokens);
            } catch (e) {
                if (!(e instanceof MwApiError && e.code === 'toomanyvalues' && tokens.length > LOW_VALUE_LIMIT)) {
                    throw e;
                }
                this.limit = LOW_VALUE_LIMIT;
                this.logger.log('warn/mediawiki', {
                    msg: `The wiki refused ${tokens.length} tokens per call (no apihighlimits?); using ${LOW_VALUE_LIMIT}`,
                    refused: tokens.length
                });
            }
        }
        let result: DeleteResult = 'already_gone';
        for (let i = 0; i < tokens.length; i += this.limit) {
            if (await this.call(tokens.slice(i, i + this.limit)) === 'deleted') {
                result = 'deleted';
            }
        }
        return result;
    }

    private async call(tokens: readonly string[]): Promise<DeleteResult> {
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
