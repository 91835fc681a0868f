import { Router } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Logger } from '../../logging/logger';
import { tokenFingerprints } from '../../logging/redact';
import { ServiceMetrics } from '../../metrics/service-metrics';
import { PROVIDER_NAMES, ProviderName, PushRequest } from '../../push/push-request';
import { MessageQueue } from '../../queue/message-queue';
import { ApiSpec, describeValidationErrors } from '../api-spec';
import { jsonBodyReader } from '../json-body';
import { HttpProblem, sendProblem } from '../problem';

export interface MessageRouteDeps {
    readonly spec: ApiSpec;
    readonly queue: MessageQueue;
    readonly metrics: ServiceMetrics;
    readonly logger: Logger;
    readonly maxBodySize: number;
    /** Log each accepted request at debug level (queueing.verbose). */
    readonly verbose: boolean;
}

interface MessageBody {
    deviceTokens: string[];
    messageType: string;
    topic?: string;
    dryRun: boolean;
}

/**
 * POST /v1/message/{fcm,apns}: read the JSON body, validate it against spec.yaml, enqueue,
 * answer 200 {} (or a problem). Written against plain node:http types so that the hot path
 * (request-listener.ts) can call it without express, and the express route below can too.
 * It does not authenticate, set security headers or count the request: whoever calls it
 * has done that.
 */
export type MessageEndpoint = (req: IncomingMessage, res: ServerResponse, provider: ProviderName) => void;

export function messageEndpoint(deps: MessageRouteDeps): MessageEndpoint {
    const readBody = jsonBodyReader(deps.maxBodySize);
    // Compiled now, at start-up, not per request.
    const validators = Object.fromEntries(PROVIDER_NAMES.map((p) =>
        [p, deps.spec.requestValidator(`/v1/message/${p}`, 'post')])) as Record<ProviderName, ReturnType<ApiSpec['requestValidator']>>;

    return (req, res, provider) => {
        readBody(req, res).then((body) => {
            const validate = validators[provider];
            if (!validate(body)) {
                const errors = describeValidationErrors(validate.errors ?? []);
                throw new HttpProblem(400, `Invalid request body: ${errors.join('; ')}`, { errors });
            }
            accept(deps, provider, body as MessageBody, res);
        }).catch((err: unknown) => {
            if (err instanceof HttpProblem) {
                if (err.status !== 503) { // counted where the queue said why
                    deps.metrics.requestsRejected.inc({ reason: rejectionReason(err) });
                }
                sendProblem(req, res, err);
                return;
            }
            deps.logger.log('error/http', err instanceof Error ? err : { msg: 'non-error thrown', err: String(err) });
            sendProblem(req, res, new HttpProblem(500, 'Internal error; it has been logged.'));
        });
    };
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

/** The express registration of the same endpoint (used when express middleware must run first). */
export function messageRouter(endpoint: MessageEndpoint): Router {
    const router = Router();
    for (const provider of PROVIDER_NAMES) {
        router.post(`/v1/message/${provider}`, (req, res) => endpoint(req, res, provider));
    }
    return router;
}

function accept(deps: MessageRouteDeps, provider: ProviderName, body: MessageBody, res: ServerResponse): void {
    const request: PushRequest = {
        provider,
        deviceTokens: body.deviceTokens,
        messageType: body.messageType,
        topic: body.topic,
        dryRun: body.dryRun
    };
    const result = deps.queue.enqueue(request);
    if (!result.accepted) {
        deps.metrics.requestsRejected.inc({ reason: result.reason === 'full' ? 'queue_full' : 'draining' });
        throw new HttpProblem(503, result.reason === 'full' ?
            'The delivery queue is full; retry later.' :
            'The service is shutting down; retry against another instance.',
        { headers: { 'Retry-After': String(result.retryAfterSeconds) } });
    }
    deps.metrics.tokensAccepted.inc({ provider }, body.deviceTokens.length);
    if (deps.verbose) {
        deps.logger.log('debug/queue', {
            msg: 'request queued',
            provider,
            messageType: body.messageType,
            dryRun: body.dryRun,
            tokens: tokenFingerprints(body.deviceTokens)
        });
    }
    // The answer never varies: write it directly rather than through res.json()'s
    // serialise / content-type / ETag / freshness steps (not measurable under shared load, but free).
    res.writeHead(200, ACCEPTED_HEADERS).end(ACCEPTED_BODY);
}

const ACCEPTED_BODY = '{}';
const ACCEPTED_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'content-length': '2' } as const;
