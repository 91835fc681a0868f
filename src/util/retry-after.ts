/**
 * Reads an HTTP `Retry-After` header (RFC 9110 §10.2.3) into a delay in milliseconds.
 * Both forms are honoured: delta-seconds ("120") and an HTTP-date
 * ("Wed, 21 Oct 2015 07:28:00 GMT"). A date in the past means "now" (0). Anything that
 * is neither (missing, empty, negative, garbage) gives `undefined`, so the caller falls
 * back to its own backoff instead of trusting a value it could not read.
 *
 * Shared by the providers (which see the header) and the delivery layer (which tests it).
 *
 * @param header the header value; arrays (node's IncomingHttpHeaders shape) use the first
 * @param now epoch ms the answer arrived, for the HTTP-date form
 */
export function parseRetryAfter(header: string | readonly string[] | number | null | undefined,
    now: number = Date.now()): number | undefined {
    if (header === null || header === undefined) {
        return undefined;
    }
    if (typeof header === 'number') {
        return Number.isFinite(header) && header >= 0 ? Math.round(header * 1000) : undefined;
    }
    const value = (typeof header === 'string' ? header : header[0] ?? '').trim();
    if (value === '') {
        return undefined;
    }
    if (/^\d+$/.test(value)) {
        // delta-seconds; absurdly large values are the caller's to cap (maxDelayMs / maxAgeMs).
        const seconds = Number(value);
        return Number.isSafeInteger(seconds * 1000) ? seconds * 1000 : undefined;
    }
    // HTTP-date. Date.parse also accepts looser forms (ISO 8601); insist on something with a
    // letter in it so a bare negative or decimal number is not read as a year.
    if (!/[a-z]/i.test(value)) {
        return undefined;
    }
    const at = Date.parse(value);
    if (Number.isNaN(at)) {
        return undefined;
    }
    return Math.max(0, at - now);
}
