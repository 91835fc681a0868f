/**
 * Worker CPU per delivered APNs token, for the provider alone (issue 16: target <= 50 µs).
 *
 *   npx tsc -p tsconfig.json --noEmit false --sourceMap false --outDir .bench/js && ln -sfn ../../node_modules .bench/js/node_modules
 *   node .bench/js/bench/apns-provider-cpu.js [tokens=20000] [rounds=5] [--floor]
 *   (add --cpu-prof --cpu-prof-dir=DIR after `node` to profile)
 *
 * Run it compiled, as the service's worker runs: under ts-node, node:domain is loaded (by
 * ts-node's REPL support), which makes every EventEmitter a little dearer.
 *
 * This process builds the APNs provider with the kind's factory and sends `tokens` 64-hex
 * tokens in 500-token batches, 4 calls at a time (delivery.batchSize and
 * delivery.concurrency.apns defaults), counting the delivered ones through onResults. The
 * fake APNs runs in a child process (with its per-JWT verdict cached, as in npm run bench),
 * so only the provider's own work is charged: process.cpuUsage (user + system) around each
 * round, after a warm-up round.
 *
 * --floor: the same requests (same headers, body and JWT, 200 streams in flight) from a bare
 * node:http2 client instead of the provider, in the same run: what Node's own HTTP/2 client
 * costs per token, the part no APNs client on this Node version can go below.
 */
import { ChildProcess, fork } from 'node:child_process';
import { ApnsConfig } from '../src/config/sections/providers';
import { Logger } from '../src/logging/logger';
import { createApnsProvider } from '../src/providers/apns';
import { PushMessage } from '../src/push/message';
import { PushProvider } from '../src/push/provider';
import { apnsFloorProvider, ApnsFloorTarget } from './lib/apns-floor';
import { driveBatches } from './lib/floors';
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

/** Sends the batches, 4 calls in flight (bench/lib/floors.ts); resolves to the delivered count. */
async function round(p: PushProvider, batches: readonly string[][]): Promise<number> {
    return (await driveBatches(p, message, batches)).delivered ?? 0;
}

async function main(): Promise<void> {
    const floor = process.argv.includes('--floor');
    const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
    const total = Number(args[0] ?? 20000);
    const rounds = Number(args[1] ?? 5);
    const child: ChildProcess = fork(__filename, ['fake'], { execArgv: __filename.endsWith('.ts') ? ['-r', 'ts-node/register/transpile-only'] : [] });
    const fakeConf = await new Promise<Record<string, unknown>>((resolve) => child.once('message', (m) => resolve(m as Record<string, unknown>)));
    const config = {
        mock: false, production: false, debug_topics: [], clientCount: 1, requestTimeoutMs: 10000, connectTimeoutMs: 10000,
        connectionRetryLimit: 0, shutdownTimeoutMs: 2000, ...(fakeConf.apns as object)
    } as ApnsConfig;
    const p = floor ? apnsFloorProvider(config as unknown as ApnsFloorTarget) : createApnsProvider('apns', config, { logger: quiet, egress: { no_proxy_list: [] } });
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
    console.log(`${floor ? 'bare node:http2 client' : 'APNs provider'}: median ${sorted[Math.floor(sorted.length / 2)].toFixed(1)} µs/token, ` +
        `best ${sorted[0].toFixed(1)} (node ${process.version}${(process as unknown as { moduleLoadList: string[] }).moduleLoadList.some((m) => m.endsWith(' domain')) ? ', node:domain loaded' : ''})`);
    await p.close();
    child.send('stop');
}

if (process.argv[2] === 'fake') {
    void fakeMain();
} else {
    void main();
}
