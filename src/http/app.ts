import express, { NextFunction, Request, Response } from 'express';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { HttpConfig } from '../config/sections/http';
import { OperationsConfig } from '../config/sections/operations';
import { Lifecycle } from '../lifecycle/readiness';
import { Logger } from '../logging/logger';
import { ServiceMetrics } from '../metrics/service-metrics';
import { MessageQueue } from '../queue/message-queue';
import { ApiSpec } from './api-spec';
import { inboundAuth } from './inbound-auth';
import { clientProblem, HttpProblem, sendProblem } from './problem';
import { inboundRateLimit } from './rate-limit';
import { securityHeaderList, securityHeaders } from './security-headers';
import { healthRouter } from './routes/health';
import { infoRouter, ServiceInfo } from './routes/info';
import { messageEndpoint, messageRouter, rejectionReason } from './routes/message';
import { PROVIDER_NAMES, ProviderName } from '../push/push-request';
import { bearerCheck } from './inbound-auth';
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

/**
 * Builds the HTTP request listener: express for every route, plus a hot path for Echo's
 * POST /v1/message/{fcm,apns} that skips express's router and body-parser (the single
 * biggest cost per request; see json-body.ts) and runs the same steps itself: security
 * headers, request metrics, bearer auth, then the same endpoint function express would call.
 * With the inbound rate limiter configured, the message routes go through express, since
 * express-rate-limit is express middleware. Everything per-request is prepared here, once.
 */
export function createRequestListener(deps: AppDeps): RequestListener {
    const { config, spec, metrics, logger } = deps;
    const endpoint = messageEndpoint({
        spec, queue: deps.queue, metrics, logger, maxBodySize: config.max_body_size, verbose: config.queueing.verbose
    });
    const app = createExpressApp(deps, endpoint);
    if (config.express_rate_limiter) {
        return app;
    }
    const headers = securityHeaderList(config.cors, config.csp);
    const auth = config.inbound_auth.secrets.length > 0 ? bearerCheck(config.inbound_auth.secrets) : undefined;
    const routes = new Map<string, ProviderName>(PROVIDER_NAMES.map((p) => [`/v1/message/${p}`, p]));

    return (req: IncomingMessage, res: ServerResponse): void => {
        const url = req.url ?? '';
        const q = url.indexOf('?');
        const path = q < 0 ? url : url.slice(0, q);
        const provider = req.method === 'POST' ? routes.get(path) : undefined;
        if (provider === undefined) {
            app(req, res);
            return;
        }
        for (const [name, value] of headers) {
            res.setHeader(name, value);
        }
        countRequest(metrics, path, res);
        const denied = auth?.(req);
        if (denied) {
            metrics.requestsRejected.inc({ reason: 'unauthorized' });
            sendProblem(req, res, denied);
            return;
        }
        endpoint(req, res, provider);
    };
}

/** Counts an answer by route (a spec path or 'other', never the raw URL) and status. */
function countRequest(metrics: ServiceMetrics, route: string, res: ServerResponse): void {
    const start = performance.now();
    res.once('finish', () => {
        metrics.httpRequests.inc({ route, status: String(res.statusCode) });
        metrics.httpDuration.observe({ route }, (performance.now() - start) / 1000);
    });
}

function createExpressApp(deps: AppDeps, endpoint: ReturnType<typeof messageEndpoint>): express.Express {
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
        app.use('/v1', inboundRateLimit(config.express_rate_limiter, logger, metrics));
    }
    if (config.inbound_auth.secrets.length > 0) {
        app.use('/v1', inboundAuth(config.inbound_auth.secrets));
    }
    app.use(messageRouter(endpoint));
    app.use(infoRouter(deps.info));
    app.use(rootRouter(spec));

    app.use(notFoundOrWrongMethod(spec));
    app.use(errorHandler(logger, metrics));
    return app;
}

function requestMetrics(spec: ApiSpec, metrics: ServiceMetrics) {
    return (req: Request, res: Response, next: NextFunction): void => {
        countRequest(metrics, spec.methodsByPath.has(req.path) ? req.path : 'other', res);
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

function errorHandler(logger: Logger, metrics: ServiceMetrics) {
    return (err: unknown, req: Request, res: Response, next: NextFunction): void => {
        if (res.headersSent) {
            next(err);
            return;
        }
        const problem = clientProblem(err);
        if (problem) {
            if (req.path.startsWith('/v1/')) {
                metrics.requestsRejected.inc({ reason: rejectionReason(problem) });
            }
            sendProblem(req, res, problem);
            return;
        }
        logger.log('error/http', err instanceof Error ? err : { msg: 'non-error thrown', err: String(err) });
        sendProblem(req, res, new HttpProblem(500, 'Internal error; it has been logged.'));
    };
}
