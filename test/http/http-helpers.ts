import assert from 'node:assert/strict';

/** Small helpers shared by the HTTP-surface tests (bad input, fuzzing, auth, headers, leaks). */
export interface Sent {
    readonly status: number;
    readonly headers: Headers;
    readonly text: string;
}

export interface ToSend {
    readonly method?: string;
    readonly path: string;
    readonly headers?: Record<string, string>;
    /** A string or bytes are sent as they are; fetch adds no content-type for bytes. */
    readonly body?: string | Uint8Array;
}

export async function send(baseUrl: string, r: ToSend): Promise<Sent> {
    const res = await fetch(baseUrl + r.path, {
        method: r.method ?? 'POST',
        headers: r.headers,
        body: r.body,
        redirect: 'manual'
    });
    return { status: res.status, headers: res.headers, text: await res.text() };
}

export const JSON_HEADERS = { 'content-type': 'application/json' } as const;

export const PROBLEM_TITLES: Record<number, string> = {
    400: 'Bad request', 401: 'Unauthorized', 404: 'Not found', 405: 'Method not allowed',
    413: 'Payload too large', 415: 'Unsupported media type', 429: 'Too many requests'
};

/** Signs that an internal error, stack trace or class name reached the client. */
const INTERNALS = [/Error:/, /\bat [\w.<>]+ \(/, /\n\s+at /, /\\n\s+at /, /HttpProblem/, /SyntaxError/, /TypeError/,
    /RangeError/, /node_modules/, /\.ts:\d+/, /\.js:\d+/];

export function assertNoInternals(text: string, where: string): void {
    for (const re of INTERNALS) {
        assert.doesNotMatch(text, re, `${where}: response leaks internals (${re}): ${text.slice(0, 300)}`);
    }
}

export interface ProblemExpectation {
    readonly status: number;
    readonly detail?: RegExp;
    readonly method: string;
    readonly uri: string;
}

/** The response is an RFC 7807 problem with every field the service promises. */
export function assertProblem(res: Sent, want: ProblemExpectation, where: string): Record<string, unknown> {
    assert.equal(res.status, want.status, `${where}: status; body: ${res.text.slice(0, 300)}`);
    assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json\b/, `${where}: content-type`);
    const body = JSON.parse(res.text) as Record<string, unknown>;
    assert.match(String(body.type), /^https:\/\/.+\/[a-z_]+$/, `${where}: type`);
    assert.equal(body.title, PROBLEM_TITLES[want.status], `${where}: title`);
    assert.equal(body.status, want.status, `${where}: body status`);
    assert.equal(typeof body.detail, 'string', `${where}: detail`);
    if (want.detail) {
        assert.match(String(body.detail), want.detail, `${where}: detail`);
    }
    assert.equal(body.method, want.method, `${where}: method`);
    assert.equal(body.uri, want.uri, `${where}: uri`);
    assertNoInternals(res.text, where);
    return body;
}
