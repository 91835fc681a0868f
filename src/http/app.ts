import express, { NextFunction, Request, Response } from 'express';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { HttpConfig } from '../config/sections/http';
import { OperationsConfig } from '../config/sections/operations';
import { Logger } from '../logging/logger';
import { ServiceMetrics } from '../metrics/service-metrics';
import { ApiSpec } from './api-spec';
import { FrontDoor, FrontDoorRoute, RouteParams } from './front-door';
import { bearerCheck } from './inbound-auth';
import { clientProblem, HttpProblem, sendProblem } from './problem';
import { rateLimitCheck } from './rate-limit';
import { securityHeaderList, securityHeaders } from './security-headers';
import { healthRouter, HealthSource } from './routes/health';
import { infoRouter, ServiceInfo } from './routes/info';
import { rootRouter } from './routes/root';

export interface AppDeps {
    readonly config: HttpConfig & Pick<OperationsConfig, 'express_rate_limiter' | 'inbound_auth'>;
    readonly spec: ApiSpec;
    readonly frontDoors: readonly FrontDoor[];
    readonly health: HealthSource;
    readonly metrics: ServiceMetrics;
    readonly logger: Logger;
    readonly info: ServiceInfo;
}

interface RouteEntry {
    readonly door: FrontDoor;
    readonly path: string;
    readonly byMethod: Map<string, FrontDoorRoute>;
}

interface TemplateEntry extends RouteEntry {
    readonly regex: RegExp;
    readonly names: readonly string[];
}

/**
 * Builds the HTTP request listener. Every front-door route (the API proper: Echo's
 * /v1/message/*, and the other front doors' routes) is served by one node:http path, the
 * same whatever is configured: security headers, request metrics, rate limit, bearer check,
 * handler. Paths match exactly and case-sensitively: `/v1/message/fcm/` and
 * `/V1/Message/FCM` are 404s, never a second door to the same endpoint. express serves the
 * rest (health, info, the spec and its Swagger UI) and the generic 404/405.
 */
export function createRequestListener(deps: AppDeps): RequestListener {
    const { config, metrics, logger } = deps;
    const app = createExpressApp(deps);
    const headers = securityHeaderList(config.cors, config.csp);
    const auth = config.inbound_auth.secrets.length > 0 ? bearerCheck(config.inbound_auth.secrets) : undefined;
    const limit = config.express_rate_limiter ? rateLimitCheck(config.express_rate_limiter, config.trust_proxy) : undefined;

    const exact = new Map<string, RouteEntry>();
    const templated: TemplateEntry[] = [];
    for (const door of deps.frontDoors) {
        for (const route of door.routes) {
            const isTemplate = route.path.includes('{');
            let entry: RouteEntry | undefined = isTemplate ? templated.find((t) => t.path === route.path) : exact.get(route.path);
            if (!entry) {
                if (isTemplate) {
                    const names: string[] = [];
                    const source = route.path.split(/(\{[^}]+\})/).map((part) => {
                        const m = /^\{([^}]+)\}$/.exec(part);
                        if (m) {
                            names.push(m[1]);
                            return '([^/]+)';
                        }
                        return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
                    }).join('');
                    const t: TemplateEntry = { door, path: route.path, byMethod: new Map(), regex: new RegExp(`^${source}$`), names };
                    templated.push(t);
                    entry = t;
                } else {
                    entry = { door, path: route.path, byMethod: new Map() };
                    exact.set(route.path, entry);
                }
            }
            entry.byMethod.set(route.method, route);
        }
    }
    const prefixed = deps.frontDoors.filter((d) => d.prefix !== undefined);

    /** The rate limit and bearer check; true when the request may go on (else the refusal is written). */
    const admit = (door: FrontDoor, checks: { auth?: boolean; rateLimited?: boolean }, req: IncomingMessage,
        res: ServerResponse): boolean => {
        const refused = (checks.rateLimited ? limit?.(req) : undefined) ?? (checks.auth ? auth?.(req) : undefined);
        if (!refused) {
            return true;
        }
        metrics.requestsRejected.inc({ reason: refused.status === 429 ? 'rate_limited' : 'unauthorized' });
        door.reject(req, res, refused);
        return false;
    };

    return (req: IncomingMessage, res: ServerResponse): void => {
        const url = req.url ?? '';
        const q = url.indexOf('?');
        const path = q < 0 ? url : url.slice(0, q);
        let entry: RouteEntry | undefined = exact.get(path);
        let params: RouteParams = NO_PARAMS;
        if (!entry) {
            for (const t of templated) {
                const m = t.regex.exec(path);
                if (m) {
                    entry = t;
                    params = Object.fromEntries(t.names.map((n, i) => [n, m[i + 1]]));
                    break;
                }
            }
        }
        const door = entry?.door ?? prefixed.find((d) => path.startsWith(d.prefix!));
        if (!door) {
            app(req, res);
            return;
        }
        for (const [name, value] of headers) {
            res.setHeader(name, value);
        }
        countRequest(metrics, entry?.path ?? 'other', res);
        const method = req.method ?? 'GET';
        const route = entry?.byMethod.get(method) ?? (method === 'HEAD' ? entry?.byMethod.get('GET') : undefined);
        if (!route && entry && method === 'OPTIONS' && config.cors !== false) {
            // A browser's CORS preflight carries no credentials: answer it before the checks.
            answerPreflight(res, [...entry.byMethod.keys()]);
            return;
        }
        if (!admit(door, route ?? door, req, res)) {
            return;
        }
        if (route) {
            try {
                route.handle(req, res, params);
            } catch (e) {
                logger.log('error/http', e instanceof Error ? e : { msg: 'non-error thrown', err: String(e) });
                if (!res.headersSent) {
                    door.reject(req, res, new HttpProblem(500, 'Internal error; it has been logged.'));
                }
            }
            return;
        }
        if (!entry) {
            door.reject(req, res, new HttpProblem(404, 'No such route'));
            return;
        }
        const allowed = [...entry.byMethod.keys()];
        door.reject(req, res, new HttpProblem(405, `${method} is not allowed here; use ${allowed.join(', ')}`,
            { headers: { Allow: allowed.join(', ') } }));
    };
}

const NO_PARAMS: RouteParams = Object.freeze({});

/** Counts an answer by route (a spec path or 'other', never the raw URL) and status. */
function countRequest(metrics: ServiceMetrics, route: string, res: ServerResponse): void {
    const start = performance.now();
    res.once('finish', () => {
        metrics.httpRequests.inc({ route, status: String(res.statusCode) });
        metrics.httpDuration.observe({ route }, (performance.now() - start) / 1000);
    });
}

function createExpressApp(deps: AppDeps): express.Express {
    const { config, spec, metrics, logger } = deps;
    const app = express();
    app.disable('x-powered-by');
    app.disable('etag');
    // One behaviour for paths everywhere: exact and case-sensitive (see createRequestListener).
    app.set('case sensitive routing', true);
    app.set('strict routing', true);
    app.set('trust proxy', config.trust_proxy);

    app.use(securityHeaders(config.cors, config.csp));
    app.use((req: Request, res: Response, next: NextFunction) => {
        countRequest(metrics, spec.methodsByPath.has(req.path) ? req.path : 'other', res);
        next();
    });
    if (config.cors !== false) {
        app.use(corsPreflight(spec));
    }
    app.use(healthRouter(deps.health));
    app.use(infoRouter(deps.info));
    app.use(rootRouter(spec));
    app.use(notFoundOrWrongMethod(spec));
    app.use((err: unknown, req: Request, res: Response, next: NextFunction): void => {
        if (res.headersSent) {
            next(err);
            return;
        }
        const problem = clientProblem(err);
        if (problem) {
            sendProblem(req, res, problem);
            return;
        }
        logger.log('error/http', err instanceof Error ? err : { msg: 'non-error thrown', err: String(err) });
        sendProblem(req, res, new HttpProblem(500, 'Internal error; it has been logged.'));
    });
    return app;
}

/**
 * With `cors` configured, a browser asks OPTIONS before a cross-origin request; answer it for
 * the spec's paths (204 with the methods allowed) instead of the 405 it would otherwise get.
 */
function corsPreflight(spec: ApiSpec) {
    return (req: Request, res: Response, next: NextFunction): void => {
        const methods = req.method === 'OPTIONS' ? spec.methodsByPath.get(req.path) : undefined;
        if (!methods) {
            next();
            return;
        }
        answerPreflight(res, methods);
    };
}

/** 204 to a CORS preflight, with the methods the path allows (front-door and admin routes alike). */
function answerPreflight(res: ServerResponse, methods: readonly string[]): void {
    res.setHeader('access-control-allow-methods', methods.join(', '));
    res.setHeader('access-control-max-age', '600');
    res.setHeader('allow', [...methods, 'OPTIONS'].join(', '));
    res.writeHead(204).end();
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
