/**
 * `npx ts-node bench/outbox-chunk-cost.ts [pending=100000] [chunkSize=50]`
 *
 * What one chunk costs the event loop in the MediaWiki deletion outbox when it is full (the
 * state right after a wiki outage). A fake deleter answers each call on the next turn; the
 * outbox is filled to `pending` tokens while its first call is held, then released. Reports
 * the time spent in `pump()` (the scheduling work done per chunk: pick the chunk, arm the
 * timer) for the first chunks (at full size) and over the whole drain, and the time to queue
 * the tokens. Needs no service, no network, no fakes.
 */
import { performance } from 'node:perf_hooks';
import { DeletionOutbox } from '../src/mediawiki/deletion-outbox';
import type { Logger } from '../src/logging/logger';

const pending = Number(process.argv[2] ?? 100_000);
const chunkSize = Number(process.argv[3] ?? 50);

const quiet: Logger = { log: () => undefined, child: () => quiet };
const noMetric = { inc: () => undefined, set: () => undefined, dec: () => undefined, observe: () => undefined };

async function main(): Promise<void> {
    let release!: () => void;
    const held = new Promise<void>((r) => {
        release = r;
    });
    let calls = 0;
    const deleter = {
        async delete(): Promise<'deleted'> {
            calls++;
            if (calls === 1) {
                await held;
            }
            await new Promise((r) => setImmediate(r));
            return 'deleted';
        }
    };
    const outbox = new DeletionOutbox({
        deleter,
        chunkSize,
        outbox: { maxTokens: pending, maxAttempts: 12, maxAgeMs: 86_400_000, baseDelayMs: 1000, maxDelayMs: 600_000, batchWaitMs: 1000, concurrency: 1 },
        logger: quiet,
        metrics: { mwDeletions: noMetric, mwOutboxSize: noMetric } as never
    });

    // Time every pump() call (the method that picks chunks and arms the wake-up timer).
    const pumps: number[] = [];
    const proto = DeletionOutbox.prototype as unknown as { pump: (this: unknown) => void };
    const original = proto.pump;
    proto.pump = function timedPump(this: unknown): void {
        const t0 = performance.now();
        original.call(this);
        pumps.push(performance.now() - t0);
    };

    const tokens = Array.from({ length: pending }, (_, i) => `tok${String(i).padStart(6, '0')}:APA91b${'x'.repeat(140)}`);
    const t0 = performance.now();
    for (let i = 0; i < tokens.length; i += 500) {
        outbox.deadTokens('fcm', tokens.slice(i, i + 500), 'echo');
    }
    const enqueueMs = performance.now() - t0;
    pumps.length = 0;

    const t1 = performance.now();
    release();
    await outbox.drain(Date.now() + 600_000);
    const drainMs = performance.now() - t1;
    outbox.close();

    const first = pumps.slice(0, 20);
    const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    const sorted = [...pumps].sort((a, b) => a - b);
    console.log(JSON.stringify({
        pending, chunkSize, calls,
        enqueueMsTotal: round(enqueueMs),
        pumpMsFirst20Avg: round(avg(first)),
        pumpMsAvg: round(avg(pumps)),
        pumpMsP99: round(sorted[Math.floor(sorted.length * 0.99)] ?? 0),
        pumpMsTotal: round(pumps.reduce((a, b) => a + b, 0)),
        pumps: pumps.length,
        drainWallMs: round(drainMs)
    }, null, 1));
}

function round(x: number): number {
    return Math.round(x * 1000) / 1000;
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
