import type { IncomingMessage, ServerResponse } from 'node:http';
import { Logger } from '../../logging/logger';
import { tokenFingerprints } from '../../logging/redact';
import { ServiceMetrics } from '../../metrics/service-metrics';
import { ProviderId, ProviderKind } from '../../push/provider';
import { TokenSyntax } from '../../push/token-syntax';
import { AcceptedRequest, EnqueueResult } from '../../scheduling/scheduler';
import { ApiSpec, describeValidationErrors } from '../../http/api-spec';
import { FrontDoor, FrontDoorRoute } from '../../http/front-door';
import { jsonBodyReader } from '../../http/json-body';
import { HttpProblem, sendProblem } from '../../http/problem';
import { EchoMessages } from './echo-messages';

/** What the Echo front door needs to know of a provider instance. */
export interface EchoProvider {
    readonly kind: ProviderKind;
    readonly tokenSyntax: TokenSyntax;
}

export interface EchoFrontDoorDeps {
    readonly spec: ApiSpec;
    /** The privacy batching queue. */
    readonly queue: { enqueue(request: AcceptedRequest): EnqueueResult };
    /** The provider instance a `/v1/message/{id}` route sends to, if configured. */
    readonly provider: (id: ProviderId) => EchoProvider | undefined;
    readonly messages: EchoMessages;
    readonly metrics: ServiceMetrics;
    readonly logger: Logger;
    readonly maxBodySize: number;
    /** Log each accepted request at debug level (queueing.verbose). */
    readonly verbose: boolean;
    /** The Web Push VAPID public key (base64url), when Web Push is configured. */
    readonly vapidPublicKey: () => string | undefined;
}

export const VAPID_KEY_PATH = '/v1/webpush/vapid-public-key';

interface MessageBody {
    deviceTokens: string[];
    messageType: string;
    topic?: string;
    dryRun: boolean;
}

/** The Echo API's message routes: `/v1/message/<provider id>` in spec.yaml. */
const MESSAGE_ROUTE = /^\/v1\/message\/([a-z][a-z0-9_-]*)$/;

/**
 * The Echo front door: POST /v1/message/{fcm,apns,webpush} and GET /v1/webpush/vapid-public-key,
 * in RFC 7807 problem+json.
 *
 * Read the JSON body, validate its SHAPE against spec.yaml (deviceTokens: a non-empty array,
 * at most max_device_tokens, of non-empty strings; messageType one of the configured types),
 * then check each token's syntax with its provider kind's rules: a token that cannot be a
 * device token is settled dead ('invalid_token') without being sent — deleted at the wiki
 * through the mass-deletion guard — and never makes the request fail, because Echo sends all
 * of a user's subscriptions in one request and does not retry. The rest go into the privacy
 * queue, and the answer is 200 {} (503 + Retry-After when the queue is full or draining).
 */
export function createEchoFrontDoor(deps: EchoFrontDoorDeps): FrontDoor {
    const readBody = jsonBodyReader(deps.maxBodySize);
    const routes: FrontDoorRoute[] = [];
    for (const [path, methods] of deps.spec.methodsByPath) {
        const id = MESSAGE_ROUTE.exec(path)?.[1];
        const provider = id === undefined ? undefined : deps.provider(id);
        if (id === undefined || !provider || !methods.includes('POST')) {
            continue;
        }
        // Compiled now, at start-up, not per request.
        const validate = deps.spec.requestValidator(path, 'post');
        routes.push({
            method: 'POST', path, auth: true, rateLimited: true,
            handle: (req, res) => {
                readBody(req, res).then((body) => {
                    if (!validate(body)) {
                        const errors = describeValidationErrors(validate.errors ?? []);
                        throw new HttpProblem(400, `Invalid request body: ${errors.join('; ')}`, { errors });
                    }
                    accept(deps, id, provider, body as MessageBody, res);
                }).catch((err: unknown) => fail(deps, req, res, err));
            }
        });
    }
    if (deps.spec.methodsByPath.has(VAPID_KEY_PATH)) {
        routes.push({
            method: 'GET', path: VAPID_KEY_PATH, auth: true, rateLimited: true,
            handle: (req, res) => {
                const key = deps.vapidPublicKey();
                if (!key) {
                    sendProblem(req, res, new HttpProblem(404, 'Web Push is not configured (webpush.vapid)'));
                    return;
                }
                const json = JSON.stringify({ publicKey: key });
                res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json) }).end(json);
            }
        });
    }
    return {
        name: 'echo',
        routes,
        prefix: '/v1/',
        auth: true,
        rateLimited: true,
        reject: (req, res, problem) => sendProblem(req, res, problem)
    };
}

function fail(deps: EchoFrontDoorDeps, req: IncomingMessage, res: ServerResponse, err: unknown): void {
    if (err instanceof HttpProblem) {
        if (err.status !== 503) { // counted where the queue said why
            deps.metrics.requestsRejected.inc({ reason: rejectionReason(err) });
        }
        sendProblem(req, res, err);
        return;
    }
    deps.logger.log('error/http', err instanceof Error ? err : { msg: 'non-error thrown', err: String(err) });
    sendProblem(req, res, new HttpProblem(500, 'Internal error; it has been logged.'));
}

/** The `reason` label of requests_rejected_total: a small fixed set. */
export function rejectionReason(problem: HttpProblem): string {
    switch (problem.status) {
        case 400: return 'invalid';
        case 401: return 'unauthorized';
        case 413: return 'too_large';
        case 415: return 'unsupported_media_type';
        case 429: return 'rate_limited';
        default: return 'other';
    }
}

function accept(deps: EchoFrontDoorDeps, id: ProviderId, provider: EchoProvider, body: MessageBody, res: ServerResponse): void {
    const { tokens, keys, invalid } = splitBySyntax(body.deviceTokens, provider.tokenSyntax);
    const result = deps.queue.enqueue({
        provider: id, tokens, message: deps.messages.get(body.messageType, provider.kind, body.topic),
        dryRun: body.dryRun, source: 'echo', ...(keys ? { keys } : {}), ...(invalid ? { invalid } : {})
    });
    if (!result.accepted) {
        deps.metrics.requestsRejected.inc({ reason: result.reason === 'full' ? 'queue_full' : 'draining' });
        throw new HttpProblem(503, result.reason === 'full' ?
            'The delivery queue is full; retry later.' :
            'The service is shutting down; retry against another instance.',
        { headers: { 'Retry-After': String(result.retryAfterSeconds) } });
    }
    if (deps.verbose) {
        deps.logger.log('debug/queue', {
            msg: 'request queued', provider: id, messageType: body.messageType, dryRun: body.dryRun,
            tokens: tokenFingerprints(body.deviceTokens)
        });
    }
    // The answer never varies: write it directly.
    res.writeHead(200, ACCEPTED_HEADERS).end(ACCEPTED_BODY);
}

const ACCEPTED_BODY = '{}';
const ACCEPTED_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'content-length': '2' } as const;

/**
 * Splits tokens into the valid ones (with their de-duplication keys, only when some key
 * differs from its token) and those that cannot be device tokens. No copies in the common
 * case, where every token is valid and is its own key.
 */
export function splitBySyntax(all: readonly string[], syntax: TokenSyntax):
    { tokens: readonly string[]; keys?: string[]; invalid?: { token: string; reason: string }[] } {
    let tokens: string[] | undefined;
    let keys: string[] | undefined;
    let invalid: { token: string; reason: string }[] | undefined;
    for (let i = 0; i < all.length; i++) {
        const token = all[i];
        const check = syntax(token);
        if (!tokens) {
            if (check.ok && check.key === token) {
                continue;
            }
            tokens = all.slice(0, i); // all valid so far, each its own key
        }
        if (!check.ok) {
            (invalid ??= []).push({ token, reason: check.reason });
            continue;
        }
        if (check.key !== token && !keys) {
            keys = tokens.slice();
        }
        tokens.push(token);
        keys?.push(check.key);
    }
    return { tokens: tokens ?? all, ...(keys ? { keys } : {}), ...(invalid ? { invalid } : {}) };
}
