import { CheckLine, CheckStatus } from '../providers/provider-check';

/** One line of `check`'s output: a CheckLine about one subject (a provider instance id, 'config' or 'mediawiki'). */
export interface CheckRow extends CheckLine {
    readonly subject: string;
}

/** Where a command writes (stdout, stderr) and what it reads (the environment). */
export interface CliIo {
    readonly out: (text: string) => void;
    readonly err: (text: string) => void;
    readonly env: NodeJS.ProcessEnv;
}

const LABELS: Readonly<Record<CheckStatus, string>> = { ok: 'ok', fail: 'FAIL', warn: 'warn', skip: 'skip' };

/** `ok    apns        provider token: …`: status, subject, step and detail on one line. */
export function formatRow(row: CheckRow, subjectWidth: number): string {
    return `${LABELS[row.status].padEnd(5)} ${row.subject.padEnd(subjectWidth)}  ${row.step}: ${row.detail}`;
}

/** The last line: how many checks passed, failed, warned, were skipped. */
export function summarize(rows: readonly CheckRow[]): string {
    const count = (s: CheckStatus): number => rows.filter((r) => r.status === s).length;
    const [ok, fail, warn, skip] = [count('ok'), count('fail'), count('warn'), count('skip')];
    const extra = [warn ? `${warn} warning${warn > 1 ? 's' : ''}` : '', skip ? `${skip} skipped` : ''].filter(Boolean);
    if (fail > 0) {
        return `${fail} check${fail > 1 ? 's' : ''} FAILED (${[`${ok} ok`, ...extra].join(', ')}).`;
    }
    return `All checks passed (${[`${ok} ok`, ...extra].join(', ')}).`;
}
