import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpProblem } from './problem';

/** Path parameters of a templated route (`/v3/notification/{device_id}`), as they appear in the path (still percent-encoded). */
export type RouteParams = Readonly<Record<string, string>>;

/**
 * One route of a front door: a method and a spec.yaml path (templates allowed), and the
 * handler. The HTTP layer runs, in this order and on one path for every route: security
 * headers, request metrics, the inbound rate limit (if configured and `rateLimited`), the
 * bearer check (if configured and `auth`), then `handle`.
 */
export interface FrontDoorRoute {
    readonly method: 'GET' | 'POST';
    readonly path: string;
    /** Subject to `inbound_auth` (Echo's /v1 routes). */
    readonly auth: boolean;
    /** Subject to `express_rate_limiter`. */
    readonly rateLimited: boolean;
    handle(req: IncomingMessage, res: ServerResponse, params: RouteParams): void;
}

/**
 * One inbound API (Echo, Matrix, MongoosePush): its routes, and how it renders a refusal in
 * its own error format (RFC 7807 for Echo, `{errcode, error}` for Matrix, ...).
 */
export interface FrontDoor {
    readonly name: string;
    readonly routes: readonly FrontDoorRoute[];
    /**
     * A path under this prefix that matches no route gets this API's 404/405, not the generic
     * one — after the same rate limit and bearer check as its routes (`auth`, `rateLimited`
     * below), so that unknown paths count against the limit and routes are not revealed to a
     * client without the secret.
     */
    readonly prefix?: string;
    /** For paths under `prefix` that match no route: subject to `inbound_auth`. */
    readonly auth?: boolean;
    /** For paths under `prefix` that match no route: subject to `express_rate_limiter`. */
    readonly rateLimited?: boolean;
    /**
     * Writes a refusal decided by the HTTP layer: 401 (bearer), 404, 405 (with `Allow` in
     * problem.extra.headers), 429 (rate limit) or 500 (a handler threw).
     */
    reject(req: IncomingMessage, res: ServerResponse, problem: HttpProblem): void;
}
