import express, { Application, NextFunction, Request, Response } from 'express';
import { performance } from 'node:perf_hooks';
import { HttpConfig } from '../config/sections/http';
import { OperationsConfig } from '../config/sections/operations';
import { Lifecycle } from '../lifecycle/readiness';
import { Logger } from '../logging/logger';
import { ServiceMetrics } from '../metrics/service-metrics';
import { MessageQueue } from '../queue/message-queue';
import { ApiSpec } from './api-spec';
import { inboundAuth } from './inbound-auth';
import { HttpProblem, ProblemStatus, PROBLEM_KINDS, sendProblem } from './problem';
import { inboundRateLimit } from './rate-limit';
import { securityHeaders } from './security-headers';
import { healthRouter } from './routes/health';
import { infoRouter, ServiceInfo } from './routes/info';
import { messageRouter } from './routes/message';
import { rootRouter } from './routes/root';

export interface AppDeps {
    readonly config: HttpConfig & Pick<OperationsConfig, 'express_rate_limiter' | 'inbound_auth'> &
        { readonly queueing: { readonly verbose: boolean } };
    readonly spec: ApiSpec;
    readonly queue: MessageQueue;
    readonly lifecycle: Lifecycle;
    readonly metrics: ServiceMetrics;
    readonly logger: Logger;
    readonly info: ServiceInfo;
}

/** Builds the express application. Everything per-request is prepared here, once. */
export function createApp(deps: AppDeps): Application {
    const { config, spec, metrics, logger } = deps;
    const app = express();
    app.disable('x-powered-by');
    app.disable('etag');
    app.set('trust proxy', config.trust_proxy);

    app.use(securityHeaders(config.cors, config.csp));
    app.use(requestMetrics(spec, metrics));
    if (config.cors !== false) {
        app.use(corsPreflight(spec));
    }

    app.use(healthRouter(deps.lifecycle, deps.queue));
    // The API proper (/v1/*): rate limit first, so that guessing secrets is rate limited too;
    // then authentication, before any body is read. Each is mounted only when configured,
    // so that the accept path pays nothing for them in dev. Health, info and spec stay open.
    if (config.express_rate_limiter) {
        app.use('/v1', inboundRateLimit(config.express_rate_limiter, logger));
    }
    if (config.inbound_auth.secrets.length > 0) {
        app.use('/v1', inboundAuth(config.inbound_auth.secrets));
    }
    app.use(messageRouter({
        spec, queue: deps.queue, metrics, logger, maxBodySize: config.max_body_size, verbose: config.queueing.verbose
    }));
    app.use(infoRouter(deps.info));
    app.use(rootRouter(spec));

    app.use(notFoundOrWrongMethod(spec));
    app.use(errorHandler(logger));
    return app;
}

/** Counts every answer by route (a spec path or 'other', never the raw URL) and status. */
function requestMetrics(spec: ApiSpec, metrics: ServiceMetrics) {
    return (req: Request, res: Response, next: NextFunction): void => {
        const start = performance.now();
        res.once('finish', () => {
            const route = spec.methodsByPath.has(req.path) ? req.path : 'other';
            metrics.httpRequests.inc({ route, status: String(res.statusCode) });
            metrics.httpDuration.observe({ route }, (performance.now() - start) / 1000);
        });
        next();
    };
}

/**
 * With `cors` configured, a browser asks OPTIONS before a cross-origin POST; answer it for
 * the spec's paths (204 with the methods allowed) instead of the 405 it would otherwise get.
 */
function corsPreflight(spec: ApiSpec) {
    return (req: Request, res: Response, next: NextFunction): void => {
        const methods = req.method === 'OPTIONS' ? spec.methodsByPath.get(req.path) : undefined;
        if (!methods) {
            next();
            return;
        }
        res.setHeader('access-control-allow-methods', methods.join(', '));
        res.setHeader('access-control-max-age', '600');
        res.setHeader('allow', [...methods, 'OPTIONS'].join(', '));
        res.status(204).end();
    };
}

function notFoundOrWrongMethod(spec: ApiSpec) {
    return (req: Request, _res: Response, next: NextFunction): void => {
        const methods = spec.methodsByPath.get(req.path);
        if (methods && !methods.includes(req.method) && !(req.method === 'HEAD' && methods.includes('GET'))) {
            next(new HttpProblem(405, `${req.method} is not allowed here; use ${methods.join(', ')}`,
                { headers: { Allow: methods.join(', ') } }));
            return;
        }
        next(new HttpProblem(404, 'No such route'));
    };
}

/** body-parser and express errors carry `status`/`type`; map the client's mistakes to 4xx. */
interface HttpLikeError {
    status?: number;
    statusCode?: number;
    type?: string;
    expose?: boolean;
}

const BODY_ERRORS: Record<string, [ProblemStatus, string]> = {
    'entity.parse.failed': [400, 'The body is not valid JSON'],
    'entity.too.large': [413, 'The body is larger than the configured max_body_size'],
    'entity.verify.failed': [400, 'The body could not be verified'],
    'request.aborted': [400, 'The request was aborted before its body was complete'],
    'request.size.invalid': [400, 'The body is shorter or longer than its Content-Length'],
    'encoding.unsupported': [415, 'Unsupported Content-Encoding'],
    'charset.unsupported': [415, 'Unsupported charset; send UTF-8 JSON'],
    'parameters.too.many': [413, 'Too many parameters']
};

function errorHandler(logger: Logger) {
    return (err: unknown, req: Request, res: Response, next: NextFunction): void => {
        if (res.headersSent) {
            next(err);
            return;
        }
        if (err instanceof HttpProblem) {
            sendProblem(req, res, err);
            return;
        }
        const e = (err ?? {}) as HttpLikeError;
        const known = e.type ? BODY_ERRORS[e.type] : undefined;
        if (known) {
            sendProblem(req, res, new HttpProblem(known[0], known[1]));
            return;
        }
        const status = e.status ?? e.statusCode;
        if (status && status >= 400 && status < 500) {
            const s = (status in PROBLEM_KINDS ? status : 400) as ProblemStatus;
            sendProblem(req, res, new HttpProblem(s, PROBLEM_KINDS[s][1]));
            return;
        }
        logger.log('error/http', err instanceof Error ? err : { msg: 'non-error thrown', err: String(err) });
        sendProblem(req, res, new HttpProblem(500, 'Internal error; it has been logged.'));
    };
}
