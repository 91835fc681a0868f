import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { DeadTokenMemory } from '../../dead-tokens/dead-token-memory';
import { Delivery, TokenAnswer } from '../../delivery/delivery';
import { ApiSpec } from '../../http/api-spec';
import { FrontDoor } from '../../http/front-door';
import { HttpProblem } from '../../http/problem';
import { BodyError, readRawBody } from '../../http/raw-body';
import { Logger } from '../../logging/logger';
import { ServiceMetrics } from '../../metrics/service-metrics';
import { ProviderId } from '../../push/provider';
import { TokenSyntax } from '../../push/token-syntax';
import { FirstAnswers, ImmediateSender } from '../../scheduling/immediate-sender';
import { AcceptedRequest, EnqueueResult } from '../../scheduling/scheduler';
import { MatrixApps } from './apps-config';
import { RecentNotifications } from './dedupe';
import { MatrixNotification, createNotifyValidator, parseNotifyJson } from './notification';
import { buildDeviceDispatch } from './payloads';

export const NOTIFY_PATH = '/_matrix/push/v1/notify';

export interface MatrixFrontDoorDeps {
    readonly spec: ApiSpec;
    readonly apps: MatrixApps;
    readonly immediate: ImmediateSender;
    /** The privacy queue, for apps with `scheduling: batched`. */
    readonly queue: { enqueue(request: AcceptedRequest): EnqueueResult };
    readonly delivery: Delivery;
    /** The token syntax of a provider instance. */
    readonly tokenSyntax: (provider: ProviderId) => TokenSyntax;
    readonly deadTokens: DeadTokenMemory;
    readonly recent: RecentNotifications;
    /** Answer within this many ms (config matrix.answerWithinMs). */
    readonly answerWithinMs: number;
    readonly maxBodySize: number;
    readonly metrics: ServiceMetrics;
    readonly logger: Logger;
}

/** One device's fate while the request is handled. */
interface DeviceState {
    readonly pushkey: string;
    readonly app: string;
    /** Decided without sending (rejected, skipped, duplicate), or after the first answer. */
    outcome?: 'rejected' | 'skipped' | 'duplicate' | 'batched';
    /** Sent through the immediate sender: its token and the answers promise. */
    sent?: { readonly token: string; readonly answers: Promise<FirstAnswers> };
    readonly eventId?: string;
}

/**
 * The Matrix push gateway front door (Push Gateway API v1, as Sygnal serves it): POST
 * /_matrix/push/v1/notify. What the homeserver does with the answer drives every choice:
 * it retries any non-2xx for up to 24 h while holding back that pusher's later events, and
 * deletes the pusher of every pushkey listed in `rejected`. So:
 * - 200 `{"rejected": [...]}` for anything that concerns one device; `rejected` holds the
 *   exact pushkey strings of devices that are definitely gone: an unknown or ambiguous
 *   app_id; pusher data that can never work (Sygnal's rejections); a token a provider called
 *   dead now (APNs 410 / 400 BadDeviceToken, FCM UNREGISTERED, Web Push 404/410) or on an
 *   earlier notify (the dead-token memory). Never a transient failure, never a configuration
 *   error, and never while the mass-deletion guard holds deletions for that provider (the
 *   guard's verdict travels with each answer): a wrong APNs environment must not make
 *   Synapse delete every pusher.
 * - The answer comes within `answerWithinMs` even while a provider is being retried: we own
 *   the notification once answered 200 and keep retrying it in the background.
 * - 5xx only when we cannot take it at all (queue full, draining), with Retry-After.
 * - 400 `{"errcode": "M_NOT_JSON" | "M_BAD_JSON", "error"}` for a malformed body; unknown
 *   paths under /_matrix/ are 404 and wrong methods 405, `{"errcode": "M_UNRECOGNIZED"}`.
 * - A `(pushkey, event_id)` taken within the dedupe window is not sent again (200, not
 *   rejected): the homeserver re-sends when our 200 did not reach it.
 * One device never decides the fate of another: each is sent and answered on its own.
 */
export function createMatrixFrontDoor(deps: MatrixFrontDoorDeps): FrontDoor {
    const validate = createNotifyValidator(deps.spec.requestValidator(NOTIFY_PATH, 'post'));
    return {
        name: 'matrix',
        prefix: '/_matrix/',
        routes: [{
            method: 'POST', path: NOTIFY_PATH, auth: false, rateLimited: true,
            handle: (req, res) => {
                const started = performance.now();
                res.once('finish', () => deps.metrics.matrixAnswer.observe({}, (performance.now() - started) / 1000));
                handleNotify(deps, validate, req, res).catch((e: unknown) => {
                    deps.logger.log('error/matrix', e instanceof Error ? e : { msg: 'non-error thrown', err: String(e) });
                    if (!res.headersSent) {
                        sendMatrix(res, 500, { errcode: 'M_UNKNOWN', error: 'Internal error; it has been logged.' });
                    }
                });
            }
        }],
        reject: (_req, res, problem) => sendMatrix(res, problem.status, matrixErrorFor(problem), problem.extra.headers)
    };
}

async function handleNotify(deps: MatrixFrontDoorDeps, validate: ReturnType<typeof createNotifyValidator>,
    req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { metrics } = deps;
    let raw: Buffer;
    try {
        raw = await readRawBody(req, deps.maxBodySize);
    } catch (e) {
        const tooLarge = e instanceof BodyError && e.kind === 'too_large';
        metrics.matrixNotifications.inc({ result: tooLarge ? 'too_large' : 'not_json' });
        sendMatrix(res, tooLarge ? 413 : 400, tooLarge ?
            { errcode: 'M_TOO_LARGE', error: 'The body is larger than the configured max_body_size' } :
            { errcode: 'M_NOT_JSON', error: 'The request was aborted before its body was complete' });
        return;
    }
    const json = parseNotifyJson(raw);
    if (!json.ok) {
        metrics.matrixNotifications.inc({ result: 'not_json' });
        sendMatrix(res, 400, json.error);
        return;
    }
    const parsed = validate(json.body);
    if (!parsed.ok) {
        metrics.matrixNotifications.inc({ result: 'bad_json' });
        sendMatrix(res, 400, parsed.error);
        return;
    }
    const n = parsed.notification;
    const plan = planDevices(deps, n);
    if (plan === 'unavailable') {
        metrics.matrixNotifications.inc({ result: 'unavailable' });
        sendMatrix(res, 503, { errcode: 'M_UNKNOWN', error: 'The push gateway cannot take notifications now; retry later.' },
            { 'Retry-After': String(deps.immediate.retryAfterSeconds) });
        return;
    }
    // Wait for the first answers, but not past answerWithinMs from the request's start.
    const rejected: string[] = [];
    for (const d of plan) {
        let outcome: string;
        if (d.sent) {
            const answer = (await d.sent.answers).get(d.sent.token);
            outcome = outcomeOf(answer);
            if (outcome === 'rejected') {
                rejected.push(d.pushkey);
            }
        } else {
            outcome = d.outcome ?? 'skipped';
            if (outcome === 'rejected') {
                rejected.push(d.pushkey);
            }
        }
        metrics.matrixDevices.inc({ app: d.app, outcome });
        if (outcome !== 'rejected' && outcome !== 'duplicate') {
            deps.recent.remember(d.pushkey, d.eventId);
        }
    }
    metrics.matrixNotifications.inc({ result: 'ok' });
    sendMatrix(res, 200, { rejected });
}

/**
 * Decides each device and starts the sends; 'unavailable' when the schedulers cannot take the
 * devices to send (checked before anything is sent, so a 503'd notify sent nothing).
 */
function planDevices(deps: MatrixFrontDoorDeps, n: MatrixNotification): DeviceState[] | 'unavailable' {
    const eventId = n.event_id ?? undefined;
    const plan: DeviceState[] = [];
    const toSend: { state: DeviceState; request: AcceptedRequest; batched: boolean }[] = [];
    for (const device of n.devices) {
        const found = deps.apps.findApp(device.app_id);
        if (found === 'unknown' || found === 'ambiguous') {
            plan.push({ pushkey: device.pushkey, app: found, outcome: 'rejected', eventId });
            continue;
        }
        const app = found.name;
        if (deps.recent.isDuplicate(device.pushkey, eventId)) {
            plan.push({ pushkey: device.pushkey, app, outcome: 'duplicate', eventId });
            continue;
        }
        const dispatch = buildDeviceDispatch(n, device, found);
        const provider = found.providerId;
        if (dispatch.action === 'skip') {
            plan.push({ pushkey: device.pushkey, app, outcome: 'skipped', eventId });
            continue;
        }
        if (dispatch.action === 'reject') {
            // Data that can never work: dead like a malformed token, through the guard.
            deps.metrics.tokensAccepted.inc({ ...deps.delivery.labels(provider), source: 'matrix' });
            const [a] = deps.delivery.settleInvalid(provider, 'matrix', false, [{ token: device.pushkey, reason: dispatch.reason }]);
            plan.push({ pushkey: device.pushkey, app, outcome: a.verdict === 'passed' ? 'rejected' : 'skipped', eventId });
            continue;
        }
        if (deps.deadTokens.isDead(provider, dispatch.token)) {
            plan.push({ pushkey: device.pushkey, app, outcome: 'rejected', eventId });
            continue;
        }
        const check = deps.tokenSyntax(provider)(dispatch.token);
        const state: DeviceState = { pushkey: device.pushkey, app, eventId };
        plan.push(state);
        toSend.push({
            state, batched: found.scheduling === 'batched',
            request: {
                provider, message: dispatch.message, dryRun: false, source: 'matrix',
                ...(check.ok ? { tokens: [dispatch.token], ...(check.key !== dispatch.token ? { keys: [check.key] } : {}) } :
                    { tokens: [], invalid: [{ token: dispatch.token, reason: check.reason }] })
            }
        });
    }
    const immediateTokens = toSend.filter((s) => !s.batched).reduce((n2, s) => n2 + s.request.tokens.length, 0);
    if (!deps.immediate.canTake(immediateTokens)) {
        return 'unavailable';
    }
    for (const { state, request, batched } of toSend) {
        if (batched) {
            const r = deps.queue.enqueue(request);
            state.outcome = r.accepted ? 'batched' : 'skipped';
            continue;
        }
        const r = deps.immediate.send(request, Math.max(0, deps.answerWithinMs - 50));
        if (r.accepted) {
            const token = request.tokens[0] ?? request.invalid?.[0]?.token ?? '';
            state.sent = { token, answers: r.answers };
        } else {
            state.outcome = 'skipped';
        }
    }
    return plan;
}

/** The device's outcome label from its first answer; 'rejected' only for a dead token the guard let through. */
function outcomeOf(answer: TokenAnswer | undefined): string {
    if (!answer) {
        return 'pending';
    }
    if (answer.outcome === 'dead') {
        return answer.verdict === 'passed' ? 'rejected' : 'dead_held';
    }
    if (answer.outcome === 'delivered') {
        return 'delivered';
    }
    return answer.willRetry ? 'retrying' : answer.outcome;
}

function matrixErrorFor(problem: HttpProblem): { errcode: string; error: string; retry_after_ms?: number } {
    switch (problem.status) {
        case 404:
        case 405:
            return { errcode: 'M_UNRECOGNIZED', error: problem.detail };
        case 401:
            return { errcode: 'M_UNAUTHORIZED', error: problem.detail };
        case 429: {
            const after = Number(problem.extra.headers?.['Retry-After'] ?? '1');
            return { errcode: 'M_LIMIT_EXCEEDED', error: problem.detail, retry_after_ms: after * 1000 };
        }
        default:
            return { errcode: 'M_UNKNOWN', error: problem.detail };
    }
}

function sendMatrix(res: ServerResponse, status: number, body: unknown, headers?: Readonly<Record<string, string>>): void {
    const json = JSON.stringify(body);
    for (const [name, value] of Object.entries(headers ?? {})) {
        res.setHeader(name, value);
    }
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) }).end(json);
}
