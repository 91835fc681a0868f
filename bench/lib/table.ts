/** A plain-text table with right-aligned numbers, for the console and the README. */
export function table(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
    const cells = [headers, ...rows.map((r) => r.map((c) => String(c)))];
    const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
    const line = (r: readonly string[]): string =>
        '| ' + r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') + ' |';
    const sep = '|' + widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|';
    return [line(cells[0]), sep, ...cells.slice(1).map(line)].join('\n');
}
