import * as http from 'node:http';
import * as https from 'node:https';

/** An HTTP answer, read in full. */
export interface HttpAnswer {
    readonly status: number;
    readonly headers: http.IncomingHttpHeaders;
    /** The body as UTF-8 text; empty for a 2xx unless `keepSuccessBody`; cut at `maxBodyBytes`. */
    readonly body: string;
}

/** The request's total deadline passed before its answer was read in full. */
export class RequestDeadlineError extends Error {
    readonly code = 'EDEADLINE';

    constructor(readonly deadlineMs: number) {
        super(`no complete answer within ${deadlineMs} ms`);
        this.name = 'RequestDeadlineError';
    }
}

/** Where a request goes: a URL taken apart once (FCM sends thousands of requests to one). */
export interface RequestTarget {
    readonly secure: boolean;
    readonly protocol: string;
    readonly hostname: string;
    readonly port: number;
    /** Path and query. */
    readonly path: string;
}

export function requestTarget(url: URL): RequestTarget {
    const secure = url.protocol === 'https:';
    return {
        secure,
        protocol: url.protocol,
        hostname: url.hostname,
        port: url.port ? Number(url.port) : secure ? 443 : 80,
        path: `${url.pathname}${url.search}`
    };
}

export interface DeadlineRequestOptions {
    readonly target: RequestTarget;
    readonly method: 'POST' | 'GET';
    readonly headers: http.OutgoingHttpHeaders;
    readonly body?: string;
    /** The agent for https targets (keep-alive, proxy); plain http goes without one. */
    readonly agent?: http.Agent;
    /**
     * Milliseconds for everything: waiting for a pooled socket, connect, proxy CONNECT, TLS,
     * writing, and reading the whole answer. Past it the request is destroyed (and with it
     * its socket, so the agent's pool slot is freed) and the promise rejects with
     * RequestDeadlineError.
     */
    readonly deadlineMs: number;
    /** Keep a 2xx body (the OAuth answer); FCM's success body is drained unread. */
    readonly keepSuccessBody?: boolean;
    /** Longest body kept, in bytes (the rest is drained); default 64 KiB. */
    readonly maxBodyBytes?: number;
    /**
     * True once the owner is closing (it destroys its agent's sockets): a request that then
     * fails is not sent again.
     */
    readonly cancelled?: () => boolean;
}

const DEFAULT_MAX_BODY = 64 * 1024;

/**
 * One HTTP request with a total deadline (issue 11 §3: no outbound step waits without a
 * bound; Node's own `timeout` option is an idle timer on the socket, which a peer that
 * trickles bytes, or a proxy that never answers CONNECT, never trips).
 *
 * A keep-alive socket that the far side closed while it sat in the pool fails the next
 * request with ECONNRESET (or EPIPE) before any answer: Node's documented race
 * (`request.reusedSocket`). Such a request never reached the server, so it is sent once more
 * at once, on another socket, within the same deadline. Any other failure rejects with the
 * socket's error.
 */
export function requestWithDeadline(o: DeadlineRequestOptions): Promise<HttpAnswer> {
    return new Promise((resolve, reject) => {
        let settled = false;
        let req: http.ClientRequest | undefined;
        const finish = (error: Error | undefined, answer?: HttpAnswer): void => {
            if (settled) {
                return;
            }
            settled = true;
            clearTimeout(timer);
            if (error) {
                req?.destroy();
                reject(error);
            } else {
                resolve(answer!);
            }
        };
        const timer = setTimeout(() => finish(new RequestDeadlineError(o.deadlineMs)), o.deadlineMs);
        const t = o.target;
        const start = (isRetry: boolean): void => {
            let answered = false;
            const r = (t.secure ? https : http).request({
                method: o.method,
                protocol: t.protocol,
                hostname: t.hostname,
                port: t.port,
                path: t.path,
                headers: o.headers,
                agent: t.secure ? o.agent : undefined
            }, (res) => {
                answered = true;
                readAnswer(res, o, finish);
            });
            req = r;
            r.on('error', (e: NodeJS.ErrnoException) => {
                if (settled || req !== r) {
                    return;
                }
                if (!isRetry && !answered && r.reusedSocket && (e.code === 'ECONNRESET' || e.code === 'EPIPE') && !o.cancelled?.()) {
                    start(true);
                    return;
                }
                finish(e);
            });
            r.end(o.body);
        };
        start(false);
    });
}

function readAnswer(res: http.IncomingMessage, o: DeadlineRequestOptions,
    finish: (error: Error | undefined, answer?: HttpAnswer) => void): void {
    const status = res.statusCode ?? 0;
    const keep = o.keepSuccessBody || status < 200 || status >= 300;
    const max = o.maxBodyBytes ?? DEFAULT_MAX_BODY;
    const chunks: Buffer[] = [];
    let kept = 0;
    let ended = false;
    if (keep) {
        res.on('data', (c: Buffer) => {
            if (kept < max) {
                chunks.push(kept + c.length > max ? c.subarray(0, max - kept) : c);
                kept += c.length;
            }
        });
    } else {
        res.resume();
    }
    res.on('end', () => {
        ended = true;
        finish(undefined, { status, headers: res.headers, body: keep ? Buffer.concat(chunks).toString('utf8') : '' });
    });
    res.on('error', (e) => finish(e));
    res.on('close', () => {
        if (!ended) {
            finish(Object.assign(new Error('the connection closed before the answer was complete'), { code: 'ECONNRESET' }));
        }
    });
}
