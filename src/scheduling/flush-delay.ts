import { QueueingConfig } from '../config/sections/queueing';

/**
 * How long the queue waits before the next flush. With `flushTimeoutMs: 'random'` every
 * call draws a FRESH delay, uniformly in [flushTimeoutMin, flushTimeoutMax]: one delay per
 * process (as the original did) would let an observer learn it from a few notifications and
 * correlate wiki events with pushes again.
 *
 * @param random a source in [0, 1), injectable so tests can script it
 * @return a function giving the next delay in ms
 */
export function flushDelayPolicy(queueing: Pick<QueueingConfig, 'flushTimeoutMs' | 'flushTimeoutMin' | 'flushTimeoutMax'>,
    random: () => number = Math.random): () => number {
    const fixed = queueing.flushTimeoutMs;
    if (fixed !== 'random') {
        return () => fixed;
    }
    // checkQueueing() guarantees both bounds for 'random'; the fallbacks only satisfy the types.
    const min = queueing.flushTimeoutMin ?? 0;
    const max = queueing.flushTimeoutMax ?? min;
    // Integer ms in [min, max], both ends reachable.
    return () => min + Math.floor(random() * (max - min + 1));
}
