import { ServiceConfig } from '../../src/config/service-config';
import { createApnsProvider } from '../../src/providers/apns';
import { ApnsProvider } from '../../src/providers/apns/apns-provider';
import { PushMessage } from '../../src/push/message';
import { Batch, PushProvider, TokenResult } from '../../src/push/provider';
import { TestLogger } from '../helpers/test-logger';

/** Echo's checkEchoV1 message, as the Echo front door builds it (common.md). */
export function echoMessage(type = 'checkEchoV1', topic?: string): PushMessage {
    return {
        type, data: { type }, collapseKey: type, mutableContent: true,
        apns: { alertText: type, threadId: type, pushType: 'alert', payload: { data: { type } }, ...(topic ? { topic } : {}) }
    };
}

export function apnsBatch(tokens: string[], extra: Partial<Batch> = {}): Batch {
    return { provider: 'apns', message: echoMessage(), dryRun: false, tokens, ...extra };
}

/** The APNs provider of a validated config, built by the kind's factory. */
export function apnsFrom(config: ServiceConfig, logger: TestLogger): ApnsProvider {
    return createApnsProvider('apns', config.apns, { logger, egress: config, userAgent: config.user_agent });
}

export interface Collected {
    /** Every result, in the order reported. */
    readonly results: TokenResult[];
    /** ms after the call started at which each token was reported. */
    readonly at: Map<string, number>;
    /** onResults calls (groups). */
    groups: number;
}

/**
 * Runs one send() and gathers what onResults reported; rejects if a token is reported
 * twice or one is missing once send() resolves (the seam's contract).
 */
export async function sendAndCollect(p: PushProvider, batch: Batch, collected: Collected = newCollected()): Promise<Collected> {
    const start = Date.now();
    await p.send(batch, (group) => {
        collected.groups++;
        for (const r of group) {
            if (collected.at.has(r.token)) {
                throw new Error(`token reported twice: ${r.token}`);
            }
            collected.at.set(r.token, Date.now() - start);
            collected.results.push(r);
        }
    });
    const missing = [...new Set(batch.tokens)].filter((t) => !collected.at.has(t));
    if (missing.length > 0) {
        throw new Error(`tokens never reported: ${missing.join(', ')}`);
    }
    return collected;
}

export function newCollected(): Collected {
    return { results: [], at: new Map(), groups: 0 };
}

/** Outcome:reason per token, for compact assertions. */
export function outcomes(c: Collected | readonly TokenResult[]): Record<string, string> {
    const results = 'results' in c ? c.results : c;
    return Object.fromEntries(results.map((r) => [r.token, `${r.outcome}:${r.reason}`]));
}
