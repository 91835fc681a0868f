import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import { RateLimiterConfig } from '../config/sections/operations';
import { Logger } from '../logging/logger';
import { ServiceMetrics } from '../metrics/service-metrics';
import { HttpProblem, sendProblem } from './problem';

/**
 * Inbound rate limit per client (the original's `express_rate_limiter: {windowMs, max}`),
 * with express-rate-limit's in-memory fixed window, keyed by the client address (req.ip).
 * Over the limit: 429 problem+json with Retry-After (seconds to the end of the window).
 *
 * The limit is per worker process: with num_workers N, a client may send up to N * max.
 */
export function inboundRateLimit(config: RateLimiterConfig, logger: Logger, metrics: ServiceMetrics): RequestHandler {
    const tooMany = new HttpProblem(429, `More than ${config.max} requests in ${config.windowMs} ms; retry after Retry-After seconds`);
    return rateLimit({
        windowMs: config.windowMs,
        limit: config.max,
        // Retry-After is set by the library on a 429; the RateLimit-* draft headers are left out
        // to keep the accept path's responses as they were.
        standardHeaders: false,
        legacyHeaders: false,
        handler: (req: Request, res: Response, _next: NextFunction) => {
            metrics.requestsRejected.inc({ reason: 'rate_limited' });
            res.setHeader('Retry-After', String(Math.max(1, Math.ceil(retryAfterMs(req, config.windowMs) / 1000))));
            sendProblem(req, res, tooMany);
        },
        logger: {
            warn: (error: unknown, message?: string) =>
                logger.log('warn/http', { msg: `rate limiter: ${message ?? ''}`, err: String(error) }),
            error: (error: unknown, message?: string) =>
                logger.log('error/http', { msg: `rate limiter: ${message ?? ''}`, err: String(error) })
        }
    });
}

/** express-rate-limit puts the window's reset time on req.rateLimit. */
function retryAfterMs(req: Request, windowMs: number): number {
    const reset = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
    return reset ? reset.getTime() - Date.now() : windowMs;
}
