export function median(values: readonly number[]): number {
    if (values.length === 0) {
        return NaN;
    }
    const s = [...values].sort((a, b) => a - b);
    const mid = s.length >> 1;
    return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function round(n: number, digits = 0): number {
    const f = 10 ** digits;
    return Math.round(n * f) / f;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const MB = 2 ** 20;

/**
 * Per-unit cost ratios between consecutive steps of a scaling series: cost(i) / cost(i-1).
 * A ratio above `limit` means the step grew worse than linearly.
 */
export function scalingSteps(points: readonly { x: number; costPerUnit: number }[], limit = 1.5):
{ from: number; to: number; ratio: number; superlinear: boolean }[] {
    const out = [];
    for (let i = 1; i < points.length; i++) {
        const ratio = points[i].costPerUnit / points[i - 1].costPerUnit;
        out.push({ from: points[i - 1].x, to: points[i].x, ratio: round(ratio, 2), superlinear: ratio > limit });
    }
    return out;
}
