import express, { NextFunction, Request, Response, Router } from 'express';
import { Logger } from '../../logging/logger';
import { tokenFingerprints } from '../../logging/redact';
import { ServiceMetrics } from '../../metrics/service-metrics';
import { PROVIDER_NAMES, ProviderName, PushRequest } from '../../push/push-request';
import { MessageQueue } from '../../queue/message-queue';
import { ApiSpec, describeValidationErrors } from '../api-spec';
import { HttpProblem } from '../problem';

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

/** POST /v1/message/fcm and /v1/message/apns: validate against spec.yaml, enqueue, answer. */
export function messageRouter(deps: MessageRouteDeps): Router {
    const router = Router();
    const parseJson = express.json({ limit: deps.maxBodySize, strict: true, type: () => true });

    for (const provider of PROVIDER_NAMES) {
        const path = `/v1/message/${provider}`;
        // Compiled now, at start-up, not per request.
        const validate = deps.spec.requestValidator(path, 'post');
        router.post(path, requireJson, parseJson, (req: Request, res: Response) => {
            if (!validate(req.body)) {
                deps.metrics.requestsRejected.inc({ reason: 'invalid' });
                const errors = describeValidationErrors(validate.errors ?? []);
                throw new HttpProblem(400, `Invalid request body: ${errors.join('; ')}`, { errors });
            }
            accept(deps, provider, req.body as MessageBody, res);
        });
    }
    return router;
}

function accept(deps: MessageRouteDeps, provider: ProviderName, body: MessageBody, res: Response): void {
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

/** 415 unless the body is declared as JSON (Echo always sends application/json). */
function requireJson(req: Request, _res: Response, next: NextFunction): void {
    if (!req.is('application/json')) {
        const got = req.headers['content-type'];
        next(new HttpProblem(415, got ?
            `Content-Type must be application/json, got '${got.slice(0, 100)}'` :
            'Content-Type must be application/json'));
        return;
    }
    next();
}
