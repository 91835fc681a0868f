import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { ConfigError } from '../../config/config-error';
import { FcmConfig } from '../../config/sections/providers';
import { createHttpsAgent, EgressPolicy } from '../../egress/agents';
import { Logger } from '../../logging/logger';
import { Batch, ProviderId, PushProvider, TokenResult } from '../../push/provider';
import { yieldToEventLoop } from '../../util/event-loop';
import { errorMessage } from '../../util/errors';
import { ResultBatcher } from '../../util/result-batcher';
import { FailureSummary } from '../failure-summary';
import { RequestDeadlineError, requestTarget, RequestTarget, requestWithDeadline } from './deadline-request';
import { classifyFcmError } from './fcm-errors';
import { FcmBodyTemplate, fcmBodyTemplate } from './fcm-message';
import { fcmTokenSyntax } from './fcm-token-syntax';
import { TokenWindow } from './token-window';
import { DEFAULT_TOKEN_URI, JwtBearerCredential, ServiceAccount, TokenExchangeError } from './jwt-bearer-credential';

export { fcmTokenSyntax } from './fcm-token-syntax';

/** The FCM HTTP v1 host; `fcm_endpoint` reroutes the connections, never the name. */
export const FCM_HOST = 'fcm.googleapis.com';
/** Tokens sent between two turns of the event loop (the request building is synchronous). */
export const FCM_TOKENS_PER_TURN = 50;

export interface FcmProviderOptions {
    readonly id: ProviderId;
    readonly serviceAccount: ServiceAccount;
    /** Firebase project id; else the service account's. */
    readonly projectId?: string;
    /** Token endpoint; else the service account's token_uri, else Google's. */
    readonly oauthTokenUri?: string;
    /** Connect FCM sends to this https URL instead of fcm.googleapis.com (fakes). */
    readonly fcmEndpoint?: string;
    /** Extra CA (PEM) to trust, for fakes. */
    readonly ca?: string | Buffer;
    /** Keep-alive sockets to FCM, and the most FCM requests in flight at once (all batches). */
    readonly maxSockets: number;
    /** Total deadline of one FCM request and of one OAuth exchange, ms. */
    readonly requestTimeoutMs: number;
    readonly egress: EgressPolicy;
    readonly userAgent: string;
    readonly logger: Logger;
    /** Default FCM_TOKENS_PER_TURN. */
    readonly tokensPerTurn?: number;
}

/** Who an FCM instance sends as. None of it is a secret (a key id names a key; it does not hold it). */
export interface FcmIdentity {
    readonly projectId: string;
    /** The service account's e-mail (the OAuth assertion's `iss`). */
    readonly clientEmail: string;
    /** The service account's key id (`private_key_id`), when the file names one. */
    readonly privateKeyId?: string;
    /** The OAuth token endpoint the assertion is exchanged at. */
    readonly tokenUri: string;
}

/** What one `send` call shares between its tokens. */
interface Call {
    readonly batch: Batch;
    readonly template: FcmBodyTemplate;
    /** Tokens retried after a 401 with a fresh access token. */
    refreshed: number;
}

/**
 * FCM HTTP v1 (`POST https://fcm.googleapis.com/v1/projects/{project}/messages:send`, one
 * token per request: FCM v1 has no multicast), over a keep-alive HTTP/1.1 agent from
 * createHttpsAgent (through the egress proxy unless no_proxy_list says otherwise, or straight
 * to `fcm_endpoint`), with a Google OAuth access token from the service account
 * (JwtBearerCredential).
 *
 * Per `send(batch, onResults)`:
 * - each token is checked with fcmTokenSyntax; one that cannot be an FCM token is `dead`
 *   'invalid_token' at once and never sent (issue 11 §1);
 * - the message is rendered once (fcm-message.ts); dryRun adds `validate_only: true`;
 * - an access token is got once for the call (a failed exchange answers every token:
 *   'oauth-rejected' config_error or 'oauth-unavailable' transient, no FCM request made);
 * - then one request per token, at most `maxSockets` in flight over every batch of this
 *   provider (a TokenWindow, one token per slot, so a slow request holds only its own
 *   slot), a turn of the event loop every FCM_TOKENS_PER_TURN tokens;
 * - each answer is classified (fcm-errors.ts) and reported through `onResults` as it
 *   arrives, grouped per event-loop turn (ResultBatcher); a transient answer carries its own
 *   Retry-After;
 * - a 401 about our access token (it expired or was revoked on Google's side) drops that
 *   token, gets a fresh one and retries the device token at once, once (issue 11 §2);
 * - every request has a total deadline (`requestTimeoutMs`: waiting for a socket, connect,
 *   proxy CONNECT, TLS, the answer); past it the request is destroyed, its slot is freed and
 *   its token is transient 'timeout' (issue 11 §3);
 * - configuration errors, deadlines, connection errors and OAuth failures are logged once
 *   per call and kind, with a count, what FCM said and a few token fingerprints (issue 11 §5:
 *   the dispatcher does not log them again).
 * `send` never rejects, and reports every token exactly once.
 */
export class FcmProvider implements PushProvider {
    readonly kind = 'fcm' as const;
    readonly id: ProviderId;
    private readonly url: URL;
    private readonly target: RequestTarget;
    private readonly sendAgent: http.Agent;
    private readonly oauthAgent?: http.Agent;
    private readonly credential: JwtBearerCredential;
    private readonly logger: Logger;
    private readonly window: TokenWindow;
    private readonly tokensPerTurn: number;
    private readonly requestTimeoutMs: number;
    private readonly userAgent: string;
    /** Who this instance sends as (no secret in it): for `npm run check` and `npm run send`. */
    readonly identity: FcmIdentity;
    private closed = false;
    private readonly isClosed = (): boolean => this.closed;

    constructor(options: FcmProviderOptions) {
        this.id = options.id;
        this.logger = options.logger;
        this.requestTimeoutMs = options.requestTimeoutMs;
        this.userAgent = options.userAgent;
        const projectId = options.projectId ?? options.serviceAccount.project_id;
        if (!projectId) {
            throw new Error('FCM needs a project id: set project_id or use a service account that has one');
        }
        this.url = new URL(`https://${FCM_HOST}/v1/projects/${encodeURIComponent(projectId)}/messages:send`);
        this.target = requestTarget(this.url);
        const tokenUri = options.oauthTokenUri ?? options.serviceAccount.token_uri ?? DEFAULT_TOKEN_URI;
        this.sendAgent = createHttpsAgent({
            host: FCM_HOST, policy: options.egress, maxSockets: options.maxSockets,
            ca: options.ca, connectTo: options.fcmEndpoint
        });
        const tokenUrl = new URL(tokenUri);
        if (tokenUrl.protocol === 'https:') {
            this.oauthAgent = createHttpsAgent({ host: tokenUrl.host, policy: options.egress, maxSockets: 2, ca: options.ca });
        }
        this.identity = {
            projectId, tokenUri, clientEmail: options.serviceAccount.client_email,
            ...(options.serviceAccount.private_key_id ? { privateKeyId: options.serviceAccount.private_key_id } : {})
        };
        this.credential = new JwtBearerCredential(options.serviceAccount, tokenUri, this.oauthAgent, options.userAgent,
            { deadlineMs: options.requestTimeoutMs, cancelled: this.isClosed });
        this.tokensPerTurn = Math.max(1, options.tokensPerTurn ?? FCM_TOKENS_PER_TURN);
        this.window = new TokenWindow(options.maxSockets);
        this.logger.log('info/fcm', {
            msg: 'FCM provider ready', provider: this.id, projectId, tokenUri,
            via: options.fcmEndpoint ? `direct ${options.fcmEndpoint}` : options.egress.proxy ? 'proxy policy' : 'direct'
        });
    }

    async send(batch: Batch, onResults: (results: readonly TokenResult[]) => void): Promise<void> {
        const out = new ResultBatcher<TokenResult>(onResults);
        const failures = new FailureSummary(this.logger, 'fcm');
        const reported = new Uint8Array(batch.tokens.length);
        const report = (i: number, r: TokenResult): void => {
            reported[i] = 1;
            out.add(r);
            this.note(failures, r, batch);
        };
        try {
            await this.sendAll(batch, report);
        } catch (e) {
            // Our own bug, if ever: whatever is unreported becomes transient, nothing is lost.
            this.logger.log('error/fcm', { msg: 'FCM send failed unexpectedly; unreported tokens are transient', provider: this.id, error: errorMessage(e) });
            batch.tokens.forEach((token, i) => {
                if (!reported[i]) {
                    report(i, { token, outcome: 'transient', reason: 'call-failed' });
                }
            });
        } finally {
            failures.flush();
            out.flush();
        }
    }

    private async sendAll(batch: Batch, report: (i: number, r: TokenResult) => void): Promise<void> {
        const tokens = batch.tokens;
        /** Indexes of the tokens to send. */
        const valid: number[] = [];
        for (let i = 0; i < tokens.length; i++) {
            const token = tokens[i];
            if (this.closed) {
                report(i, { token, outcome: 'transient', reason: 'closed' });
            } else if (fcmTokenSyntax(token).ok) {
                // FCM tokens are not normalised: the wire form is the token as accepted.
                valid.push(i);
            } else {
                report(i, { token, outcome: 'dead', reason: 'invalid_token' });
            }
        }
        if (valid.length === 0) {
            return;
        }
        let template: FcmBodyTemplate;
        try {
            template = fcmBodyTemplate(batch.message, batch.dryRun);
        } catch (e) {
            const detail = `the message cannot be rendered as JSON: ${errorMessage(e)}`;
            for (const i of valid) {
                report(i, { token: tokens[i], outcome: 'config_error', reason: 'render-failed', detail });
            }
            return;
        }
        try {
            await this.credential.accessToken();
        } catch (e) {
            for (const i of valid) {
                report(i, this.oauthFailure(tokens[i], e));
            }
            return;
        }
        const call: Call = { batch, template, refreshed: 0 };
        await this.sendEach(tokens, valid, call, report);
        if (call.refreshed > 0) {
            this.logger.log('info/fcm', {
                msg: 'FCM refused our access token (expired or revoked); got a fresh one and retried those tokens once',
                provider: this.id, count: call.refreshed
            });
        }
    }

    /**
     * One request per token, each taking a slot of the window (released with its answer or
     * its deadline), a turn of the event loop every `tokensPerTurn` tokens. Resolves when every
     * token has been reported.
     */
    private async sendEach(tokens: readonly string[], valid: readonly number[], call: Call,
        report: (i: number, r: TokenResult) => void): Promise<void> {
        let open = valid.length;
        let allReported!: () => void;
        const finished = new Promise<void>((resolve) => {
            allReported = resolve;
        });
        const settle = (i: number, r: TokenResult): void => {
            report(i, r);
            this.window.release();
            if (--open === 0) {
                allReported();
            }
        };
        for (let k = 0; k < valid.length; k++) {
            if (k % this.tokensPerTurn === 0) {
                // Also before the first: the queue may start several batches in one tick.
                await yieldToEventLoop();
            }
            const wait = this.window.acquire();
            if (wait) {
                await wait;
            }
            const i = valid[k];
            this.attempt(tokens[i], call, false).then((r) => settle(i, r), (e: unknown) => {
                // attempt() does not reject; if it ever does, the token is still reported.
                this.logger.log('error/fcm', { msg: 'FCM request failed unexpectedly; the token is transient', provider: this.id, error: errorMessage(e) });
                settle(i, { token: tokens[i], outcome: 'transient', reason: 'call-failed' });
            });
        }
        await finished;
    }

    /** One request for one token (plus, after a 401, one more with a fresh access token). */
    private async attempt(token: string, call: Call, isRetry: boolean): Promise<TokenResult> {
        if (this.closed) {
            return { token, outcome: 'transient', reason: 'closed' };
        }
        let access = this.credential.current();
        if (access === undefined) {
            try {
                access = await this.credential.accessToken();
            } catch (e) {
                return this.oauthFailure(token, e);
            }
        }
        const json = JSON.stringify(token);
        const { prefix, suffix, fixedBytes } = call.template;
        let status: number;
        let body: string;
        let headers: http.IncomingHttpHeaders;
        try {
            ({ status, body, headers } = await requestWithDeadline({
                target: this.target,
                method: 'POST',
                agent: this.sendAgent,
                deadlineMs: this.requestTimeoutMs,
                cancelled: this.isClosed,
                headers: {
                    authorization: `Bearer ${access}`,
                    'content-type': 'application/json; charset=UTF-8',
                    'content-length': fixedBytes + json.length,
                    'user-agent': this.userAgent
                },
                body: prefix + json + suffix
            }));
        } catch (e) {
            if (e instanceof RequestDeadlineError) {
                return { token, outcome: 'transient', reason: 'timeout' };
            }
            if (this.closed) {
                return { token, outcome: 'transient', reason: 'closed' };
            }
            const code = (e as NodeJS.ErrnoException).code;
            return { token, outcome: 'transient', reason: 'connection-error', detail: code ?? errorMessage(e) };
        }
        if (status >= 200 && status < 300) {
            return { token, outcome: 'delivered', reason: call.batch.dryRun ? 'validated' : 'ok' };
        }
        const c = classifyFcmError(status, body, headers['retry-after'], token);
        if (c.refreshCredential && !isRetry && !this.closed) {
            this.credential.invalidate(access);
            call.refreshed++;
            return this.attempt(token, call, true);
        }
        return {
            token, outcome: c.outcome, reason: c.reason,
            ...(c.retryAfterMs !== undefined ? { retryAfterMs: c.retryAfterMs } : {}),
            ...(c.outcome === 'config_error' && c.detail ? { detail: `FCM ${status}: ${c.detail}` } : {})
        };
    }

    private oauthFailure(token: string, e: unknown): TokenResult {
        const rejected = e instanceof TokenExchangeError && e.failure === 'rejected';
        return rejected
            ? { token, outcome: 'config_error', reason: 'oauth-rejected', detail: errorMessage(e) }
            : { token, outcome: 'transient', reason: 'oauth-unavailable', detail: errorMessage(e) };
    }

    /** Adds a result to the call's log summary (one line per kind, flushed at the end). */
    private note(failures: FailureSummary, r: TokenResult, batch: Batch): void {
        if (r.outcome === 'delivered') {
            return;
        }
        const fields = { provider: this.id, messageType: batch.message.type, ...(r.detail ? { detail: r.detail } : {}) };
        switch (r.outcome) {
            case 'config_error':
                failures.add('error', 'FCM refused messages for a configuration or payload reason (credentials, project, payload); not deleting, not retrying',
                    r.reason, r.token, r.reason === 'oauth-rejected' ? { ...fields, tokenUri: this.credential.tokenUri } : fields);
                return;
            case 'dead':
                if (r.reason === 'invalid_token') {
                    failures.add('warn', 'tokens that cannot be FCM registration tokens (printable ASCII, no whitespace, at most 4096); dead, never sent',
                        r.reason, r.token, { provider: this.id });
                }
                return;
            case 'transient':
                if (r.reason === 'timeout') {
                    failures.add('warn', 'FCM requests got no complete answer within their deadline; transient', r.reason, r.token,
                        { ...fields, timeoutMs: this.requestTimeoutMs });
                } else if (r.reason === 'connection-error' || r.reason === 'oauth-unavailable') {
                    failures.add('warn', 'FCM could not be reached; transient', r.reason, r.token,
                        r.reason === 'oauth-unavailable' ? { ...fields, tokenUri: this.credential.tokenUri } : fields);
                }
                return;
            default:
                return;
        }
    }

    close(): Promise<void> {
        if (this.closed) {
            return Promise.resolve();
        }
        this.closed = true;
        // Requests in flight end at once (transient 'closed'), and none is sent again: those
        // on a socket with it, those still waiting for one (`agent.requests`) here.
        for (const agent of [this.sendAgent, this.oauthAgent]) {
            if (agent) {
                for (const queued of Object.values(agent.requests)) {
                    for (const req of [...(queued ?? [])]) {
                        req.destroy();
                    }
                }
                agent.destroy();
            }
        }
        return Promise.resolve();
    }
}

/** The repository root (src/providers/fcm or dist/providers/fcm, three levels up), as config/service-config's. */
const PROJECT_ROOT = path.resolve(__dirname, '..', '..', '..');

export interface FcmProviderDeps {
    readonly logger: Logger;
    readonly egress: EgressPolicy;
    /** The User-Agent of every FCM and OAuth request (config `user_agent`). */
    readonly userAgent: string;
    /** Environment for GOOGLE_APPLICATION_CREDENTIALS (default process.env). */
    readonly env?: NodeJS.ProcessEnv;
    /** Relative file paths are resolved against this; default the project root (as the config loader). */
    readonly baseDir?: string;
    /**
     * The config path of this instance, for ConfigError keys ('fcm' for the legacy block,
     * 'providers.<id>' for a named one); default `id`.
     */
    readonly configKey?: string;
}

/**
 * Builds an FCM provider instance from its config block. Reads the service-account JSON
 * (`service_account`, else GOOGLE_APPLICATION_CREDENTIALS) and the `ca` file now, so that a
 * bad file fails at start, not at the first message.
 *
 * `mock` is not looked at: the caller decides whether an instance is mocked or configured
 * at all (no service account anywhere is a ConfigError here).
 * @throws ConfigError naming the key (`<configKey>.service_account`,
 *   GOOGLE_APPLICATION_CREDENTIALS, `<configKey>.project_id`, `<configKey>.ca`): missing or
 *   unreadable file, not JSON, not a service account (client_email, a PEM private_key), a
 *   token_uri that is not a URL, or no project id anywhere
 */
export function createFcmProvider(id: ProviderId, config: FcmConfig, deps: FcmProviderDeps): FcmProvider {
    const prefix = deps.configKey ?? id;
    const env = deps.env ?? process.env;
    const saPath = config.service_account ?? env.GOOGLE_APPLICATION_CREDENTIALS;
    if (!saPath) {
        throw new ConfigError(`${prefix}.service_account`, 'is needed (a service-account JSON file), or set GOOGLE_APPLICATION_CREDENTIALS');
    }
    const key = config.service_account ? `${prefix}.service_account` : 'GOOGLE_APPLICATION_CREDENTIALS';
    const baseDir = deps.baseDir ?? PROJECT_ROOT;
    const serviceAccount = readServiceAccount(key, path.resolve(baseDir, saPath));
    if (!config.project_id && !serviceAccount.project_id) {
        throw new ConfigError(`${prefix}.project_id`, 'is needed: the service account names no project');
    }
    return new FcmProvider({
        id,
        serviceAccount,
        projectId: config.project_id,
        oauthTokenUri: config.oauth_token_uri,
        fcmEndpoint: config.fcm_endpoint,
        ca: config.ca ? readConfigFile(`${prefix}.ca`, path.resolve(baseDir, config.ca)) : undefined,
        maxSockets: config.max_sockets,
        requestTimeoutMs: config.requestTimeoutMs,
        egress: deps.egress,
        userAgent: deps.userAgent,
        logger: deps.logger
    });
}

function readServiceAccount(key: string, file: string): ServiceAccount {
    let parsed: unknown;
    try {
        parsed = JSON.parse(readConfigFile(key, file).toString('utf8'));
    } catch (e) {
        throw e instanceof ConfigError ? e : new ConfigError(key, `${file} is not valid JSON`);
    }
    const sa = parsed as Partial<Record<keyof ServiceAccount, unknown>> | null;
    if (typeof sa !== 'object' || sa === null || typeof sa.client_email !== 'string' || typeof sa.private_key !== 'string') {
        throw new ConfigError(key, `${file} is not a service-account file (needs client_email and private_key)`);
    }
    try {
        createPrivateKey(sa.private_key);
    } catch {
        throw new ConfigError(key, `${file}: private_key is not a PEM private key`);
    }
    if (sa.token_uri !== undefined && (typeof sa.token_uri !== 'string' || !/^https?:\/\//.test(sa.token_uri) || !URL.canParse(sa.token_uri))) {
        throw new ConfigError(key, `${file}: token_uri is not an http(s) URL`);
    }
    for (const k of ['project_id', 'private_key_id'] as const) {
        if (sa[k] !== undefined && typeof sa[k] !== 'string') {
            throw new ConfigError(key, `${file}: ${k} is not a string`);
        }
    }
    return sa as unknown as ServiceAccount;
}

function readConfigFile(key: string, file: string): Buffer {
    try {
        return readFileSync(file);
    } catch (e) {
        throw new ConfigError(key, `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
}
