/**
 * Text rules Sygnal's payload builders rely on, written once so every builder cuts strings
 * the same way Sygnal (Python) does. Python measures strings in code points and encodes JSON
 * with `json.dumps` (`", "` and `": "` separators), where JavaScript counts UTF-16 units and
 * `JSON.stringify` writes no spaces; these helpers bridge the two.
 */

/**
 * Python's `s[0:n]`: the first `n` code points (an astral character such as an emoji is one
 * code point, two UTF-16 units, and is never split).
 */
export function sliceCodePoints(s: string, n: number): string {
    if (s.length <= n) {
        return s; // n UTF-16 units hold at most n code points
    }
    let units = 0;
    for (let i = 0; i < n && units < s.length; i++) {
        const c = s.codePointAt(units) as number;
        units += c > 0xffff ? 2 : 1;
    }
    return s.slice(0, units);
}

/** Python's `len(s)`: the number of code points. */
export function codePointLength(s: string): number {
    let n = 0;
    for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
            const d = s.charCodeAt(i + 1);
            if (d >= 0xdc00 && d <= 0xdfff) {
                i++;
            }
        }
        n++;
    }
    return n;
}

/**
 * Sygnal's `gcmpushkin.truncate_str`: a string longer than `maxBytes` UTF-8 bytes is cut to
 * at most `maxBytes - 3` bytes without splitting a character (a character that would be
 * split is dropped whole), then `…` (3 bytes) is appended. Shorter strings are returned as
 * they are. Result: at most `maxBytes` bytes.
 */
export function truncateUtf8(s: string, maxBytes: number): { value: string; truncated: boolean } {
    const bytes = Buffer.from(s, 'utf8');
    if (bytes.length <= maxBytes) {
        return { value: s, truncated: false };
    }
    // The cut falls inside a character when the first byte left out is a continuation byte
    // (10xxxxxx): then cut before that character instead, as Python's decode error does.
    let end = maxBytes - 3;
    while (end > 0 && (bytes[end] & 0xc0) === 0x80) {
        end--;
    }
    return { value: `${bytes.subarray(0, end).toString('utf8')}…`, truncated: true };
}

/** UTF-8 length of one code point. */
function utf8Length(cp: number): number {
    return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/**
 * Bytes one code point takes inside a JSON string as Python's `json.dumps(ensure_ascii=False)`
 * writes it, UTF-8 encoded: `"` and `\` and the control characters with a short escape take 2,
 * other control characters 6 (`\u00XX`), anything else its UTF-8 length. A lone surrogate
 * (which Python could not encode at all) counts as JavaScript writes it: 6 (`\udXXX`).
 */
export function jsonCharBytes(cp: number): number {
    if (cp === 0x22 || cp === 0x5c || cp === 0x08 || cp === 0x09 || cp === 0x0a || cp === 0x0c || cp === 0x0d) {
        return 2;
    }
    if (cp < 0x20 || (cp >= 0xd800 && cp <= 0xdfff)) {
        return 6;
    }
    return utf8Length(cp);
}

/** Bytes of a JSON string literal (quotes included) as Python's `json.dumps(ensure_ascii=False)` writes it. */
export function pyJsonStringBytes(s: string): number {
    let n = 2;
    for (const ch of s) {
        n += jsonCharBytes(ch.codePointAt(0) as number);
    }
    return n;
}

/**
 * Length in bytes of `json.dumps(value, ensure_ascii=False).encode()`, Python's default JSON
 * form (`", "` between items, `": "` after keys), which is what Sygnal measures its APNs
 * payloads with (apnstruncate.json_encode) and what aioapns sends. Numbers are written as
 * JavaScript writes them (Python writes a float 1.0 as `1.0`; JSON parsed in JavaScript no
 * longer knows it was a float). Values JSON cannot hold (undefined, functions) are skipped
 * as JSON.stringify skips them in objects.
 */
export function pyJsonBytes(value: unknown): number {
    if (value === null) {
        return 4;
    }
    switch (typeof value) {
        case 'string':
            return pyJsonStringBytes(value);
        case 'number':
            return Number.isFinite(value) ? String(value).length : 4;
        case 'boolean':
            return value ? 4 : 5;
        case 'object': {
            if (Array.isArray(value)) {
                let n = 2;
                value.forEach((v, i) => {
                    n += (i ? 2 : 0) + (v === undefined || typeof v === 'function' ? 4 : pyJsonBytes(v));
                });
                return n;
            }
            let n = 2;
            let first = true;
            for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
                if (v === undefined || typeof v === 'function') {
                    continue;
                }
                n += (first ? 0 : 2) + pyJsonStringBytes(k) + 2 + pyJsonBytes(v);
                first = false;
            }
            return n;
        }
        default:
            return 0;
    }
}

/**
 * `matrix_common.regex.glob_to_regex`, which Sygnal uses for app ids (case-sensitive) and
 * WebPush `allowed_endpoints` (case-insensitive): `*` is any run of characters, `?` one
 * character, everything else literal; anchored at both ends. As in Python's `.`, a wildcard
 * matches any character except a newline.
 */
export function globToRegExp(glob: string, ignoreCase: boolean): RegExp {
    let pattern = '';
    for (const chunk of glob.split(/([?*]+)/)) {
        if (chunk === '') {
            continue;
        }
        if (/^[?*]+$/.test(chunk)) {
            const q = chunk.split('?').length - 1;
            pattern += chunk.includes('*') ? `[^\\n]{${q},}` : `[^\\n]{${q}}`;
        } else {
            pattern += chunk.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
        }
    }
    return new RegExp(`^(?:${pattern})$`, ignoreCase ? 'iu' : 'u');
}

/** True when the glob has a wildcard (`*` or `?`). */
export function isGlob(name: string): boolean {
    return /[?*]/.test(name);
}
