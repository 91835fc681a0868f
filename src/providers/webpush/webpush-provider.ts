import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import { ConfigError } from '../../config/config-error';
import { validateWebPushConfig, VapidKeys, WebPushConfig, WebPushUrgency } from '../../config/sections/webpush';
import { createHttpsAgent, EgressPolicy } from '../../egress/agents';
import { Logger } from '../../logging/logger';
import { PushMessage } from '../../push/message';
import { Batch, PushProvider, TokenResult } from '../../push/provider';
import { errorMessage } from '../../util/errors';
import { ConcurrencyLimiter } from '../../util/limiters';
import { ResultBatcher } from '../../util/result-batcher';
import { FailureSummary } from '../failure-summary';
import { parseRetryAfter } from '../../util/retry-after';
import { encryptAes128gcm, WEBPUSH_MAX_PLAINTEXT_BYTES } from './encryption';
import { DnsLookup, EndpointPolicy, publicOnlyLookup } from './endpoint-policy';
import { INVALID_SUBSCRIPTION, parseSubscription, WebPushSubscription } from './subscription';
import { VapidCredential, VapidJwtCache } from './vapid';
import {
    answerDetail, VAPID_REFUSED_STATUSES, WEBPUSH_LOCAL_OUTCOMES, WebPushLocalCondition, webPushStatusRule
} from './webpush-errors';

export interface WebPushProviderDeps {
    readonly logger: Logger;
    /** The service's egress policy (`proxy`, `no_proxy_list`): every push goes through it. */
    readonly egress: EgressPolicy;
    /** Sent as User-Agent to push services. */
    readonly userAgent: string;
    /** Prefix of config keys in errors; default 'webpush' for id 'webpush', else 'providers.<id>'. */
    readonly configKey?: string;
    /** Base directory of relative `vapid.privateKeyFile` and `ca` paths; default the working directory. */
    readonly baseDir?: string;
    /** Default process.env. */
    readonly env?: NodeJS.ProcessEnv;
    /** Name resolution under the public-address check (tests inject one); default dns.lookup. */
    readonly dnsLookup?: DnsLookup;
    /** Clock for JWT expiry and Retry-After dates; default Date.now. */
    readonly now?: () => number;
}

/** Push-service origins whose agents are kept; idle ones beyond this are closed, least recently used first. */
export const WEBPUSH_MAX_ORIGINS = 256;
/** Bytes of a push service's answer body kept for the error detail (the rest is drained). */
const MAX_ANSWER_BODY_BYTES = 4096;

/** What one message becomes on the wire, the same for every subscription (computed once per message). */
export interface RenderedWebPush {
    /** The plaintext to encrypt: JSON of `webpush.payload` ?? `data` ?? `{}`. */
    readonly plaintext: Buffer;
    /** TTL, Urgency, Topic (when there is a collapse key), Content-Encoding, Content-Type. */
    readonly headers: Readonly<Record<string, string>>;
}

/** RFC 8030 §5.4: a Topic is at most 32 characters of the URL- and filename-safe base64 alphabet. */
const TOPIC_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

/**
 * The RFC 8030 §5.4 `Topic` for a collapse key: the key itself when it is a valid topic (Echo's
 * 'checkEchoV1'), else the first 32 characters of its SHA-256 in base64url, so the same key
 * still replaces the same pending message and a push service never refuses it (autopush errno
 * 113) for a character it does not allow.
 */
export function webPushTopic(collapseKey: string): string {
    return TOPIC_PATTERN.test(collapseKey) ? collapseKey : createHash('sha256').update(collapseKey).digest('base64url').slice(0, 32);
}

/**
 * Renders a PushMessage for Web Push (the rules in common.md): plaintext = JSON of
 * `webpush.payload` ?? `data` ?? `{}`; `TTL` = ttlSeconds ?? the instance's ttl; `Urgency` =
 * 'high' | 'normal' from priority, else the instance's urgency; `Topic` = collapseKey.
 * Echo's checkEchoV1 gives the plaintext `{"type":"checkEchoV1"}` and Topic `checkEchoV1`.
 */
export function renderWebPushMessage(message: PushMessage, defaults: { ttl: number; urgency: WebPushUrgency; userAgent: string }): RenderedWebPush {
    const payload: unknown = message.webpush?.payload ?? message.data ?? {};
    const plaintext = Buffer.from(JSON.stringify(payload) ?? '{}', 'utf8');
    const ttl = message.ttlSeconds !== undefined && Number.isFinite(message.ttlSeconds)
        ? Math.max(0, Math.floor(message.ttlSeconds)) : defaults.ttl;
    const urgency = message.priority ?? defaults.urgency;
    const headers: Record<string, string> = {
        'TTL': String(ttl),
        'Urgency': urgency,
        ...(message.collapseKey ? { 'Topic': webPushTopic(message.collapseKey) } : {}),
        'Content-Encoding': 'aes128gcm',
        'Content-Type': 'application/octet-stream',
        'User-Agent': defaults.userAgent
    };
    return { plaintext, headers };
}

/**
 * Builds a Web Push provider instance from its validated settings (the `webpush:` block or a
 * `providers.<id>` entry of kind webpush). Validates the VAPID key pair and reads the files
 * now, so a wrong key stops the start, not every later message.
 *
 * @throws ConfigError naming the key (e.g. `webpush.vapid.privateKey: does not match webpush.vapid.publicKey`)
 */
export function createWebPushProvider(id: string, config: WebPushConfig, deps: WebPushProviderDeps): WebPushProvider {
    const key = deps.configKey ?? (id === 'webpush' ? 'webpush' : `providers.${id}`);
    const keys = validateWebPushConfig(config, { key, baseDir: deps.baseDir, env: deps.env });
    let ca: Buffer | undefined;
    if (config.ca) {
        const file = path.resolve(deps.baseDir ?? process.cwd(), config.ca);
        try {
            ca = readFileSync(file);
        } catch (e) {
            throw new ConfigError(`${key}.ca`, `cannot read ${config.ca}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
        }
    }
    return new WebPushProvider(id, config, keys, deps, ca);
}

interface OriginState {
    readonly agent: http.Agent;
    readonly limiter: ConcurrencyLimiter;
    active: number;
}

/** One push request's fate, before classification. */
type Answer =
    | { readonly kind: 'answer'; readonly status: number; readonly headers: http.IncomingHttpHeaders; readonly body: string }
    | { readonly kind: 'timeout' }
    | { readonly kind: 'error'; readonly error: unknown };

/**
 * Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm encryption (RFC 8291), over
 * HTTP/1.1 keep-alive agents, one per push-service origin (through the egress proxy unless
 * `no_proxy_list` says otherwise), each with at most `maxSocketsPerOrigin` requests in flight.
 *
 * Per token (reported once each, as soon as known, grouped per event-loop turn):
 * 1. the token must be a subscription (subscription.ts), else dead `invalid_subscription`;
 * 2. its endpoint must pass the SSRF policy (endpoint-policy.ts), else config_error
 *    `endpoint_not_allowed`, never contacted;
 * 3. the plaintext is encrypted for it (fresh key and salt) and POSTed with the origin's cached
 *    VAPID JWT, within `requestTimeoutMs` in total (DNS, connect or CONNECT, TLS, answer);
 * 4. the answer is classified by WEBPUSH_STATUS_TABLE; a 401/403 to a cached JWT re-signs it
 *    and retries the token at once, once.
 * A config_error result carries the push service's answer (truncated, endpoint masked) in
 * `detail`, and the call's config errors are logged once per reason at error level (count,
 * first detail, a few fingerprints: FailureSummary); the delivery layer only counts them.
 */
export class WebPushProvider implements PushProvider {
    readonly kind = 'webpush' as const;
    private readonly policy: EndpointPolicy;
    private readonly vapid: VapidJwtCache;
    private readonly origins = new Map<string, OriginState>();
    private readonly rendered = new WeakMap<PushMessage, RenderedWebPush>();
    private readonly logger: Logger;
    private readonly now: () => number;
    private closed = false;

    constructor(readonly id: string, private readonly config: WebPushConfig, private readonly keys: VapidKeys,
        private readonly deps: WebPushProviderDeps, private readonly ca?: Buffer) {
        this.logger = deps.logger;
        this.now = deps.now ?? Date.now;
        this.policy = new EndpointPolicy(config);
        this.vapid = new VapidJwtCache(keys, this.now);
        if (config.mock) {
            this.logger.log('warn/webpush', { msg: `${id} is in mock mode: nothing is sent`, provider: id });
        }
        if (config.testOnlyLoopbackEndpoints.length > 0) {
            this.logger.log('warn/webpush', {
                msg: 'testOnlyLoopbackEndpoints is set: these loopback endpoints bypass the port and address checks (tests and dev mode only)',
                provider: id, endpoints: config.testOnlyLoopbackEndpoints
            });
        }
    }

    /** The VAPID public key, base64url (unpadded): `GET /v1/webpush/vapid-public-key`, the browsers' `applicationServerKey`. */
    get vapidPublicKey(): string {
        return this.keys.publicKey;
    }

    async send(batch: Batch, onResults: (results: readonly TokenResult[]) => void): Promise<void> {
        const out = new ResultBatcher<TokenResult>(onResults);
        const summary = new FailureSummary(this.logger, 'webpush');
        let rendered: RenderedWebPush | undefined;
        let renderError: string | undefined;
        try {
            rendered = this.render(batch.message);
        } catch (e) {
            renderError = errorMessage(e);
        }
        await Promise.all([...new Set(batch.tokens)].map(async (token) => {
            const r: TokenResult = rendered
                ? await this.sendOne(token, rendered, batch.dryRun)
                : { token, outcome: 'config_error', reason: 'internal_error', detail: `cannot render the message: ${renderError}` };
            if (r.outcome === 'config_error') {
                summary.add('error', 'push service refused notifications for a configuration reason; not deleting, not retrying',
                    r.reason, token, { provider: this.id, messageType: batch.message.type, detail: r.detail });
            }
            out.add(r);
        }));
        summary.flush();
        out.flush();
    }

    /** Closes every push-service connection at once; requests in flight end as transient. */
    close(): Promise<void> {
        this.closed = true;
        for (const state of this.origins.values()) {
            state.agent.destroy();
        }
        this.origins.clear();
        return Promise.resolve();
    }

    private render(message: PushMessage): RenderedWebPush {
        let r = this.rendered.get(message);
        if (!r) {
            r = renderWebPushMessage(message, { ttl: this.config.ttl, urgency: this.config.urgency, userAgent: this.deps.userAgent });
            this.rendered.set(message, r);
        }
        return r;
    }

    private async sendOne(token: string, rendered: RenderedWebPush, dryRun: boolean): Promise<TokenResult> {
        try {
            const parsed = parseSubscription(token);
            if (!parsed.ok) {
                return local(token, INVALID_SUBSCRIPTION);
            }
            const sub = parsed.subscription;
            const decision = this.policy.check(sub.endpoint);
            if (!decision.ok) {
                return local(token, 'endpoint_not_allowed', decision.detail);
            }
            if (rendered.plaintext.length > WEBPUSH_MAX_PLAINTEXT_BYTES) {
                return local(token, 'payload_too_large', `plaintext is ${rendered.plaintext.length} bytes; at most ${WEBPUSH_MAX_PLAINTEXT_BYTES} fit (RFC 8291 §4)`);
            }
            if (this.config.mock || dryRun) {
                return { token, outcome: 'delivered', reason: this.config.mock ? 'mock' : 'dry_run' };
            }
            if (this.closed) {
                return local(token, 'closed');
            }
            const state = this.originState(decision.origin, decision.loopbackExempt);
            state.active++;
            try {
                return await state.limiter.run(() => this.deliver(token, sub, decision.origin, state, rendered));
            } finally {
                state.active--;
            }
        } catch (e) {
            // A bug of ours: never delete, never loop.
            return { token, outcome: 'config_error', reason: 'internal_error', detail: errorMessage(e) };
        }
    }

    private async deliver(token: string, sub: WebPushSubscription, origin: string, state: OriginState,
        rendered: RenderedWebPush): Promise<TokenResult> {
        let credential: VapidCredential = this.vapid.get(origin);
        for (let attempt = 1; ; attempt++) {
            if (this.closed) {
                return local(token, 'closed');
            }
            const body = encryptAes128gcm(rendered.plaintext, sub.p256dh, sub.auth);
            const answer = await this.post(state.agent, sub.endpoint, {
                ...rendered.headers,
                'Authorization': credential.authorization,
                'Content-Length': String(body.length)
            }, body);
            if (attempt === 1 && answer.kind === 'answer' && VAPID_REFUSED_STATUSES.has(answer.status)) {
                const next = this.vapid.refreshAfterRefusal(origin, credential);
                if (next) {
                    if (next.resigned) {
                        this.logger.log('info/webpush', {
                            msg: 'push service refused the VAPID JWT; re-signed it and retrying at once',
                            provider: this.id, origin, status: answer.status
                        });
                    }
                    credential = next.credential;
                    continue;
                }
            }
            return this.classify(token, sub, answer);
        }
    }

    private classify(token: string, sub: WebPushSubscription, answer: Answer): TokenResult {
        if (answer.kind === 'timeout') {
            return local(token, 'timeout', `no answer within ${this.config.requestTimeoutMs} ms`);
        }
        if (answer.kind === 'error') {
            const code = (answer.error as { code?: unknown } | undefined)?.code;
            if (code === 'ENDPOINT_NOT_ALLOWED') {
                return local(token, 'endpoint_not_allowed', errorMessage(answer.error));
            }
            if (code === 'ETIMEDOUT') {
                // A connect step's own deadline (proxy CONNECT, TLS handshake: egress/agents.ts).
                return local(token, 'timeout', errorMessage(answer.error));
            }
            return local(token, 'network_error', typeof code === 'string' ? code : errorMessage(answer.error));
        }
        const rule = webPushStatusRule(answer.status);
        const result: TokenResult = { token, outcome: rule.outcome, reason: rule.reason };
        if (rule.retryAfter) {
            const retryAfterMs = parseRetryAfter(answer.headers['retry-after'], this.now());
            return retryAfterMs === undefined ? result : { ...result, retryAfterMs };
        }
        if (rule.outcome === 'config_error') {
            return { ...result, detail: answerDetail(answer.status, answer.body, sub.endpoint.pathname) };
        }
        return result;
    }

    /**
     * One POST with a total deadline: the timer runs from the request's creation (DNS, connect
     * or CONNECT, TLS, headers) to the answer's last byte. Redirects are not followed.
     */
    private post(agent: http.Agent, endpoint: URL, headers: Record<string, string>, body: Buffer): Promise<Answer> {
        return new Promise<Answer>((resolve) => {
            let settled = false;
            let status: number | undefined;
            let resHeaders: http.IncomingHttpHeaders = {};
            const chunks: Buffer[] = [];
            let kept = 0;
            const finish = (a: Answer): void => {
                if (!settled) {
                    settled = true;
                    clearTimeout(timer);
                    resolve(a);
                }
            };
            const soFar = (): Answer | undefined => status === undefined ? undefined
                : { kind: 'answer', status, headers: resHeaders, body: Buffer.concat(chunks).toString('utf8') };
            const req = https.request({
                agent,
                method: 'POST',
                hostname: bareHost(endpoint.hostname),
                port: endpoint.port || 443,
                path: `${endpoint.pathname}${endpoint.search}`,
                headers
            });
            const timer = setTimeout(() => {
                // Headers already in: the status decides; else it is a timeout.
                finish(soFar() ?? { kind: 'timeout' });
                req.destroy(new Error('webpush request deadline'));
            }, this.config.requestTimeoutMs);
            req.on('response', (res) => {
                status = res.statusCode ?? 0;
                resHeaders = res.headers;
                res.on('data', (c: Buffer) => {
                    if (kept < MAX_ANSWER_BODY_BYTES) {
                        chunks.push(c);
                        kept += c.length;
                    }
                });
                res.on('end', () => finish(soFar() as Answer));
                res.on('error', (e) => finish(soFar() ?? { kind: 'error', error: e }));
                res.on('close', () => finish(soFar() as Answer));
            });
            req.on('error', (e) => finish(soFar() ?? { kind: 'error', error: e }));
            req.end(body);
        });
    }

    private originState(origin: string, loopbackExempt: boolean): OriginState {
        const existing = this.origins.get(origin);
        if (existing) {
            this.origins.delete(origin);
            this.origins.set(origin, existing);
            return existing;
        }
        const url = new URL(origin);
        const max = this.config.maxSocketsPerOrigin;
        const state: OriginState = {
            agent: createHttpsAgent({
                host: bareHost(url.hostname),
                policy: this.deps.egress,
                maxSockets: max,
                ca: this.ca,
                lookup: publicOnlyLookup(this.deps.dnsLookup, loopbackExempt),
                proxyConnectTimeoutMs: this.config.requestTimeoutMs,
                tlsHandshakeTimeoutMs: this.config.requestTimeoutMs
            }),
            limiter: new ConcurrencyLimiter(max),
            active: 0
        };
        this.origins.set(origin, state);
        if (this.origins.size > WEBPUSH_MAX_ORIGINS) {
            for (const [o, s] of this.origins) {
                if (s.active === 0 && o !== origin) {
                    s.agent.destroy();
                    this.origins.delete(o);
                    break;
                }
            }
        }
        return state;
    }
}

function local(token: string, condition: WebPushLocalCondition, detail?: string): TokenResult {
    const outcome = WEBPUSH_LOCAL_OUTCOMES[condition];
    const unanswered = condition === 'timeout' || condition === 'network_error';
    return detail !== undefined && outcome === 'config_error'
        ? { token, outcome, reason: condition, detail }
        : { token, outcome, reason: condition, ...(unanswered ? { unanswered } : {}) };
}

function bareHost(host: string): string {
    return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
