import assert from 'node:assert/strict';
import * as net from 'node:net';
import { AddressInfo } from 'node:net';
import { ServiceConfig } from '../../src/config/service-config';
import { Logger } from '../../src/logging/logger';
import { createFcmProvider, FcmProvider } from '../../src/providers/fcm/fcm-provider';
import { PushMessage } from '../../src/push/message';
import { Batch, TokenResult } from '../../src/push/provider';

/** Echo's checkEchoV1 message, as the Echo front door builds it (common.md). */
export const ECHO_CHECK: PushMessage = {
    type: 'checkEchoV1',
    data: { type: 'checkEchoV1' },
    collapseKey: 'checkEchoV1',
    mutableContent: true,
    apns: { alertText: 'checkEchoV1', threadId: 'checkEchoV1', pushType: 'alert', payload: { data: { type: 'checkEchoV1' } } }
};

/**
 * The request body today's provider (firebase-admin 13.10 sendEachForMulticast, legacy
 * HTTP/1.1 transport) sent for checkEchoV1, captured byte for byte at the fake before the
 * rewrite (commit 8d3beab). The new client must send exactly these bytes.
 */
export function pinnedEchoBody(token: string, dryRun = false): string {
    return `{"message":{"token":${JSON.stringify(token)},"android":{"collapse_key":"checkEchoV1"},"data":{"type":"checkEchoV1"}}`
        + (dryRun ? ',"validate_only":true}' : '}');
}

export function fcmBatch(tokens: readonly string[], extra: Partial<Batch> = {}): Batch {
    return { provider: 'fcm', message: ECHO_CHECK, dryRun: false, tokens, ...extra };
}

export interface Collected {
    readonly results: TokenResult[];
    /** How many onResults calls delivered them. */
    readonly groups: number;
}

/**
 * Sends a batch and collects what onResults reported; asserts that send resolved, never
 * rejected, and reported every token of the batch exactly once.
 */
export async function collect(p: FcmProvider, batch: Batch): Promise<Collected> {
    const results: TokenResult[] = [];
    let groups = 0;
    await p.send(batch, (group) => {
        groups++;
        results.push(...group);
    });
    assert.deepEqual(results.map((r) => r.token).sort(), [...batch.tokens].sort(), 'every token reported exactly once');
    return { results, groups };
}

/** Outcome:reason per token. */
export function outcomes(results: readonly TokenResult[]): Record<string, string> {
    return Object.fromEntries(results.map((r) => [r.token, `${r.outcome}:${r.reason}`]));
}

/** An FCM provider from a validated service config (the fakes' conf merged in). */
export function fcmFrom(config: ServiceConfig, logger: Logger, env: NodeJS.ProcessEnv = {}): FcmProvider {
    return createFcmProvider('fcm', config.fcm, { logger, egress: config, userAgent: config.user_agent, env });
}

/**
 * A TCP server that accepts connections and never writes a byte (a black-hole FCM, OAuth
 * endpoint or egress proxy). It records how many connections it got and how many the
 * client has closed since.
 */
export class BlackHole {
    readonly sockets = new Set<net.Socket>();
    accepted = 0;
    closedByClient = 0;
    private constructor(private readonly server: net.Server) {}

    static async start(): Promise<BlackHole> {
        const server = net.createServer((s) => {
            hole.accepted++;
            hole.sockets.add(s);
            s.on('data', () => undefined);
            s.on('error', () => undefined);
            s.on('close', () => {
                if (hole.sockets.delete(s)) {
                    hole.closedByClient++;
                }
            });
        });
        const hole = new BlackHole(server);
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        return hole;
    }

    get port(): number {
        return (this.server.address() as AddressInfo).port;
    }

    async close(): Promise<void> {
        const open = [...this.sockets];
        this.sockets.clear();
        for (const s of open) {
            s.destroy();
        }
        await new Promise<void>((resolve) => this.server.close(() => resolve()));
    }
}

export async function until(what: string, check: () => boolean, ms = 5000): Promise<void> {
    const end = Date.now() + ms;
    while (!check()) {
        if (Date.now() > end) {
            assert.fail(`timed out waiting for: ${what}`);
        }
        await new Promise((r) => setTimeout(r, 10));
    }
}
