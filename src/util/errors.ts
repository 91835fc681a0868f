/** The message of anything thrown, for a log line. */
export function errorMessage(e: unknown): string {
    return e instanceof Error ? e.message : String(e);
}
