import { Logger } from '../logging/logger';
import { tokenFingerprints } from '../logging/redact';

/**
 * Collects a provider call's failures and logs them once per kind, with a count, the first
 * detail the provider gave and a few token fingerprints. A wrong key or topic fails every
 * token of every batch; one line per token would bury everything else in the log.
 */
export class FailureSummary {
    private readonly kinds = new Map<string, { level: string; msg: string; count: number; fields: Record<string, unknown>; tokens: string[] }>();

    constructor(private readonly logger: Logger, private readonly component: string) {}

    add(level: 'error' | 'warn', msg: string, reason: string, token: string, fields: Record<string, unknown>): void {
        const key = `${level}\u0000${msg}\u0000${reason}`;
        let kind = this.kinds.get(key);
        if (!kind) {
            kind = { level, msg, count: 0, fields: { reason, ...fields }, tokens: [] };
            this.kinds.set(key, kind);
        }
        kind.count++;
        if (kind.tokens.length < 3) {
            kind.tokens.push(token);
        }
    }

    /** Logs one line per kind and forgets them. */
    flush(): void {
        for (const k of this.kinds.values()) {
            this.logger.log(`${k.level}/${this.component}`, { msg: k.msg, ...k.fields, count: k.count, tokens: tokenFingerprints(k.tokens, 3) });
        }
        this.kinds.clear();
    }
}
