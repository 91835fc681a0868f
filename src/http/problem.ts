import type { Request, Response } from 'express';

/**
 * RFC 7807 problem details. Every error the API returns is one of these, with a fixed
 * `type` per kind of problem and a `detail` in plain words; never a stack trace or the
 * name of an internal class.
 */
const TYPE_BASE = 'https://mediawiki.org/wiki/HyperSwitch/errors/';

export const PROBLEM_KINDS = {
    400: ['bad_request', 'Bad request'],
    401: ['unauthorized', 'Unauthorized'],
    404: ['not_found', 'Not found'],
    405: ['method_not_allowed', 'Method not allowed'],
    408: ['request_timeout', 'Request timeout'],
    413: ['payload_too_large', 'Payload too large'],
    415: ['unsupported_media_type', 'Unsupported media type'],
    431: ['headers_too_large', 'Request header fields too large'],
    429: ['rate_limited', 'Too many requests'],
    500: ['internal_error', 'Internal error'],
    503: ['unavailable', 'Service unavailable']
} as const;

export type ProblemStatus = keyof typeof PROBLEM_KINDS;

/** Thrown (or passed to next()) by routes and middleware; the error handler renders it. */
export class HttpProblem extends Error {
    constructor(
        readonly status: ProblemStatus,
        readonly detail: string,
        readonly extra: { errors?: string[]; headers?: Record<string, string> } = {}
    ) {
        super(detail);
        this.name = 'HttpProblem';
    }
}

/**
 * The problem document. `method` and `uri` are left out only where no request could be
 * parsed (see client-error.ts).
 */
export function problemBody(status: ProblemStatus, detail: string, method?: string, uri?: string): Record<string, unknown> {
    const [slug, title] = PROBLEM_KINDS[status];
    const body: Record<string, unknown> = { type: TYPE_BASE + slug, title, status, detail };
    if (method !== undefined) {
        body.method = method;
        body.uri = uri;
    }
    return body;
}

export function sendProblem(req: Request, res: Response, problem: HttpProblem): void {
    const body = problemBody(problem.status, problem.detail, req.method, req.originalUrl);
    if (problem.extra.errors) {
        body.errors = problem.extra.errors;
    }
    for (const [name, value] of Object.entries(problem.extra.headers ?? {})) {
        res.setHeader(name, value);
    }
    res.status(problem.status).type('application/problem+json').send(JSON.stringify(body));
}
