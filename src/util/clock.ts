/**
 * Time, injectable: the outbox waits minutes between retries during an outage, and tests
 * replay that with a fake clock instead of waiting.
 */
export interface Clock {
    now(): number;
    setTimeout(fn: () => void, ms: number): unknown;
    clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
    now: () => Date.now(),
    setTimeout: (fn, ms) => {
        const t = setTimeout(fn, ms);
        // Pending deletions must not keep a stopping process alive; drain() is the way to wait.
        t.unref();
        return t;
    },
    clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout)
};
