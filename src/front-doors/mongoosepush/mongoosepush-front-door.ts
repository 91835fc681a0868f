import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { DeadTokenMemory } from '../../dead-tokens/dead-token-memory';
import { TokenAnswer } from '../../delivery/delivery';
import { FrontDoor, RouteParams } from '../../http/front-door';
import { BodyError, readRawBody } from '../../http/raw-body';
import { Logger } from '../../logging/logger';
import { ServiceMetrics } from '../../metrics/service-metrics';
import { ProviderId } from '../../push/provider';
import { TokenSyntax } from '../../push/token-syntax';
import { ImmediateSender } from '../../scheduling/immediate-sender';
import {
    answerBadBody, answerFirst, answerSchemaErrors, answerUnavailable, FirstAnswer, healthcheckAnswer, InstanceHealth,
    NO_MATCHING_POOL, REMEMBERED_DEAD, V3_CONTENT_TYPE, V3Answer
} from './answers';
import { MongoosePushConfig, resolveRoute } from './config';
import { toPushMessage } from './render';
import { parseDeviceId, parseV3Body } from './request';

export const NOTIFICATION_PATH = '/v3/notification/{device_id}';
export const HEALTHCHECK_PATH = '/healthcheck';

export interface MongoosePushFrontDoorDeps {
    readonly config: MongoosePushConfig;
    readonly immediate: ImmediateSender;
    readonly tokenSyntax: (provider: ProviderId) => TokenSyntax;
    readonly deadTokens: DeadTokenMemory;
    /** The instances routed to, and whether each can send (for GET /healthcheck). */
    readonly health: () => readonly InstanceHealth[];
    readonly version: string;
    readonly maxBodySize: number;
    readonly metrics: ServiceMetrics;
    readonly logger: Logger;
}

/**
 * The MongoosePush v3 front door: a drop-in for the REST API MongooseIM's push backend
 * (XEP-0357, `mod_push_service_mongoosepush`, api_version "v3") calls, so that a MongooseIM
 * operator changes one host name.
 *
 * MongooseIM waits 2 s (its HTTP pool's default), never retries, and disables a device's push
 * registration on an HTTP 410 and nothing else. So the token is sent at once (the immediate
 * sender), and the answer comes from its FIRST answer, within `answerWithinMs`:
 * 200 delivered, or accepted and being retried by us; 410 {"reason":"unregistered"} when the
 * provider says the token is dead (and the mass-deletion guard let it through) or it is
 * remembered dead from an earlier request; 400 {"reason": ...} when the provider refused the
 * request as malformed; 503 + Retry-After when we cannot take it (full, draining); 422
 * {"errors": [...]} for schema errors, with a JSON pointer to the field (answers.ts).
 * GET /healthcheck reports each provider instance it routes to (503 only when none is usable).
 */
export function createMongoosePushFrontDoor(deps: MongoosePushFrontDoorDeps): FrontDoor {
    return {
        name: 'mongoosepush',
        routes: [
            {
                method: 'POST', path: NOTIFICATION_PATH, auth: false, rateLimited: true,
                handle: (req, res, params) => {
                    const started = performance.now();
                    readRawBody(req, deps.maxBodySize).then((raw) => handleNotification(deps, raw, params, res, started),
                        (e: unknown) => send(deps, res, answerBadBody(e instanceof BodyError && e.kind === 'too_large' ? 'too_large' : 'not_json'),
                            'unknown', 'unknown', started)).catch((e: unknown) => {
                        deps.logger.log('error/mongoosepush', e instanceof Error ? e : { msg: 'non-error thrown', err: String(e) });
                        if (!res.headersSent) {
                            writeV3(res, { status: 500, body: { reason: 'unspecified' }, label: 'config_error' });
                        }
                    });
                }
            },
            {
                method: 'GET', path: HEALTHCHECK_PATH, auth: false, rateLimited: false,
                handle: (_req, res) => {
                    const { status, body } = healthcheckAnswer(deps.health(), deps.version, new Date());
                    const json = JSON.stringify(body);
                    res.writeHead(status, { 'content-type': V3_CONTENT_TYPE, 'content-length': Buffer.byteLength(json) }).end(json);
                }
            }
        ],
        prefix: '/v3/',
        reject: (_req, res, problem) => writeV3(res, {
            status: problem.status,
            body: { reason: problem.status === 404 || problem.status === 405 ? 'invalid_request' : problem.status === 429 ?
                'service_internal' : 'unspecified' },
            headers: problem.extra.headers,
            label: 'bad_body'
        })
    };
}

async function handleNotification(deps: MongoosePushFrontDoorDeps, raw: Buffer, params: RouteParams, res: ServerResponse,
    started: number): Promise<void> {
    let body: unknown;
    try {
        body = JSON.parse(raw.toString('utf8')) as unknown;
    } catch {
        send(deps, res, answerBadBody('not_json'), 'unknown', 'unknown', started);
        return;
    }
    const deviceId = parseDeviceId(params.device_id ?? '');
    const parsed = parseV3Body(body);
    if (!deviceId.ok || !parsed.ok) {
        send(deps, res, answerSchemaErrors([...(deviceId.ok ? [] : deviceId.errors), ...(parsed.ok ? [] : parsed.errors)]),
            'unknown', 'unknown', started);
        return;
    }
    const request = parsed.value;
    const mode = request.mode ?? 'prod';
    const route = resolveRoute(deps.config, request.service, mode, request.tags ?? []);
    if (!route.ok) {
        send(deps, res, NO_MATCHING_POOL, request.service, mode, started);
        return;
    }
    const provider = route.route.provider;
    const token = deviceId.value;
    const check = deps.tokenSyntax(provider)(token);
    if (!check.ok) {
        send(deps, res, answerFirst({ outcome: 'invalid', reason: check.reason }), request.service, mode, started);
        return;
    }
    if (deps.deadTokens.isDead(provider, token)) {
        send(deps, res, REMEMBERED_DEAD, request.service, mode, started);
        return;
    }
    const sent = deps.immediate.send({
        provider, tokens: [token], ...(check.key !== token ? { keys: [check.key] } : {}),
        message: toPushMessage(request, route.route.topic), dryRun: false, source: 'mongoosepush'
    }, Math.max(0, deps.config.answerWithinMs - Math.ceil(performance.now() - started) - 20));
    if (!sent.accepted) {
        send(deps, res, answerUnavailable(sent.retryAfterSeconds), request.service, mode, started);
        return;
    }
    const answer = (await sent.answers).get(token);
    send(deps, res, answerFirst(firstAnswer(answer)), request.service, mode, started);
}

/** The first answer as answers.ts sees it: a dead token the guard held is not a 410. */
function firstAnswer(a: TokenAnswer | undefined): FirstAnswer {
    if (!a) {
        return { outcome: 'pending', reason: 'deadline' };
    }
    if (a.outcome === 'dead') {
        return { outcome: a.verdict === 'passed' ? 'dead' : 'dead_held', reason: a.reason };
    }
    return { outcome: a.outcome, reason: a.reason };
}

function send(deps: MongoosePushFrontDoorDeps, res: ServerResponse, answer: V3Answer, service: string, mode: string,
    started: number): void {
    deps.metrics.mongoosepushRequests.inc({ service, mode, outcome: answer.label });
    deps.metrics.mongoosepushAnswer.observe({ service }, (performance.now() - started) / 1000);
    writeV3(res, answer);
}

function writeV3(res: ServerResponse, answer: V3Answer): void {
    for (const [name, value] of Object.entries(answer.headers ?? {})) {
        res.setHeader(name, value);
    }
    // A 200's body is JSON null, as MongoosePush's (Phoenix `json(conn, nil)`).
    const json = JSON.stringify(answer.body);
    res.writeHead(answer.status, { 'content-type': V3_CONTENT_TYPE, 'content-length': Buffer.byteLength(json) }).end(json);
}

