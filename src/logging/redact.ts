import { createHash } from 'node:crypto';

/**
 * A short, stable stand-in for a device token in logs: the first characters (6, or a third of
 * a short token, so that a short token is never shown whole) and 8 hex characters of its
 * SHA-256. Enough to correlate log lines, useless for sending a push.
 */
export function tokenFingerprint(token: string): string {
    const digest = createHash('sha256').update(token).digest('hex').slice(0, 8);
    return `${token.slice(0, Math.min(6, Math.floor(token.length / 3)))}…${digest}`;
}

/** Fingerprints of up to `max` tokens, for a log line about a batch. */
export function tokenFingerprints(tokens: readonly string[], max = 5): string[] {
    const shown = tokens.slice(0, max).map(tokenFingerprint);
    if (tokens.length > max) {
        shown.push(`(+${tokens.length - max} more)`);
    }
    return shown;
}
