import { ProviderInstanceConfig } from '../config/sections/provider-registry';
import { EgressPolicy } from '../egress/agents';
import { PushMessage } from '../push/message';
import { Batch, ProviderKind, PushProvider, TokenResult } from '../push/provider';

/**
 * What `npm run check` (src/cli/check.ts) asks of each provider kind: check one configured
 * instance's credentials against its push service WITHOUT sending anything a person would
 * see, and say what was found in plain words. Never a secret in a line: no key, password,
 * access token or device token (ids, file paths, topics, project ids and account e-mails
 * are not secrets and are named, so the operator knows what to fix).
 */

/** ok: checked and fine; fail: wrong (the command exits non-zero); warn: worth a look; skip: not checked. */
export type CheckStatus = 'ok' | 'fail' | 'warn' | 'skip';

/** One line of the check's output. */
export interface CheckLine {
    readonly status: CheckStatus;
    /** The step, short: 'provider token', 'connection', 'request', 'OAuth', 'VAPID key pair', ... */
    readonly step: string;
    /** What was found, in plain words (the provider's reason code in parentheses). */
    readonly detail: string;
}

/** One instance to check: its resolved config, and the provider the registry built from it (or why it could not). */
export interface CheckTarget<K extends ProviderKind = ProviderKind> {
    readonly config: ProviderInstanceConfig<K>;
    /** The registry's instance; undefined when building it threw (`buildError`). */
    readonly provider?: PushProvider;
    readonly buildError?: unknown;
    /** The service's egress policy (to say whether the check went through the proxy). */
    readonly egress: EgressPolicy;
    readonly env: NodeJS.ProcessEnv;
}

/** A kind's check: the lines for one instance, in order. Never rejects. */
export type KindCheck<K extends ProviderKind> = (target: CheckTarget<K>) => Promise<CheckLine[]>;

/**
 * The message a check sends with its dummy token: a silent background wake-up with no
 * content at all (APNs: `{"aps":{"content-available":1}}`, push type background, priority
 * 5), so that even a push service that took the dummy token for a real one would show
 * nothing to anybody.
 */
export const CHECK_MESSAGE: PushMessage = Object.freeze({ type: 'push-notifications-check', contentAvailable: true, priority: 'normal' });

/** Sends one token through `provider` and returns its one result (a provider never rejects; a missing result is transient 'no_result'). */
export async function sendOne(provider: PushProvider, token: string, message: PushMessage, dryRun: boolean): Promise<TokenResult> {
    const results: TokenResult[] = [];
    const batch: Batch = { provider: provider.id, message, dryRun, tokens: [token] };
    await provider.send(batch, (rs) => results.push(...rs));
    return results.find((r) => r.token === token) ?? { token, outcome: 'transient', reason: 'no_result', unanswered: true };
}
