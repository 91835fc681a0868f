import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { apnsToken, apnsTokenLabel } from '../fakes/apns-server';
import { DEFAULT_FAKE_PASSWORD, DEFAULT_FAKE_USER, FakeMediaWiki } from '../fakes/mediawiki-server';
import { ProviderFakes, startProviderFakes } from '../fakes/provider-fakes';
import { metricValue } from '../helpers/metrics';
import { startTestService, TestService } from '../helpers/service-harness';

/**
 * The fault-injection rig: the provider fakes (optionally behind the CONNECT proxy), a fake
 * wiki, and the REAL service module started in-process against them, with every delay
 * shortened so a fault and its recovery fit in a few seconds. Tests assert on what the fakes
 * saw and on the service's own metrics; `checkInvariants` states what must hold after any
 * fault: nothing owned is left in the queue, and nothing was deleted that the fake did not
 * call dead.
 */

export const ANSWERS = 'push_notifications_provider_answers_total';
export const FINISHED = 'push_notifications_tokens_finished_total';
export const RETRIES = 'push_notifications_retries_total';
export const MW_DELETIONS = 'push_notifications_mediawiki_deletions_total';
export type Provider = 'fcm' | 'apns' | 'webpush';

/** Retry bounds every fault test runs with (short, so give-ups happen within seconds). */
export const RETRY = { baseDelayMs: 20, maxDelayMs: 200, maxAttempts: 4, maxAgeMs: 60_000 };

export interface Rig {
    readonly fakes: ProviderFakes;
    readonly wiki: FakeMediaWiki;
    readonly svc: TestService;
    close(): Promise<void>;
}

export interface RigOptions {
    readonly proxy?: boolean;
    /** Deep-ish merge: top-level keys of the service conf, merged over the rig's defaults. */
    readonly conf?: Record<string, unknown>;
    readonly apns?: Record<string, unknown>;
    readonly fcm?: Record<string, unknown>;
    readonly webpush?: Record<string, unknown>;
    readonly retry?: Partial<typeof RETRY>;
    /** Merged over the rig's `delivery` block (callTimeoutMs, stallAfterMs, ...). */
    readonly delivery?: Record<string, unknown>;
    readonly deletionGuard?: Record<string, unknown>;
    readonly outbox?: Record<string, unknown>;
    /** The wiki's bot account (default: the fake's default user and password). */
    readonly wikiAccount?: { readonly user: string; readonly password: string };
}

export async function startRig(o: RigOptions = {}): Promise<Rig> {
    const fakes = await startProviderFakes({ proxy: o.proxy });
    // Every token "exists" on the wiki until deleted, so each dead token gives one deletion.
    const account = o.wikiAccount ?? { user: DEFAULT_FAKE_USER, password: DEFAULT_FAKE_PASSWORD };
    const wiki = await FakeMediaWiki.start({ everyTokenExists: true, accounts: { [account.user]: { password: account.password } } });
    let svc: TestService;
    try {
        svc = await startTestService({
            ...(fakes.conf.proxy ? { proxy: fakes.conf.proxy, no_proxy_list: ['127.0.0.1'] } : {}),
            fcm: { ...fakes.conf.fcm, ...o.fcm },
            apns: { ...fakes.conf.apns, requestTimeoutMs: 2000, ...o.apns },
            // Reached directly in proxy mode too (a loopback endpoint: fakes.conf.webpush).
            webpush: { ...fakes.conf.webpush, ...o.webpush },
            mwapi_req: { uri: wiki.uri },
            mw_subscription_manager_username: account.user,
            mw_subscription_manager_password: account.password,
            queueing: { flushTimeoutMs: 20, maxSize: 500, maxQueuedTokens: 5000 },
            delivery: {
                ...o.delivery,
                retry: { ...RETRY, ...o.retry },
                deletionGuard: { windowMs: 60_000, minDeadTokens: 50, maxDeadRatio: 0.5, ...o.deletionGuard }
            },
            mediawiki: {
                requestTimeoutMs: 2000,
                outbox: { baseDelayMs: 20, maxDelayMs: 200, batchWaitMs: 10, maxAttempts: 100, maxAgeMs: 120_000, ...o.outbox }
            },
            ...o.conf
        });
    } catch (e) {
        await Promise.allSettled([fakes.close(), wiki.close()]);
        throw e;
    }
    return {
        fakes, wiki, svc,
        async close() {
            await svc.close().catch(() => undefined);
            await Promise.allSettled([fakes.close(), wiki.close()]);
        }
    };
}

/**
 * Distinct tokens with a behaviour prefix. APNs tokens are hex like Apple's (the hex of
 * `<prefix><24 random hex chars>`, 32 or more bytes: `apnsToken`, which the fake APNs decodes
 * to judge it by its prefix); FCM ones are ~150 characters like real registration tokens.
 * Long and random, so a leak scan can tell a full token from a fingerprint.
 */
export function tokens(provider: Provider, prefix: string, n: number): string[] {
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
        out.push(provider === 'apns' ? apnsToken(`${prefix}${randomBytes(12).toString('hex')}`)
            : `${prefix}${randomBytes(8).toString('hex')}:APA91b${randomBytes(100).toString('base64url')}`);
    }
    return out;
}

/** What a token stands for at the fakes: the label of an APNs hex token, an FCM token itself. */
export function label(token: string): string {
    return apnsTokenLabel(token);
}

/** POSTs one Echo message request; the answer as it came. */
export async function post(rig: Rig, provider: Provider, deviceTokens: readonly string[], extra: Record<string, unknown> = {}):
    Promise<{ status: number; body: string; contentType: string }> {
    const res = await fetch(`${rig.svc.baseUrl}/v1/message/${provider}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ deviceTokens, messageType: 'checkEchoV1', ...extra })
    });
    return { status: res.status, body: await res.text(), contentType: res.headers.get('content-type') ?? '' };
}

/** POSTs one message request; asserts it was accepted (2xx). */
export async function push(rig: Rig, provider: Provider, deviceTokens: readonly string[], extra: Record<string, unknown> = {}): Promise<void> {
    const { status, body } = await post(rig, provider, deviceTokens, extra);
    assert.ok(status >= 200 && status < 300, `POST /v1/message/${provider}: ${status} ${body}`);
}

/** Polls `cond` every 20 ms until it holds; fails with `what` after `ms` (a generous bound, not a speed claim). */
export async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
    const deadline = Date.now() + ms;
    for (;;) {
        if (await cond()) {
            return;
        }
        if (Date.now() > deadline) {
            throw new Error(`timed out waiting for: ${what}`);
        }
        await sleep(20);
    }
}

export function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Tokens per outcome: 'retried' reads retries_total, 'gave_up' tokens_finished_total (which
 * has no reason label), anything else provider_answers_total.
 */
export function messages(provider: Provider, outcome: string, reason?: string): Promise<number> {
    if (outcome === 'retried') {
        return metricValue(RETRIES, { provider, ...(reason ? { reason } : {}) });
    }
    if (outcome === 'gave_up') {
        return metricValue(FINISHED, { provider, result: 'gave_up' });
    }
    return metricValue(ANSWERS, { provider, outcome, ...(reason ? { reason } : {}) });
}

/** Tokens the queue still owns (the queue_tokens gauge), summed over providers. */
export function queued(): Promise<number> {
    return metricValue('push_notifications_queue_tokens');
}

/**
 * Waits until `sent` tokens are finished (delivered, dead or gave_up; a config_error is
 * counted as gave_up too) and the queue owns nothing.
 */
export async function settled(provider: Provider, sent: number, ms = 15_000): Promise<void> {
    await until(`${sent} ${provider} tokens settled and the queue empty`, async () => {
        const done = await messages(provider, 'delivered') + await messages(provider, 'dead') +
            await messages(provider, 'gave_up');
        return done >= sent && await queued() === 0;
    }, ms);
}

/**
 * What must hold after every fault: the queue owns nothing, and every token deleted on the
 * wiki is one the fake provider called dead (no deletion for anything else).
 */
export async function checkInvariants(rig: Rig, deadTokens: readonly string[] = []): Promise<void> {
    assert.equal(await queued(), 0, 'queue_tokens is back to 0');
    const dead = new Set(deadTokens);
    for (const t of rig.wiki.deletedTokens) {
        assert.ok(dead.has(t), `deleted a token the provider never called dead: ${t.slice(0, 12)}…`);
    }
    // Memory stays bounded (a loose guard, not a measurement: the soak script measures).
    assert.ok(process.memoryUsage().heapUsed < 1024 * 1024 * 1024, 'heap under 1 GiB');
}
