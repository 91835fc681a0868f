import { Logger } from '../logging/logger';

/**
 * The logger the commands hand to the providers and the wiki session: silent by default
 * (their one-line-per-check output is the commands' own), or, with `--verbose`, the
 * service's log lines as JSON on stderr (the same fields the service logs, so no secret).
 */
export class CliLogger implements Logger {
    constructor(private readonly write?: (line: string) => void, private readonly fields: Record<string, unknown> = {}) {}

    log(levelPath: string, msg: string | Record<string, unknown> | Error): void {
        if (!this.write) {
            return;
        }
        const body = msg instanceof Error ? { msg: msg.message } : typeof msg === 'string' ? { msg } : msg;
        this.write(`${JSON.stringify({ levelPath, ...this.fields, ...body })}\n`);
    }

    child(args: Record<string, unknown>): Logger {
        return new CliLogger(this.write, { ...this.fields, ...args });
    }
}
