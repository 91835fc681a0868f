import { spawn } from 'node:child_process';
import { freePort } from '../../test/helpers/processes';
import { cleanEnv } from './autocannon';
import { measuredNode } from './node';
import { ROOT } from './paths';
import { MB, round, sleep } from './stats';

/**
 * Idle RSS of a plain node process running `code` (e.g. '' for bare Node, or
 * `require('service-runner')`) on the measured Node, with the same probe preloaded as the
 * service (so both carry its small HTTP server): started, settled for `settleMs`, two full
 * GCs, then read. MB.
 */
export async function idleRssMB(probe: string, code: string, settleMs = 1500): Promise<number> {
    const port = await freePort();
    const env = { ...cleanEnv(), NODE_OPTIONS: `--require ${probe}`, PN_BENCH_PROBE_PORT: String(port) };
    const child = spawn(measuredNode(), ['-e', `${code};setInterval(() => undefined, 1 << 30);`], { cwd: ROOT, env, stdio: 'ignore' });
    try {
        const deadline = Date.now() + 10_000;
        for (;;) {
            try {
                await fetch(`http://127.0.0.1:${port}/stats`);
                break;
            } catch (e) {
                if (Date.now() > deadline) {
                    throw new Error(`idle process did not start: ${(e as Error).message}`);
                }
                await sleep(50);
            }
        }
        await sleep(settleMs);
        const stats = await (await fetch(`http://127.0.0.1:${port}/gc`, { method: 'POST' })).json() as { rss: number };
        return round(stats.rss / MB, 1);
    } finally {
        child.kill('SIGKILL');
    }
}
