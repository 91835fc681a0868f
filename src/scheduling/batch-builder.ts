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
    /**
     * Called once per run (an accepted request, or a group of retries) with its time in the
     * queue (seconds): every token of a run waited the same time, and a histogram observation
     * per token was ~3% of the delivery CPU.
     */
    readonly onWait: (provider: ProviderId, seconds: number) => void;
    /** [0, 1): shuffles each group's tokens (see buildBatches). */
    readonly random: () => number;
}

export interface BuildResult {
    /** Tokens dropped as duplicates of one already in this flush, by provider instance. */
    readonly duplicates: Readonly<Record<ProviderId, number>>;
}

/** One group being filled: tokens that share provider, message, dryRun and source (the whole flush). */
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
 * spellings of one APNs token are sent once, the other kept as an alias for deletion).
 *
 * Privacy: each group's tokens are SHUFFLED (Fisher-Yates with the queue's random) and split
 * into calls of EQUAL size (at most `batchSize`). Arrival order on the wire would let an
 * observer who sees one request per token link tokens to actions (npm run privacy-sim: from
 * 5% to 50% success at 1 req/s, one pod), and a flush of maxSize + 2 tokens split 500 + 2
 * would expose the request that filled the queue. The work yields to the event loop every
 * `chunkTokens` tokens, so a big flush never stalls the HTTP API.
 */
export async function buildBatches(runs: readonly QueuedTokens[], options: BuildOptions,
    emit: (batch: DeliveryBatch) => void): Promise<BuildResult> {
    const groups = new Map<PushMessage, Map<string, OpenGroup>>();
    const duplicates: Record<ProviderId, number> = {};
    let sinceYield = 0;
    const tick = async (n = 1): Promise<void> => {
        sinceYield += n;
        if (sinceYield >= options.chunkTokens) {
            sinceYield = 0;
            await options.yieldToLoop();
        }
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
        options.onWait(run.provider, (options.now() - run.enqueuedAt) / 1000);
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
            await tick();
        }
    }
    for (const byMessage of groups.values()) {
        for (const g of byMessage.values()) {
            await emitShuffled(g, options, emit, tick);
        }
    }
    return { duplicates };
}

/** Shuffles a group (Fisher-Yates, the three arrays together) and emits it in equal calls. */
async function emitShuffled(g: OpenGroup, options: BuildOptions, emit: (batch: DeliveryBatch) => void,
    tick: (n?: number) => Promise<void>): Promise<void> {
    const n = g.tokens.length;
    if (n === 0) {
        return;
    }
    const { tokens, acceptedAt, attempts } = g;
    for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(options.random() * (i + 1));
        [tokens[i], tokens[j]] = [tokens[j], tokens[i]];
        [acceptedAt[i], acceptedAt[j]] = [acceptedAt[j], acceptedAt[i]];
        [attempts[i], attempts[j]] = [attempts[j], attempts[i]];
        await tick(0.25);
    }
    const calls = Math.ceil(n / options.batchSize);
    const { provider, message, dryRun, source } = g.key;
    for (let c = 0; c < calls; c++) {
        const from = Math.floor((c * n) / calls);
        const to = Math.floor(((c + 1) * n) / calls);
        const part = tokens.slice(from, to);
        let aliases: Map<string, string[]> | undefined;
        if (g.aliases) {
            for (const t of part) {
                const list = g.aliases.get(t);
                if (list) {
                    (aliases ??= new Map()).set(t, list);
                }
            }
        }
        emit({
            batch: { provider, message, dryRun, tokens: part },
            source,
            acceptedAt: Float64Array.from(acceptedAt.slice(from, to)),
            attempts: Uint8Array.from(attempts.slice(from, to)),
            ...(aliases ? { aliases } : {})
        });
    }
}
