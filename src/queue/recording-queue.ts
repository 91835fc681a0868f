import { PushRequest } from '../push/push-request';
import { DrainReport, EnqueueResult, MessageQueue } from './message-queue';

/**
 * STAND-IN until delivery is built: records accepted requests in memory and delivers
 * nothing. It honours the cap so the HTTP contract (503 + Retry-After) is real.
 */
export class RecordingQueue implements MessageQueue {
    readonly accepted: PushRequest[] = [];
    private tokens = 0;
    private closed = false;

    constructor(private readonly maxTokens: number, private readonly retryAfterSeconds: number) {}

    enqueue(request: PushRequest): EnqueueResult {
        if (this.closed) {
            return { accepted: false, reason: 'draining', retryAfterSeconds: this.retryAfterSeconds };
        }
        if (this.tokens + request.deviceTokens.length > this.maxTokens) {
            return { accepted: false, reason: 'full', retryAfterSeconds: this.retryAfterSeconds };
        }
        this.accepted.push(request);
        this.tokens += request.deviceTokens.length;
        return { accepted: true };
    }

    get size(): number {
        return this.tokens;
    }

    get isFull(): boolean {
        return this.tokens >= this.maxTokens;
    }

    drain(_deadline: number): Promise<DrainReport> {
        this.closed = true;
        const undelivered: Record<string, number> = {};
        for (const r of this.accepted) {
            undelivered[r.provider] = (undelivered[r.provider] ?? 0) + r.deviceTokens.length;
        }
        return Promise.resolve({ undelivered });
    }
}
