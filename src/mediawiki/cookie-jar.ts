/**
 * The session cookies of one MediaWiki account. The client talks to a single API host, so
 * domain and path are not tracked: a cookie is a name, a value and maybe an expiry.
 * Values are never logged (they are the session).
 */
export class CookieJar {
    private readonly cookies = new Map<string, { value: string; expiresAt?: number }>();

    constructor(private readonly now: () => number = Date.now) {}

    /** Takes the `Set-Cookie` lines of a response (from `res.headers.getSetCookie()`). */
    store(setCookieLines: readonly string[]): void {
        for (const line of setCookieLines) {
            const [pair, ...attributes] = line.split(';');
            const eq = pair.indexOf('=');
            if (eq <= 0) {
                continue;
            }
            const name = pair.slice(0, eq).trim();
            const value = pair.slice(eq + 1).trim();
            let expiresAt: number | undefined;
            for (const attribute of attributes) {
                const [key, ...rest] = attribute.split('=');
                const attrValue = rest.join('=').trim();
                const k = key.trim().toLowerCase();
                if (k === 'max-age') {
                    // Max-Age wins over Expires (RFC 6265 5.3).
                    expiresAt = this.now() + Number(attrValue) * 1000;
                    break;
                }
                if (k === 'expires') {
                    const t = Date.parse(attrValue);
                    expiresAt = Number.isNaN(t) ? undefined : t;
                }
            }
            // MediaWiki deletes cookies (e.g. on logout) by sending them expired or empty.
            if (value === '' || value === 'deleted' || (expiresAt !== undefined && expiresAt <= this.now())) {
                this.cookies.delete(name);
            } else {
                this.cookies.set(name, { value, expiresAt });
            }
        }
    }

    /** The `Cookie` request header, or undefined when the jar is empty. */
    header(): string | undefined {
        const now = this.now();
        const parts: string[] = [];
        for (const [name, c] of this.cookies) {
            if (c.expiresAt !== undefined && c.expiresAt <= now) {
                this.cookies.delete(name);
            } else {
                parts.push(`${name}=${c.value}`);
            }
        }
        return parts.length ? parts.join('; ') : undefined;
    }

    clear(): void {
        this.cookies.clear();
    }

    get size(): number {
        return this.cookies.size;
    }
}
