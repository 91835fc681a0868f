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
import { createSign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import { ApnsConfig } from '../src/config/sections/providers';
import { Logger } from '../src/logging/logger';
import { createApnsProvider } from '../src/providers/apns';
import { PushMessage } from '../src/push/message';
import { PushProvider, TokenResult } from '../src/push/provider';
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

/** The same requests from a bare node:http2 client (see --floor): a PushProvider-shaped stand-in. */
function bareHttp2(config: ApnsConfig): PushProvider {
    const key = readFileSync(config.token!.key);
    const header = Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid: config.token!.keyId })).toString('base64url');
    const claims = Buffer.from(JSON.stringify({ iss: config.token!.teamId, iat: Math.floor(Date.now() / 1000) })).toString('base64url');
    const signature = createSign('SHA256').update(`${header}.${claims}`).sign({ key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
    const authorization = `bearer ${header}.${claims}.${signature}`;
    const session = http2.connect(`https://${config.address}:${config.port}`, { ca: readFileSync(config.ca!) });
    const body = Buffer.from(JSON.stringify({ data: { type: 'checkEchoV1' }, aps: { alert: 'checkEchoV1', 'mutable-content': 1, 'thread-id': 'checkEchoV1' } }));
    const one = (token: string): Promise<boolean> => new Promise((resolve) => {
        const req = session.request({
            ':method': 'POST', ':path': `/3/device/${token}`, ':scheme': 'https', ':authority': String(config.address),
            'apns-priority': 10, 'apns-topic': String(config.topic), 'apns-push-type': 'alert', authorization
        });
        let status = 0;
        req.on('response', (h) => {
            status = Number(h[':status']);
        });
        req.on('data', () => undefined);
        req.on('end', () => resolve(status === 200));
        req.on('error', () => resolve(false));
        req.end(body);
    });
    return {
        id: 'floor', kind: 'apns',
        async send(batch, onResults) {
            let next = 0;
            const results: TokenResult[] = [];
            const worker = async (): Promise<void> => {
                while (next < batch.tokens.length) {
                    const token = batch.tokens[next++];
                    results.push({ token, outcome: (await one(token)) ? 'delivered' : 'transient', reason: 'ok' });
                }
            };
            await Promise.all(Array.from({ length: 50 }, worker));
            onResults(results);
        },
        close: () => new Promise<void>((resolve) => session.close(() => resolve()))
    };
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
    const p = floor ? bareHttp2(config) : createApnsProvider('apns', config, { logger: quiet, egress: { no_proxy_list: [] } });
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
