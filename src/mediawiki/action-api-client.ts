import type { Dispatcher } from 'undici';
import { CookieJar } from './cookie-jar';
import { MwApiError, MwHttpError, MwNetworkError } from './errors';
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
    readonly timeoutMs: number;
    /** The egress proxy, when there is one (see egressDispatcher). */
    readonly dispatcher?: Dispatcher;
    /** Seconds per call, labelled by the API action (login, query, echopushsubscriptions). */
    readonly observeDuration?: (action: string, seconds: number) => void;
    readonly fetch?: typeof fetch;
    readonly now?: () => number;
}

/**
 * One HTTP exchange with the action API: JSON format, the session's cookies, the
 * User-Agent, a timeout. It knows nothing about logins or tokens (see MwSession). Errors
 * come out as MwError subclasses; none of them carries the request's parameters.
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
                init.dispatcher = this.options.dispatcher;
            }
            res = await this.fetchImpl(url, init);
            text = await res.text();
        } catch (e) {
            throw new MwNetworkError(action, describeFetchError(e, this.options.timeoutMs));
        } finally {
            this.options.observeDuration?.(action, (performance.now() - started) / 1000);
        }
        // Keep cookies from every answer, errors included: MediaWiki may rotate the session.
        this.cookies.store(res.headers.getSetCookie());
        const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), this.now());

        if (!res.ok) {
            throw new MwHttpError(action, res.status, retryAfterMs);
        }
        let json: unknown;
        try {
            json = JSON.parse(text);
        } catch {
            // An HTML error page with a 200 (a cache or proxy in the way): treat as a server fault.
            throw new MwHttpError(action, res.status, retryAfterMs);
        }
        if (!json || typeof json !== 'object') {
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
            continue; // fetch drops it; the dispatcher sets it (see egressDispatcher)
        }
        headers[name.toLowerCase()] = value.replace(/\{\{\s*user-agent\s*\}\}/g, userAgent);
    }
    // Our own User-Agent unless the config sets one; never fetch's anonymous default.
    headers['user-agent'] ??= userAgent;
    headers.accept = 'application/json';
    return headers;
}

function describeFetchError(e: unknown, timeoutMs: number): string {
    const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
    if (err.name === 'TimeoutError') {
        return `timed out after ${timeoutMs} ms`;
    }
    if (err.name === 'AbortError') {
        return 'aborted (closing)';
    }
    return err.cause?.code ?? err.cause?.message ?? err.message ?? 'network error';
}
