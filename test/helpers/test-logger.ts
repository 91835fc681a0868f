import { Logger } from '../../src/logging/logger';

export interface LogEntry {
    level: string;
    component: string;
    entry: unknown;
}

/**
 * A Logger that keeps every entry, so tests can assert on what was logged (and that no
 * secret or full device token ever was). Set PN_TEST_LOG=1 to also print them.
 */
export class TestLogger implements Logger {
    constructor(readonly entries: LogEntry[] = [], private readonly args: Record<string, unknown> = {}) {}

    log(levelPath: string, msg: string | Record<string, unknown> | Error): void {
        const [level, ...rest] = levelPath.split('/');
        const entry = msg instanceof Error ? { msg: msg.message, stack: msg.stack } : msg;
        this.entries.push({ level, component: rest.join('/'), entry: typeof entry === 'object' ? { ...this.args, ...entry } : entry });
        if (process.env.PN_TEST_LOG) {
            console.log(levelPath, JSON.stringify(entry));
        }
    }

    child(args: Record<string, unknown>): Logger {
        return new TestLogger(this.entries, { ...this.args, ...args });
    }

    /** Everything logged, as one string, for leak scans. */
    text(): string {
        return this.entries.map((e) => JSON.stringify(e)).join('\n');
    }

    at(level: string): LogEntry[] {
        return this.entries.filter((e) => e.level === level);
    }
}
