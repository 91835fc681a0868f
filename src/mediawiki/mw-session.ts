import type { Logger } from '../logging/logger';
import { ActionApiClient, MwResponse } from './action-api-client';
import { MwApiError, MwLoginError, SESSION_ERROR_CODES } from './errors';

export interface MwCredentials {
    /** A bot password's 'User@BotName', or the account name for clientlogin. */
    readonly username: string;
    readonly password: string;
}

export interface MwSessionOptions {
    readonly client: ActionApiClient;
    readonly credentials: MwCredentials;
    readonly loginMethod: 'login' | 'clientlogin';
    /** Sent with writes, so a lagging wiki tells us to back off. */
    readonly maxlag?: number;
    readonly logger: Logger;
    readonly countLogin?: (result: 'success' | 'failed' | 'error') => void;
}

/** What the anonymous user gets from meta=tokens: a sign we are not logged in. */
const ANONYMOUS_CSRF = '+\\';

/**
 * The logged-in session of the subscription manager: logs in on first use, caches the
 * CSRF token, and on a session error (badtoken, notloggedin, assertuserfailed) logs in
 * again once and retries. Writes carry `assert=user`, so an expired session can never
 * turn into an anonymous write.
 */
export class MwSession {
    private csrfToken?: string;
    /** One login at a time: concurrent writes share it instead of racing to log in. */
    private loggingIn?: Promise<string>;

    constructor(private readonly options: MwSessionOptions) {}

    /** POSTs a write with the CSRF token, assert=user and maxlag. */
    async write(params: Readonly<Record<string, string>>): Promise<MwResponse> {
        const token = await this.token();
        try {
            return await this.options.client.post(this.writeParams(params, token));
        } catch (e) {
            if (!(e instanceof MwApiError) || !SESSION_ERROR_CODES.has(e.code)) {
                throw e;
            }
            this.options.logger.log('info/mediawiki', { msg: 'MediaWiki session lost; logging in again', code: e.code });
            const fresh = await this.relogin(token);
            return await this.options.client.post(this.writeParams(params, fresh));
        }
    }

    /**
     * Logs in (unless already logged in) and gets the CSRF token, writing nothing: what
     * `npm run check` asks of the wiki.
     * @throws MwLoginError (refused, or the session stayed anonymous), MwApiError, MwHttpError, MwNetworkError
     */
    async ensureLoggedIn(): Promise<void> {
        await this.token();
    }

    /** Forgets the session (cookies and token); the next write logs in. */
    reset(): void {
        this.csrfToken = undefined;
        this.options.client.cookies.clear();
    }

    private writeParams(params: Readonly<Record<string, string>>, token: string): Record<string, string> {
        const p: Record<string, string> = { ...params, assert: 'user', token };
        if (this.options.maxlag !== undefined) {
            p.maxlag = String(this.options.maxlag);
        }
        return p;
    }

    private async token(): Promise<string> {
        return this.csrfToken ?? this.login();
    }

    /** Logs in again unless another caller already did since `staleToken` failed. */
    private async relogin(staleToken: string): Promise<string> {
        if (this.csrfToken && this.csrfToken !== staleToken) {
            return this.csrfToken;
        }
        this.csrfToken = undefined;
        return this.login();
    }

    private login(): Promise<string> {
        this.loggingIn ??= this.doLogin().finally(() => {
            this.loggingIn = undefined;
        });
        return this.loggingIn;
    }

    private async doLogin(): Promise<string> {
        const { client, credentials, loginMethod, logger } = this.options;
        // A fresh session: stale cookies would make the login token belong to a dead session.
        client.cookies.clear();
        try {
            const loginToken = tokenFrom(await client.get({ action: 'query', meta: 'tokens', type: 'login' }), 'logintoken');
            if (loginMethod === 'clientlogin') {
                const r = await client.post({
                    action: 'clientlogin',
                    username: credentials.username,
                    password: credentials.password,
                    logintoken: loginToken,
                    // Required by the API; never followed, since we do not do redirect flows.
                    loginreturnurl: new URL('/', client.uri).toString()
                });
                const cl = (r.clientlogin ?? {}) as { status?: string; message?: string; messagecode?: string };
                if (cl.status !== 'PASS') {
                    throw new MwLoginError(cl.status ?? 'unknown', cl.messagecode ?? cl.message);
                }
            } else {
                const r = await client.post({
                    action: 'login',
                    lgname: credentials.username,
                    lgpassword: credentials.password,
                    lgtoken: loginToken
                });
                const lg = (r.login ?? {}) as { result?: string; reason?: string | { code?: string } };
                if (lg.result !== 'Success') {
                    const reason = typeof lg.reason === 'string' ? lg.reason : lg.reason?.code;
                    throw new MwLoginError(lg.result ?? 'unknown', reason);
                }
            }
            const csrf = tokenFrom(await client.get({ action: 'query', meta: 'tokens', type: 'csrf' }), 'csrftoken');
            if (csrf === ANONYMOUS_CSRF) {
                throw new MwLoginError('anonymous', 'logged in, but the session is anonymous (cookies lost?)');
            }
            this.csrfToken = csrf;
            this.options.countLogin?.('success');
            logger.log('info/mediawiki', { msg: 'Logged in to MediaWiki', method: loginMethod, user: credentials.username });
            return csrf;
        } catch (e) {
            this.options.countLogin?.(e instanceof MwLoginError ? 'failed' : 'error');
            logger.log(e instanceof MwLoginError ? 'error/mediawiki' : 'warn/mediawiki', {
                msg: 'MediaWiki login failed', method: loginMethod, user: credentials.username, err: (e as Error).message
            });
            throw e;
        }
    }
}

function tokenFrom(r: MwResponse, name: 'logintoken' | 'csrftoken'): string {
    const tokens = (r.query as { tokens?: Record<string, unknown> } | undefined)?.tokens;
    const token = tokens?.[name];
    if (typeof token !== 'string' || token === '') {
        throw new MwLoginError('notoken', `no ${name} in the meta=tokens answer`);
    }
    return token;
}
