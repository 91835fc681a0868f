/**
 * Paces one provider's sends: a batch (up to 500 tokens) goes out in sub-chunks of
 * `chunkTokens`, with a turn of the event loop (setImmediate) before each sub-chunk, and at
 * most `maxInFlightTokens` tokens in flight at once over ALL the batches sharing the pacer.
 *
 * Why: the provider libraries do their per-token work synchronously. node-apn opened 500
 * HTTP/2 streams in one tick per batch, and firebase-admin built 500 HTTP/1.1 requests; with
 * delivery.concurrency batches starting together that was one busy stretch of hundreds of
 * milliseconds, during which the HTTP API could not answer. The answers came back the same
 * way: 500 streams' responses in a few socket reads, each read settling hundreds of them in
 * one microtask chain. A sub-chunk bounds the sending stretch; the in-flight window bounds how
 * many answers can arrive in one read. Throughput does not need more: the window is far
 * bigger than the provider's round trip times our per-token cost.
 *
 * Results keep the order of the tokens (the dispatcher matches them by token anyway).
 */
export interface ChunkPacerOptions {
    /** Tokens handed to the library at once. */
    readonly chunkTokens: number;
    /** Tokens in flight at once over every batch using this pacer (at least one chunk). */
    readonly maxInFlightTokens: number;
    /** Gives the event loop a turn; setImmediate by default (tests count the calls). */
    readonly yieldToLoop?: () => Promise<void>;
}

export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class ChunkPacer {
    private readonly chunkTokens: number;
    private readonly maxInFlight: number;
    private readonly yieldToLoop: () => Promise<void>;
    private inFlight = 0;
    /** Sub-chunks waiting for room in the window, FIFO so that no batch starves. */
    private readonly waiting: Array<{ n: number; go: () => void }> = [];

    constructor(options: ChunkPacerOptions) {
        if (!(options.chunkTokens >= 1)) {
            throw new RangeError(`chunkTokens must be >= 1, got ${options.chunkTokens}`);
        }
        this.chunkTokens = Math.floor(options.chunkTokens);
        this.maxInFlight = Math.max(this.chunkTokens, Math.floor(options.maxInFlightTokens));
        this.yieldToLoop = options.yieldToLoop ?? yieldToEventLoop;
    }

    /** Tokens currently handed to the library and not answered yet. */
    get tokensInFlight(): number {
        return this.inFlight;
    }

    /**
     * Sends `tokens` through `sendChunk`, one sub-chunk at a time, and returns the results in
     * token order. `sendChunk` must answer one result per token of its chunk; if it rejects,
     * `onChunkError` makes that chunk's results (so nothing is lost).
     */
    async map<R>(tokens: readonly string[], sendChunk: (chunk: string[]) => Promise<R[]>,
        onChunkError: (chunk: string[], error: unknown) => R[]): Promise<R[]> {
        const pending: Promise<R[]>[] = [];
        for (let i = 0; i < tokens.length; i += this.chunkTokens) {
            const chunk = tokens.slice(i, i + this.chunkTokens);
            // Also before the first chunk: the queue starts several batches in one tick.
            await this.yieldToLoop();
            await this.acquire(chunk.length);
            pending.push(this.sendOne(chunk, sendChunk, onChunkError));
        }
        const parts = await Promise.all(pending);
        return parts.length === 1 ? parts[0] : parts.flat();
    }

    private async sendOne<R>(chunk: string[], sendChunk: (chunk: string[]) => Promise<R[]>,
        onChunkError: (chunk: string[], error: unknown) => R[]): Promise<R[]> {
        try {
            return await sendChunk(chunk);
        } catch (e) {
            return onChunkError(chunk, e);
        } finally {
            this.release(chunk.length);
        }
    }

    private acquire(n: number): Promise<void> | undefined {
        if (this.waiting.length === 0 && this.inFlight + n <= this.maxInFlight) {
            this.inFlight += n;
            return undefined;
        }
        return new Promise((resolve) => this.waiting.push({ n, go: resolve }));
    }

    private release(n: number): void {
        this.inFlight -= n;
        while (this.waiting.length > 0 && this.inFlight + this.waiting[0].n <= this.maxInFlight) {
            const next = this.waiting.shift()!;
            this.inFlight += next.n;
            next.go();
        }
    }
}
