import { CliIo } from './output';

/**
 * Runs a command's main as a process: stdout and stderr are the process's, the exit code
 * is main's (3 when main throws: a bug, reported without the stack's data). Exits once the
 * output is flushed, so a lingering keep-alive socket cannot hold the process open.
 */
export function runAsProcess(main: (argv: readonly string[], io: CliIo) => Promise<number>): void {
    const io: CliIo = {
        out: (text) => process.stdout.write(text),
        err: (text) => process.stderr.write(text),
        env: process.env
    };
    // The providers' own deadline timers are unref'd (the service's server keeps its process
    // alive): without a handle of our own, Node would exit 0 in the middle of a check.
    const keepAlive = setInterval(() => undefined, 60_000);
    main(process.argv.slice(2), io).then((code) => exitAfterFlush(code), (e: unknown) => {
        process.stderr.write(`internal error: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
        exitAfterFlush(3);
    }).finally(() => clearInterval(keepAlive));
}

function exitAfterFlush(code: number): void {
    process.exitCode = code;
    process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}
