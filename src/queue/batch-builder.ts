import { ProviderName } from '../push/push-request';
import { acceptedAtOf, attemptsOf, DeliveryBatch, MessageKey, QueuedTokens } from './queued-tokens';

export interface BuildOptions {
    /** Most tokens per provider call (delivery.batchSize). */
    readonly batchSize: number;
    /** Tokens handled between two yields to the event loop, so a big flush never stalls HTTP. */
    readonly chunkTokens: number;
    /** Gives the event loop a turn (setImmediate in production). */
    readonly yieldToLoop: () => Promise<void>;
    readonly now: () => number;
    /** Called once per token sent on, with its time in the queue. */
    readonly onWait: (provider: ProviderName, seconds: number) => void;
}

export interface BuildResult {
    /** Tokens dropped as duplicates of one already in this flush, by provider. */
    readonly duplicates: Partial<Record<ProviderName, number>>;
}

/** One group being filled: tokens sharing a MessageKey, de-duplicated over the whole flush. */
interface OpenGroup {
    readonly key: MessageKey;
    readonly seen: Set<string>;
    tokens: string[];
    acceptedAt: number[];
    attempts: number[];
}

/** APNs only: FCM ignores the topic, so it must not split FCM groups. */
function groupKey(run: MessageKey): string {
    return `${run.provider}\u0000${run.messageType}\u0000${run.provider === 'apns' ? run.topic ?? '' : ''}\u0000${run.dryRun ? 1 : 0}`;
}

/**
 * Turns the runs of one flush into provider calls: grouped by provider, message type, APNs
 * topic and dryRun; tokens de-duplicated within each group; split into calls of at most
 * `batchSize`. A full call is emitted as soon as it is complete, so delivery starts while
 * the rest is still being grouped, and the work yields to the event loop every
 * `chunkTokens` tokens.
 */
export async function buildBatches(runs: readonly QueuedTokens[], options: BuildOptions,
    emit: (batch: DeliveryBatch) => void): Promise<BuildResult> {
    const groups = new Map<string, OpenGroup>();
    const duplicates: Partial<Record<ProviderName, number>> = {};
    let sinceYield = 0;

    const flushGroup = (g: OpenGroup): void => {
        if (g.tokens.length === 0) {
            return;
        }
        const { provider, messageType, topic, dryRun } = g.key;
        emit({
            batch: provider === 'apns' && topic !== undefined ?
                { provider, messageType, topic, dryRun, tokens: g.tokens } :
                { provider, messageType, dryRun, tokens: g.tokens },
            acceptedAt: Float64Array.from(g.acceptedAt),
            attempts: Uint8Array.from(g.attempts)
        });
        g.tokens = [];
        g.acceptedAt = [];
        g.attempts = [];
    };

    for (const run of runs) {
        const k = groupKey(run);
        let g = groups.get(k);
        if (!g) {
            g = { key: run, seen: new Set(), tokens: [], acceptedAt: [], attempts: [] };
            groups.set(k, g);
        }
        const waitSeconds = (options.now() - run.enqueuedAt) / 1000;
        const tokens = run.tokens;
        for (let i = 0; i < tokens.length; i++) {
            const token = tokens[i];
            if (g.seen.has(token)) {
                duplicates[run.provider] = (duplicates[run.provider] ?? 0) + 1;
                continue;
            }
            g.seen.add(token);
            g.tokens.push(token);
            g.acceptedAt.push(acceptedAtOf(run, i));
            g.attempts.push(attemptsOf(run, i));
            options.onWait(run.provider, waitSeconds);
            if (g.tokens.length >= options.batchSize) {
                flushGroup(g);
            }
            if (++sinceYield >= options.chunkTokens) {
                sinceYield = 0;
                await options.yieldToLoop();
            }
        }
    }
    for (const g of groups.values()) {
        flushGroup(g);
    }
    return { duplicates };
}
