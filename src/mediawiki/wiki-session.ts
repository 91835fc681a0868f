import type { ServiceConfig } from '../config/service-config';
import { egressDispatcher } from '../egress/undici-dispatcher';
import type { Logger } from '../logging/logger';
import type { ServiceMetrics } from '../metrics/service-metrics';
import { ActionApiClient } from './action-api-client';
import { MwCredentials, MwSession } from './mw-session';

export interface WikiSessionOptions {
    readonly config: ServiceConfig;
    readonly logger: Logger;
    readonly credentials: MwCredentials;
    /** Counts calls, failures and logins (mw_* metrics); left out by the `check` CLI. */
    readonly metrics?: ServiceMetrics;
    /** Overrides `mwapi_req.uri`, e.g. with a local fake wiki's address in dev mode. */
    readonly apiUri?: string;
    /** For tests. */
    readonly fetch?: typeof fetch;
}

/** A session on the wiki's action API (it logs in on its first call), and how to close it. */
export interface WikiSession {
    /** The action API address (`apiUri` or `mwapi_req.uri`). */
    readonly uri: string;
    /** The `Host` header from `mwapi_req.headers`, if any (sent below fetch, which drops it). */
    readonly hostHeader: string | undefined;
    readonly session: MwSession;
    /** Aborts calls in flight and closes the egress dispatcher's sockets. */
    close(): Promise<void>;
}

/**
 * Wires the action API client to the wiki as the service and the `check` CLI both use it:
 * the egress dispatcher (proxy and Host header rules, `mediawiki.requestTimeoutMs` as the
 * deadline), `mwapi_req.headers`, the `user_agent`, and an MwSession with the configured
 * login method and maxlag. Nothing is sent until the session's first call.
 */
export function openWikiSession(options: WikiSessionOptions): WikiSession {
    const { config, metrics } = options;
    const uri = options.apiUri ?? config.mwapi_req.uri;
    const hostHeader = Object.entries(config.mwapi_req.headers).find(([name]) => name.toLowerCase() === 'host')?.[1];
    const timeoutMs = config.mediawiki.requestTimeoutMs;
    const dispatcher = egressDispatcher(uri, config, { hostHeader, timeoutMs });
    const client = new ActionApiClient({
        uri,
        headers: config.mwapi_req.headers,
        userAgent: config.user_agent,
        timeoutMs,
        dispatcher: () => dispatcher.get(),
        fetch: options.fetch,
        observeDuration: metrics && ((action, seconds) => metrics.mwDuration.observe({ action }, seconds)),
        observeFailure: metrics && ((action, reason) => metrics.mwFailures.inc({ action, reason }))
    });
    const session = new MwSession({
        client,
        credentials: options.credentials,
        loginMethod: config.mediawiki.loginMethod,
        maxlag: config.mediawiki.maxlag,
        logger: options.logger,
        countLogin: metrics && ((result) => metrics.mwLogins.inc({ result }))
    });
    return {
        uri,
        hostHeader,
        session,
        async close() {
            client.close();
            await dispatcher.close();
        }
    };
}
