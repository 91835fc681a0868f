import * as http from 'node:http';
import { randomUUID } from 'node:crypto';
import { App, deleteApp, initializeApp } from 'firebase-admin/app';
import { getMessaging, Messaging, MulticastMessage, SendResponse } from 'firebase-admin/messaging';
import { ChunkPacer } from '../../util/chunk-pacer';
import { parseRetryAfter } from '../../util/retry-after';
import { createHttpsAgent, EgressPolicy, observeResponses } from '../../egress/agents';
import { Logger } from '../../logging/logger';
import { FailureSummary } from '../failure-summary';
import { Batch } from '../../push/push-request';
import { PushProvider, TokenResult } from '../push-provider';
import { classifyFcmError, normaliseReason } from './fcm-errors';
import { DEFAULT_TOKEN_URI, JwtBearerCredential, ServiceAccount } from './jwt-bearer-credential';

export const FCM_HOST = 'fcm.googleapis.com';
/** sendEachForMulticast takes at most this many tokens. */
export const FCM_MULTICAST_LIMIT = 500;

export interface FcmProviderOptions {
    readonly serviceAccount: ServiceAccount;
    /** Firebase project id; else the service account's. */
    readonly projectId?: string;
    /** Token endpoint; else the service account's token_uri, else Google's. */
    readonly oauthTokenUri?: string;
    /** Connect FCM sends to this https URL instead of fcm.googleapis.com (fakes). */
    readonly fcmEndpoint?: string;
    /** Extra CA (PEM) to trust, for fakes. */
    readonly ca?: string | Buffer;
    readonly maxSockets: number;
    readonly egress: EgressPolicy;
    readonly userAgent: string;
    readonly logger: Logger;
    /** Tokens handed to sendEachForMulticast at once (see ChunkPacer); default FCM_SEND_CHUNK_TOKENS. */
    readonly sendChunkTokens?: number;
    /** Requests in flight at once over all batches; default: maxSockets, at least one chunk. */
    readonly maxInFlightTokens?: number;
    /** Tests count the event-loop turns between sub-chunks; setImmediate otherwise. */
    readonly yieldToLoop?: () => Promise<void>;
}

/**
 * firebase-admin builds one HTTP/1.1 request per token, synchronously, for the whole call; 500
 * tokens per call (times delivery.concurrency) was a busy stretch of tens of ms each, and
 * requests beyond max_sockets only waited in the agent's queue anyway. So the calls are cut
 * to 50 tokens, with a turn of the event loop between, and at most max_sockets requests are
 * in flight.
 */
export const FCM_SEND_CHUNK_TOKENS = 50;

/**
 * firebase-admin's own retry policy for its HTTP/1.1 client, replacing its default (503,
 * ECONNRESET and ETIMEDOUT retried 4 times over ~7 s, sleeping inside the batch call, and
 * honouring a Retry-After of up to 60 s in place). Our delivery queue already retries with
 * backoff and Retry-After without holding anything, so the library keeps only one immediate
 * retry of ECONNRESET: with keep-alive sockets, a write racing the server's idle close is
 * normal and not worth a trip through the queue. A 503 comes back to us at once.
 */
export const FCM_INTERNAL_RETRY = Object.freeze({
    maxRetries: 1,
    statusCodes: [] as number[],
    ioErrorCodes: ['ECONNRESET'],
    backOffFactor: 0,
    maxDelayInMillis: 0
});

/**
 * Delivers batches through firebase-admin's `sendEachForMulticast`, one long-lived named App
 * per provider instance (created here, deleted in close()). It uses the legacy HTTP/1.1
 * transport: the HTTP/2 one ignores `httpAgent`, so it can go neither through the egress
 * proxy nor to a fake, and opens a new session per call.
 */
export class FcmProvider implements PushProvider {
    readonly name = 'fcm' as const;
    private readonly app: App;
    private readonly messaging: Messaging;
    private readonly sendAgent: http.Agent;
    private readonly oauthAgent: http.Agent;
    private readonly credential: JwtBearerCredential;
    private readonly logger: Logger;
    /** Epoch ms until which FCM asked us (Retry-After on a 429/503) to hold back. */
    private retryAfterUntil = 0;
    private readonly pacer: ChunkPacer;
    private closed = false;

    constructor(options: FcmProviderOptions) {
        this.logger = options.logger;
        this.pacer = new ChunkPacer({
            chunkTokens: options.sendChunkTokens ?? FCM_SEND_CHUNK_TOKENS,
            maxInFlightTokens: options.maxInFlightTokens ?? options.maxSockets,
            yieldToLoop: options.yieldToLoop
        });
        const projectId = options.projectId ?? options.serviceAccount.project_id;
        if (!projectId) {
            throw new Error('FCM needs a project id: set fcm.project_id or use a service account that has one');
        }
        const tokenUri = options.oauthTokenUri ?? options.serviceAccount.token_uri ?? DEFAULT_TOKEN_URI;
        this.sendAgent = createHttpsAgent({
            host: FCM_HOST, policy: options.egress, maxSockets: options.maxSockets,
            ca: options.ca, connectTo: options.fcmEndpoint
        });
        observeResponses(this.sendAgent, (res) => this.noteRetryAfter(res));
        this.oauthAgent = createHttpsAgent({
            host: new URL(tokenUri).host, policy: options.egress, maxSockets: 2, ca: options.ca
        });
        this.credential = new JwtBearerCredential(options.serviceAccount, tokenUri, this.oauthAgent, options.userAgent);
        // A unique name: several instances (tests, workers sharing a process) never collide
        // in firebase-admin's app registry.
        this.app = initializeApp({ credential: this.credential, projectId, httpAgent: this.sendAgent },
            `push-notifications-fcm-${randomUUID()}`);
        this.messaging = getMessaging(this.app);
        this.messaging.enableLegacyHttpTransport();
        this.tuneInternalRetries();
        this.logger.log('info/fcm', {
            msg: 'FCM provider ready', projectId, tokenUri,
            via: options.fcmEndpoint ? `direct ${options.fcmEndpoint}` : options.egress.proxy ? 'proxy policy' : 'direct'
        });
    }

    async send(batch: Batch): Promise<TokenResult[]> {
        const tokens = batch.tokens;
        if (tokens.length === 0) {
            return [];
        }
        // Sub-chunks are far below FCM_MULTICAST_LIMIT, so a batch of any size works.
        return this.pacer.map(tokens, (chunk) => this.sendChunk(chunk, batch), (chunk, e) => {
            // sendChunk catches what firebase-admin throws; this is our own bug, if ever.
            this.logger.log('error/fcm', { msg: 'FCM sub-chunk failed unexpectedly; every token is transient', error: String(e) });
            return chunk.map((token): TokenResult => ({ token, outcome: 'transient', reason: 'call-failed' }));
        });
    }

    private async sendChunk(tokens: string[], batch: Batch): Promise<TokenResult[]> {
        const message: MulticastMessage = {
            tokens,
            data: { type: batch.messageType },
            // The Wikipedia Android app relies on the collapse key: only the newest
            // notification of a type is kept while the device is offline.
            android: { collapseKey: batch.messageType }
        };
        let responses: SendResponse[];
        try {
            // Second argument: validate-only (FCM checks, nothing reaches the device).
            responses = (await this.messaging.sendEachForMulticast(message, batch.dryRun)).responses;
        } catch (e) {
            const err = e as { code?: unknown; message?: unknown };
            const reason = normaliseReason(typeof err.code === 'string' ? err.code : 'call-failed');
            if (reason === 'messaging/invalid-argument') {
                // Rejected before anything was sent: our message is malformed. Retrying cannot help.
                this.logger.log('error/fcm', { msg: 'firebase-admin refused our message', error: String(err.message), tokens: tokens.length });
                return tokens.map((token) => ({ token, outcome: 'config_error', reason }));
            }
            this.logger.log('warn/fcm', {
                msg: 'FCM call failed as a whole; every token is transient', reason,
                error: String(err.message), tokens: tokens.length
            });
            return tokens.map((token) => ({ token, outcome: 'transient', reason, ...this.retryAfter() }));
        }
        const failures = new FailureSummary(this.logger, 'fcm');
        const results = tokens.map((token, i) => this.result(token, responses[i], batch, failures));
        failures.flush();
        return results;
    }

    private result(token: string, response: SendResponse | undefined, batch: Batch, failures: FailureSummary): TokenResult {
        if (response?.success) {
            return { token, outcome: 'delivered', reason: batch.dryRun ? 'validated' : 'ok' };
        }
        if (!response?.error) {
            return { token, outcome: 'transient', reason: 'missing-response' };
        }
        let { outcome, reason } = classifyFcmError(response.error);
        if (reason === 'app/invalid-credential' || /OAuth token exchange/.test(response.error.message)) {
            // The OAuth exchange failed before FCM was asked: a refused key is configuration,
            // an unreachable token endpoint is an outage.
            outcome = this.credential.lastFailure === 'rejected' ? 'config_error' : 'transient';
            reason = this.credential.lastFailure === 'rejected' ? 'oauth-rejected' : 'oauth-unavailable';
        }
        if (outcome === 'config_error') {
            failures.add('error', 'FCM refused messages for a configuration or payload reason; not deleting', reason, token,
                { error: response.error.message, messageType: batch.messageType });
        }
        return outcome === 'transient' ? { token, outcome, reason, ...this.retryAfter() } : { token, outcome, reason };
    }

    private noteRetryAfter(res: http.IncomingMessage): void {
        if (res.statusCode !== 429 && res.statusCode !== 503) {
            return;
        }
        const ms = parseRetryAfter(res.headers['retry-after']);
        if (ms !== undefined) {
            // Retry-After from FCM is about the project's quota or the service, not one token,
            // so it applies to every transient result until it passes.
            this.retryAfterUntil = Math.max(this.retryAfterUntil, Date.now() + ms);
        }
    }

    private retryAfter(): { retryAfterMs?: number } {
        const left = this.retryAfterUntil - Date.now();
        return left > 0 ? { retryAfterMs: left } : {};
    }

    /**
     * Replaces the retry policy of firebase-admin's HTTP/1.1 client (see FCM_INTERNAL_RETRY).
     * There is no public setting for it, so this reaches one private field, checked first:
     * if a firebase-admin upgrade moves it, we keep the library default and say so.
     */
    private tuneInternalRetries(): void {
        const handler = (this.messaging as unknown as { messagingRequestHandler?: { httpClient?: { retry?: unknown } } })
            .messagingRequestHandler;
        const client = handler?.httpClient;
        if (client && typeof client.retry === 'object' && client.retry !== null && 'maxRetries' in client.retry) {
            client.retry = { ...FCM_INTERNAL_RETRY, statusCodes: [], ioErrorCodes: [...FCM_INTERNAL_RETRY.ioErrorCodes] };
        } else {
            this.logger.log('warn/fcm', {
                msg: 'cannot tune firebase-admin internal retries; a 503 may cost ~7 s inside one call'
            });
        }
    }

    /** Internal, for tests: the retry policy firebase-admin is using now. */
    internalRetryConfig(): unknown {
        return (this.messaging as unknown as { messagingRequestHandler: { httpClient: { retry: unknown } } })
            .messagingRequestHandler.httpClient.retry;
    }

    async close(): Promise<void> {
        if (this.closed) {
            return;
        }
        this.closed = true;
        await deleteApp(this.app).catch((e: unknown) => {
            this.logger.log('warn/fcm', { msg: 'deleting the firebase app failed', error: String(e) });
        });
        this.sendAgent.destroy();
        this.oauthAgent.destroy();
    }
}
