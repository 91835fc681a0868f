/**
 * Coalesces items that arrive one by one (a provider's per-token answers) into groups, handed
 * on once per turn of the event loop (setImmediate): answers that land in the same socket
 * read settle together, yet no answer waits for a slow neighbour.
 *
 *     const out = new ResultBatcher<TokenResult>((group) => onResults(group));
 *     out.add(result);      // as each answer arrives
 *     await out.flushed();  // at the end: everything added has been handed on
 */
export class ResultBatcher<T> {
    private buffer: T[] = [];
    private scheduled = false;

    constructor(private readonly deliver: (group: readonly T[]) => void) {}

    add(item: T): void {
        this.buffer.push(item);
        if (!this.scheduled) {
            this.scheduled = true;
            setImmediate(() => this.flush());
        }
    }

    addAll(items: readonly T[]): void {
        for (const item of items) {
            this.add(item);
        }
    }

    /** Hands on what is buffered now. */
    flush(): void {
        this.scheduled = false;
        if (this.buffer.length === 0) {
            return;
        }
        const group = this.buffer;
        this.buffer = [];
        this.deliver(group);
    }
}
