/**
 * The measured process of bench/fcm-cost.ts: plain node, compiled provider from dist/.
 * One message in ({root, config, tokens, concurrency}), one result out.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
import { existsSync } from 'node:fs';
import * as path from 'node:path';

/** `config`: a validated ServiceConfig (older builds); `rawConf`: the conf block it came from (the registry's). */
interface Plan { root: string; config: any; rawConf: Record<string, unknown>; tokens: number; concurrency: number }

const quiet = { log: () => undefined, child: () => quiet };

process.once('message', (plan: Plan) => {
    run(plan).then((result) => {
        process.send!({ result }, () => process.exit(0));
    }, (e: unknown) => {
        process.send!({ error: String((e as Error)?.stack ?? e) }, () => process.exit(1));
    });
});

async function run(plan: Plan) {
    const dist = (m: string) => require(path.join(plan.root, 'dist', m));
    // The providers built as the service builds them, for the RSS figure: the registry (the
    // current core, from the raw conf) or createProviders (builds before the core rewrite).
    let built: { fcm: { close(): Promise<void>; send(b: unknown): Promise<any> }; apns: { close(): Promise<void> } };
    let config = plan.config;
    if (existsSync(path.join(plan.root, 'dist', 'providers', 'registry.js'))) {
        config = dist('config/service-config').loadServiceConfig(plan.rawConf);
        const registry = new (dist('providers/registry').ProviderRegistry)({
            instances: config.providerInstances, egress: config, userAgent: config.user_agent, logger: quiet
        });
        built = { fcm: registry.get('fcm').provider, apns: { close: () => registry.close() } };
    } else {
        built = dist('providers/create-providers').createProviders({ config: plan.config, logger: quiet });
    }
    const gc = (globalThis as { gc?: () => void }).gc!;
    gc();
    const builtRssMB = process.memoryUsage().rss / 1048576;
    const builtHeapMB = process.memoryUsage().heapUsed / 1048576;
    const fcmModule = dist('providers/fcm/fcm-provider');
    let send: (tokens: string[]) => Promise<{ outcome: string; reason: string }[]>;
    let close: () => Promise<void>;
    if (typeof fcmModule.createFcmProvider === 'function') {
        // The new seam, measured directly (not through the service's transitional adapter).
        const c = config;
        const fcmSettings = c.providerInstances ? c.providerInstances.find((i: { id: string }) => i.id === 'fcm').settings : c.fcm;
        const p = fcmModule.createFcmProvider('fcm', fcmSettings, { logger: quiet, egress: c, userAgent: c.user_agent });
        const message = { type: 'checkEchoV1', data: { type: 'checkEchoV1' }, collapseKey: 'checkEchoV1' };
        send = async (tokens) => {
            const out: { outcome: string; reason: string }[] = [];
            await p.send({ provider: 'fcm', message, dryRun: false, tokens }, (rs: { outcome: string; reason: string }[]) => {
                for (const r of rs) {
                    out.push(r);
                }
            });
            return out;
        };
        close = async () => {
            await p.close();
            await built.fcm.close();
            await built.apns.close();
        };
    } else {
        send = (tokens) => built.fcm.send({ provider: 'fcm', messageType: 'checkEchoV1', dryRun: false, tokens });
        close = async () => {
            await built.fcm.close();
            await built.apns.close();
        };
    }
    let n = 0;
    const batches = (count: number): string[][] => {
        const out: string[][] = [];
        for (let i = 0; i < count; i += 500) {
            out.push(Array.from({ length: Math.min(500, count - i) }, () => `fcm-bench-token-${(n++).toString(36).padStart(8, '0')}-${'x'.repeat(120)}`));
        }
        return out;
    };
    const outcomes: Record<string, number> = {};
    const drive = async (all: string[][], count: boolean) => {
        let next = 0;
        await Promise.all(Array.from({ length: plan.concurrency }, async () => {
            while (next < all.length) {
                const results = await send(all[next++]);
                if (count) {
                    for (const r of results) {
                        const k = `${r.outcome}:${r.reason}`;
                        outcomes[k] = (outcomes[k] ?? 0) + 1;
                    }
                }
            }
        }));
    };
    await drive(batches(2000), false);
    const work = batches(plan.tokens);
    gc();
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await drive(work, true);
    const cpu = process.cpuUsage(cpu0);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const afterRssMB = process.memoryUsage().rss / 1048576;
    await close();
    return { cpuUsPerToken: (cpu.user + cpu.system) / plan.tokens, userUsPerToken: cpu.user / plan.tokens, systemUsPerToken: cpu.system / plan.tokens, tokensPerSec: plan.tokens / seconds, builtRssMB, builtHeapMB, afterRssMB, outcomes };
}
