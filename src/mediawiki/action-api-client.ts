import type { Dispatcher } from 'undici';
import { CookieJar } from './cookie-jar';
import { MwApiError, MwHttpError, MwNetworkError, MwNetworkFailure } from './errors';
import { parseRetryAfter } from '../util/retry-after';

/** The JSON of a successful action API reply (formatversion=2). */
export type MwResponse = Record<string, unknown>;

export interface ActionApiClientOptions {
    /** The endpoint, `mwapi_req.uri`. */
    readonly uri: string;
    /** `mwapi_req.headers`; a value '{{user-agent}}' stands for `userAgent`. */
    readonly headers: Readonly<Record<string, string>>;
    /** Wikimedia's User-Agent policy: a name plus contact details. */
    readonly userAgent: string;
    /**
     * Deadline of each call as a whole, ms: connect (through the proxy, if any), TLS, request,
     * response headers and the whole body. A call past it fails with MwNetworkError
     * (failure 'timeout'), which is retryable.
     */
    readonly timeoutMs: number;
    /** How calls leave (egress/undici-dispatcher.ts: the proxy, the Host header, per-step deadlines), made on first use. */
    readonly dispatcher?: () => Dispatcher;
    /** Seconds per call, labelled by the API action (login, query, echopushsubscriptions). */
    readonly observeDuration?: (action: string, seconds: number) => void;
    /**
     * A call that got no usable answer: its deadline passed ('timeout'), the network failed
     * ('network'), or a non-2xx or non-JSON answer ('http'). Not called for the API's own
     * error answers, nor for calls aborted by close().
     */
    readonly observeFailure?: (action: string, reason: 'timeout' | 'network' | 'http') => void;
    readonly fetch?: typeof fetch;
    readonly now?: () => number;
}

/**
 * One HTTP exchange with the action API: JSON format, the session's cookies, the
 * User-Agent, a deadline on the whole exchange (`timeoutMs`, body read included). It knows
 * nothing about logins or tokens (see MwSession); each login step and the CSRF token fetch
 * is one such call, so each is bounded too. Errors come out as MwError subclasses; none of
 * them carries the request's parameters.
 */
export class ActionApiClient {
    readonly cookies: CookieJar;
    private readonly headers: Record<string, string>;
    private readonly fetchImpl: typeof fetch;
    private readonly now: () => number;
    private readonly closing = new AbortController();

    constructor(private readonly options: ActionApiClientOptions) {
        this.fetchImpl = options.fetch ?? fetch;
        this.now = options.now ?? Date.now;
        this.cookies = new CookieJar(this.now);
        this.headers = buildHeaders(options.headers, options.userAgent);
    }

    get uri(): string {
        return this.options.uri;
    }

    async get(params: Readonly<Record<string, string>>): Promise<MwResponse> {
        return this.request('GET', params);
    }

    /** POSTs a form: secrets and device tokens go in the body, never in the URL. */
    async post(params: Readonly<Record<string, string>>): Promise<MwResponse> {
        return this.request('POST', params);
    }

    /** Aborts calls in flight (on shutdown). */
    close(): void {
        this.closing.abort();
    }

    private async request(method: 'GET' | 'POST', params: Readonly<Record<string, string>>): Promise<MwResponse> {
        const action = params.action ?? 'unknown';
        const form = new URLSearchParams({ ...params, format: 'json', formatversion: '2' });
        const url = new URL(this.options.uri);
        const headers: Record<string, string> = { ...this.headers };
        const cookie = this.cookies.header();
        if (cookie) {
            headers.cookie = cookie;
        }
        let body: string | undefined;
        if (method === 'GET') {
            for (const [k, v] of form) {
                url.searchParams.append(k, v);
            }
        } else {
            headers['content-type'] = 'application/x-www-form-urlencoded';
            body = form.toString();
        }

        const started = performance.now();
        let res: Response;
        let text: string;
        try {
            const init: RequestInit & { dispatcher?: Dispatcher } = {
                method,
                headers,
                body,
                redirect: 'error',
                signal: AbortSignal.any([AbortSignal.timeout(this.options.timeoutMs), this.closing.signal])
            };
            if (this.options.dispatcher) {
                init.dispatcher = this.options.dispatcher();
            }
            // The signal bounds the body read too: a wiki that sends headers and stalls
            // mid-body fails here at the deadline.
            res = await this.fetchImpl(url, init);
            text = await res.text();
        } catch (e) {
            const { failure, reason } = describeFetchError(e, this.options.timeoutMs, this.closing.signal.aborted);
            if (failure !== 'closing') {
                this.options.observeFailure?.(action, failure);
            }
            throw new MwNetworkError(action, reason, failure);
        } finally {
            this.options.observeDuration?.(action, (performance.now() - started) / 1000);
        }
        // Keep cookies from every answer, errors included: MediaWiki may rotate the session.
        this.cookies.store(res.headers.getSetCookie());
        const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), this.now());

        if (!res.ok) {
            this.options.observeFailure?.(action, 'http');
            throw new MwHttpError(action, res.status, retryAfterMs);
        }
        let json: unknown;
        try {
            json = JSON.parse(text);
        } catch {
            json = undefined;
        }
        if (!json || typeof json !== 'object') {
            // An HTML error page with a 200 (a cache or proxy in the way): treat as a server fault.
            this.options.observeFailure?.(action, 'http');
            throw new MwHttpError(action, res.status, retryAfterMs);
        }
        const error = (json as { error?: { code?: unknown; info?: unknown } }).error;
        if (error) {
            const code = typeof error.code === 'string' ? error.code : 'unknown';
            const info = typeof error.info === 'string' ? error.info : '';
            throw new MwApiError(action, code, info, retryAfterMs);
        }
        return json as MwResponse;
    }
}

function buildHeaders(configured: Readonly<Record<string, string>>, userAgent: string): Record<string, string> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(configured)) {
        if (name.toLowerCase() === 'host') {
            continue; // fetch drops it; the dispatcher sets it (egress/undici-dispatcher.ts)
        }
        headers[name.toLowerCase()] = value.replace(/\{\{\s*user-agent\s*\}\}/g, userAgent);
    }
    // Our own User-Agent unless the config sets one; never fetch's anonymous default.
    headers['user-agent'] ??= userAgent;
    headers.accept = 'application/json';
    return headers;
}

/** undici's own step deadlines (egress/undici-dispatcher.ts) and the OS's: all are timeouts. */
const TIMEOUT_CODES: ReadonlySet<string> = new Set([
    'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT'
]);

function describeFetchError(e: unknown, timeoutMs: number, closing: boolean): { failure: MwNetworkFailure; reason: string } {
    const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
    if (closing) {
        return { failure: 'closing', reason: 'aborted (closing)' };
    }
    if (err.name === 'TimeoutError' || TIMEOUT_CODES.has(err.cause?.code ?? '')) {
        return { failure: 'timeout', reason: `timed out after ${timeoutMs} ms` };
    }
    return { failure: 'network', reason: err.cause?.code ?? err.cause?.message ?? err.message ?? 'network error' };
}
