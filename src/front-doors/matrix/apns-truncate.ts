import { jsonCharBytes, pyJsonBytes } from './text';

/**
 * Sygnal's APNs payload truncation (sygnal/apnstruncate.py, from matrix-org/pushbaby): while
 * the payload is longer than `maxBytes` as Python's `json.dumps(payload, ensure_ascii=False)`
 * writes it (which is also what aioapns sends), remove the last character of the longest
 * (in UTF-8 bytes; the first of equals) of the "choppable" strings: `aps.alert` when it is a
 * string, else `aps.alert.body` and each `aps.alert.loc-args` entry.
 *
 * The result is exactly Sygnal's, computed without re-encoding the payload after every
 * character (Sygnal's loop is quadratic: a 60 kB message body would take it seconds).
 * Strings that are not text (a number in loc-args) are never chopped; Sygnal would crash.
 *
 * @returns a payload that fits, sharing nothing mutable with the input; or undefined when it
 *   cannot be made to fit (no `aps`, or nothing left to chop: Sygnal's BodyTooLongException)
 */
export function truncateApnsPayload(payload: Readonly<Record<string, unknown>>, maxBytes: number): Record<string, unknown> | undefined {
    let total = pyJsonBytes(payload);
    if (total <= maxBytes) {
        return payload;
    }
    if (!isObject(payload.aps)) {
        return undefined;
    }
    const out = structuredClone(payload) as Record<string, unknown>;
    const aps = out.aps as Record<string, unknown>;
    const chops: Choppable[] = [];
    const alert = aps.alert;
    if (typeof alert === 'string') {
        chops.push(choppable(alert, (s) => { aps.alert = s; }));
    } else if (isObject(alert)) {
        if (typeof alert.body === 'string') {
            chops.push(choppable(alert.body, (s) => { alert.body = s; }));
        }
        const args = alert['loc-args'];
        if (Array.isArray(args)) {
            args.forEach((a, i) => {
                if (typeof a === 'string') {
                    chops.push(choppable(a, (s) => { args[i] = s; }));
                }
            });
        }
    }
    while (total > maxBytes) {
        let longest: Choppable | undefined;
        for (const c of chops) {
            if (c.bytes > (longest?.bytes ?? 0)) {
                longest = c;
            }
        }
        if (!longest) {
            return undefined;
        }
        const ch = longest.chars.pop() as string;
        const cp = ch.codePointAt(0) as number;
        longest.bytes -= Buffer.byteLength(ch, 'utf8');
        total -= jsonCharBytes(cp);
        longest.changed = true;
    }
    for (const c of chops) {
        if (c.changed) {
            c.put(c.chars.join(''));
        }
    }
    return out;
}

interface Choppable {
    /** The string's characters (code points), so that removing the last is O(1). */
    readonly chars: string[];
    /** UTF-8 length of what is left (Sygnal picks the longest by `len(val.encode())`). */
    bytes: number;
    changed: boolean;
    readonly put: (s: string) => void;
}

function choppable(s: string, put: (s: string) => void): Choppable {
    return { chars: Array.from(s), bytes: Buffer.byteLength(s, 'utf8'), changed: false, put };
}

function isObject(v: unknown): v is Record<string, unknown> {
    return typeof v === 'object' && v !== null && !Array.isArray(v);
}
