/**
 * Parses a Retry-After header: delta-seconds ("120") or an HTTP-date. Returns
 * milliseconds from `now`, or undefined when absent or unreadable. A date in the past is 0.
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
    if (value === null || value === undefined) {
        return undefined;
    }
    const trimmed = value.trim();
    if (/^\d+$/.test(trimmed)) {
        return Number(trimmed) * 1000;
    }
    const at = Date.parse(trimmed);
    if (Number.isNaN(at)) {
        return undefined;
    }
    return Math.max(0, at - now);
}
