import { DeliveryBatch } from '../delivery/delivery-batch';
import { PushMessage } from '../push/message';
import { ProviderId } from '../push/provider';
import { acceptedAtOf, attemptsOf, QueuedTokens } from './scheduler';

export interface BuildOptions {
    /** Most tokens per provider call (delivery.batchSize). */
    readonly batchSize: number;
    /** Tokens handled between two yields to the event loop, so a big flush never stalls HTTP. */
    readonly chunkTokens: number;
    /** Gives the event loop a turn (setImmediate in production). */
    readonly yieldToLoop: () => Promise<void>;
    readonly now: () => number;
    /** Called once per token sent on, with its time in the queue (seconds). */
    readonly onWait: (provider: ProviderId, seconds: number) => void;
}

export interface BuildResult {
    /** Tokens dropped as duplicates of one already in this flush, by provider instance. */
    readonly duplicates: Readonly<Record<ProviderId, number>>;
}

/** One group being filled: tokens that share provider, message, dryRun and source. */
interface OpenGroup {
    readonly key: QueuedTokens;
    /** De-duplication key -> the token kept for it. */
    readonly seen: Map<string, string>;
    tokens: string[];
    acceptedAt: number[];
    attempts: number[];
    aliases: Map<string, string[]> | undefined;
}

/**
 * Turns the runs of one flush into provider calls: grouped by provider instance, message
 * (the same object: Echo interns one per type and topic), dryRun and source; tokens
 * de-duplicated within each group by their syntax key (so the upper- and lower-case
 * spellings of one APNs token are sent once, the other kept as an alias for deletion); split
 * into calls of at most `batchSize`. A full call is emitted as soon as it is complete, so
 * delivery starts while the rest is still being grouped, and the work yields to the event
 * loop every `chunkTokens` tokens.
 */
export async function buildBatches(runs: readonly QueuedTokens[], options: BuildOptions,
    emit: (batch: DeliveryBatch) => void): Promise<BuildResult> {
    const groups = new Map<PushMessage, Map<string, OpenGroup>>();
    const duplicates: Record<ProviderId, number> = {};
    let sinceYield = 0;

    const flushGroup = (g: OpenGroup): void => {
        if (g.tokens.length === 0) {
            return;
        }
        const { provider, message, dryRun, source } = g.key;
        emit({
            batch: { provider, message, dryRun, tokens: g.tokens },
            source,
            acceptedAt: Float64Array.from(g.acceptedAt),
            attempts: Uint8Array.from(g.attempts),
            ...(g.aliases ? { aliases: g.aliases } : {})
        });
        g.tokens = [];
        g.acceptedAt = [];
        g.attempts = [];
        g.aliases = undefined;
    };

    for (const run of runs) {
        let byMessage = groups.get(run.message);
        if (!byMessage) {
            byMessage = new Map();
            groups.set(run.message, byMessage);
        }
        const k = `${run.provider}\u0000${run.dryRun ? 1 : 0}\u0000${run.source}`;
        let g = byMessage.get(k);
        if (!g) {
            g = { key: run, seen: new Map(), tokens: [], acceptedAt: [], attempts: [], aliases: undefined };
            byMessage.set(k, g);
        }
        const waitSeconds = (options.now() - run.enqueuedAt) / 1000;
        const { tokens, keys } = run;
        for (let i = 0; i < tokens.length; i++) {
            const token = tokens[i];
            const key = keys ? keys[i] : token;
            const kept = g.seen.get(key);
            if (kept !== undefined) {
                duplicates[run.provider] = (duplicates[run.provider] ?? 0) + 1;
                if (kept !== token) {
                    g.aliases ??= new Map();
                    const list = g.aliases.get(kept) ?? [];
                    if (!list.includes(token)) {
                        list.push(token);
                    }
                    g.aliases.set(kept, list);
                }
                continue;
            }
            g.seen.set(key, token);
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
    for (const byMessage of groups.values()) {
        for (const g of byMessage.values()) {
            flushGroup(g);
        }
    }
    return { duplicates };
}
