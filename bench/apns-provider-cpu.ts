/**
 * Worker CPU per delivered APNs token, for the provider alone (issue 16: target <= 50 µs).
 *
 *   node -r ts-node/register/transpile-only bench/apns-provider-cpu.ts [tokens=20000] [rounds=5]
 *   (add --cpu-prof --cpu-prof-dir=DIR before -r to profile; PN_BENCH_NO_CLUSTER=1 to leave
 *   node:cluster unloaded)
 *
 * This process builds the APNs provider with the kind's factory and sends `tokens` 64-hex
 * tokens in 500-token batches, 4 calls at a time (delivery.batchSize and
 * delivery.concurrency.apns defaults), counting the delivered ones through onResults. The
 * fake APNs runs in a child process (with its per-JWT verdict cached, as in npm run bench),
 * so only the provider's own work is charged: process.cpuUsage (user + system) around each
 * round, after a warm-up round. node:cluster is loaded first because the service's worker
 * has it (service.ts), and loading it loads node:domain, which makes every EventEmitter a
 * little dearer.
 */
import { ChildProcess, fork } from 'node:child_process';
import { ApnsConfig } from '../src/config/sections/providers';
import { Logger } from '../src/logging/logger';
import { createApnsProvider } from '../src/providers/apns';
import { PushMessage } from '../src/push/message';
import { PushProvider } from '../src/push/provider';
import { deviceToken } from './lib/tokens';

const quiet: Logger = { log: () => undefined, child: () => quiet };

const message: PushMessage = {
    type: 'checkEchoV1', data: { type: 'checkEchoV1' }, collapseKey: 'checkEchoV1', mutableContent: true,
    apns: { alertText: 'checkEchoV1', threadId: 'checkEchoV1', pushType: 'alert', payload: { data: { type: 'checkEchoV1' } } }
};

async function fakeMain(): Promise<void> {
    const { startProviderFakes } = await import('../test/fakes/provider-fakes');
    const { cacheApnsJwtChecks } = await import('./lib/fake-tuning');
    const fakes = await startProviderFakes();
    fakes.apns.record = false;
    cacheApnsJwtChecks(fakes.apns);
    process.send?.({ apns: fakes.conf.apns });
    process.on('message', () => {
        void fakes.close().then(() => process.exit(0));
    });
}

/** `n` distinct 64-hex tokens in 500-token batches (made before the measured part). */
function batchesOf(n: number, salt: string): string[][] {
    const batches: string[][] = [];
    for (let i = 0; i < n; i += 500) {
        batches.push(Array.from({ length: Math.min(500, n - i) }, (_, j) => deviceToken('apns', i + j, salt)));
    }
    return batches;
}

/** Sends the batches, 4 calls in flight; resolves to the delivered count. */
async function round(p: PushProvider, batches: readonly string[][]): Promise<number> {
    let delivered = 0;
    let next = 0;
    const worker = async (): Promise<void> => {
        while (next < batches.length) {
            const tokens = batches[next++];
            await p.send({ provider: 'apns', message, dryRun: false, tokens }, (group) => {
                for (const r of group) {
                    if (r.outcome === 'delivered') {
                        delivered++;
                    }
                }
            });
        }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    return delivered;
}

async function main(): Promise<void> {
    if (!process.env.PN_BENCH_NO_CLUSTER) {
        await import('node:cluster');
    }
    const total = Number(process.argv[2] ?? 20000);
    const rounds = Number(process.argv[3] ?? 5);
    const child: ChildProcess = fork(__filename, ['fake'], { execArgv: ['-r', 'ts-node/register/transpile-only'] });
    const fakeConf = await new Promise<Record<string, unknown>>((resolve) => child.once('message', (m) => resolve(m as Record<string, unknown>)));
    const config = {
        mock: false, production: false, debug_topics: [], clientCount: 1, requestTimeoutMs: 10000, connectTimeoutMs: 10000,
        connectionRetryLimit: 0, shutdownTimeoutMs: 2000, ...(fakeConf.apns as object)
    } as ApnsConfig;
    const p = createApnsProvider('apns', config, { logger: quiet, egress: { no_proxy_list: [] } });
    await round(p, batchesOf(4000, 'warm'));
    const perToken: number[] = [];
    for (let r = 0; r < rounds; r++) {
        const batches = batchesOf(total, `r${r}`);
        const cpu0 = process.cpuUsage();
        const t0 = process.hrtime.bigint();
        const delivered = await round(p, batches);
        const cpu = process.cpuUsage(cpu0);
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        const us = (cpu.user + cpu.system) / delivered;
        perToken.push(us);
        console.log(`round ${r}: ${delivered}/${total} delivered in ${ms.toFixed(0)} ms, ${(delivered / ms * 1000).toFixed(0)} tokens/s; ` +
            `${us.toFixed(1)} µs/token (user ${(cpu.user / delivered).toFixed(1)}, system ${(cpu.system / delivered).toFixed(1)})`);
    }
    const sorted = [...perToken].sort((a, b) => a - b);
    console.log(`median ${sorted[Math.floor(sorted.length / 2)].toFixed(1)} µs/token, best ${sorted[0].toFixed(1)} (node ${process.version}, ` +
        `node:cluster ${process.env.PN_BENCH_NO_CLUSTER ? 'not loaded' : 'loaded'})`);
    await p.close();
    child.send('stop');
}

if (process.argv[2] === 'fake') {
    void fakeMain();
} else {
    void main();
}
