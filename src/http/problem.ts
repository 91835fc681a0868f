import type { IncomingMessage, ServerResponse } from 'node:http';

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

/**
 * Writes the problem. Plain node:http types, so the hot path (which bypasses express) and
 * express's error handler render problems the same way.
 */
export function sendProblem(req: IncomingMessage & { originalUrl?: string }, res: ServerResponse, problem: HttpProblem): void {
    const body = problemBody(problem.status, problem.detail, req.method, req.originalUrl ?? req.url);
    if (problem.extra.errors) {
        body.errors = problem.extra.errors;
    }
    for (const [name, value] of Object.entries(problem.extra.headers ?? {})) {
        res.setHeader(name, value);
    }
    const json = JSON.stringify(body);
    res.statusCode = problem.status;
    res.setHeader('content-type', 'application/problem+json; charset=utf-8');
    res.setHeader('content-length', Buffer.byteLength(json));
    res.end(json);
}

/** What body-parser and express's own errors (by `type`) mean for the client. */
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

/**
 * The client's mistake behind an error thrown by a library (body-parser, express), as a
 * problem; undefined when the error is ours (a 5xx, to be logged).
 */
export function clientProblem(err: unknown): HttpProblem | undefined {
    if (err instanceof HttpProblem) {
        return err;
    }
    const e = (err ?? {}) as { status?: number; statusCode?: number; type?: string };
    const known = e.type ? BODY_ERRORS[e.type] : undefined;
    if (known) {
        return new HttpProblem(known[0], known[1]);
    }
    const status = e.status ?? e.statusCode;
    if (status && status >= 400 && status < 500) {
        const s = (status in PROBLEM_KINDS ? status : 400) as ProblemStatus;
        return new HttpProblem(s, PROBLEM_KINDS[s][1]);
    }
    return undefined;
}
