import { ServiceMetrics } from '../metrics/service-metrics';
import { DeadTokenSink } from '../push/dead-token-sink';
import { ProviderId } from '../push/provider';
import { HashedTtlSet } from '../util/hashed-ttl-set';

export interface DeadTokenMemoryOptions {
    /** How long a dead token is remembered, ms. */
    readonly ttlMs: number;
    /** Most tokens remembered; past it the oldest are forgotten first. */
    readonly maxEntries: number;
    readonly now?: () => number;
}

/**
 * Where the Matrix and MongoosePush front doors' dead tokens go (Echo's go to the MediaWiki
 * outbox): a bounded, expiring memory of tokens a provider definitely called dead (and the
 * mass-deletion guard let through), per provider instance, kept as SHA-256 digests only.
 *
 * The front doors consult it when a request comes in: a homeserver gets the pushkey in
 * `rejected` on its next notify (the Push Gateway API allows naming a pushkey that failed
 * earlier), and MongooseIM gets its 410 on the next request for the token — when the answer
 * that found it dead could not come within MongooseIM's 2 s. It lives in each worker's memory,
 * so with several workers or pods the report can come one request later.
 */
export class DeadTokenMemory implements DeadTokenSink {
    private readonly set: HashedTtlSet;

    constructor(options: DeadTokenMemoryOptions, private readonly metrics?: Pick<ServiceMetrics, 'deadTokenMemory'>) {
        this.set = new HashedTtlSet({ ttlMs: options.ttlMs, maxSize: options.maxEntries, now: options.now });
    }

    /** DeadTokenSink: remembers them. */
    deadTokens(provider: ProviderId, tokens: readonly string[]): void {
        for (const token of tokens) {
            this.set.add(key(provider, token));
        }
        this.metrics?.deadTokenMemory.set({}, this.set.size);
    }

    /** Whether a provider called this token dead within the memory's window. */
    isDead(provider: ProviderId, token: string): boolean {
        return this.set.has(key(provider, token));
    }

    get size(): number {
        return this.set.size;
    }
}

function key(provider: ProviderId, token: string): string {
    return `${provider}\u0000${token}`;
}
