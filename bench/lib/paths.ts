import * as path from 'node:path';

/** The repository root (bench/ runs under ts-node from the repository). */
export const ROOT = path.resolve(__dirname, '..', '..');
/** Transpiled helpers that run as plain node processes (git-ignored). */
export const BENCH_OUT = path.join(ROOT, '.bench');
