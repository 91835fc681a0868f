import { ServiceConfig } from '../config/service-config';
import { Logger } from '../logging/logger';
import { MwApiError, MwHttpError, MwLoginError, MwNetworkError } from '../mediawiki/errors';
import { openWikiSession } from '../mediawiki/wiki-session';
import { CheckLine } from '../providers/provider-check';
import { errorMessage } from '../util/errors';

/**
 * Checks the wiki account the service deletes dead subscriptions with: logs in with the
 * configured method and gets a CSRF token, through the service's own clients (the action
 * API client with its deadline, the egress dispatcher with the proxy and Host header rules,
 * MwSession's login), from openWikiSession as the service's cleanup gets them. Nothing is written:
 * no delete call is made. Whether the account holds the `manage-all-push-subscriptions`
 * right is not checked (only a delete would show it).
 */
export async function checkWiki(config: ServiceConfig, logger: Logger): Promise<CheckLine[]> {
    if (config.mediawiki.mock) {
        return [{ status: 'skip', step: 'login', detail: 'mediawiki.mock is true: there is no wiki to check (development only)' }];
    }
    const username = config.mw_subscription_manager_username;
    const password = config.mw_subscription_manager_password;
    if (!username || !password) {
        return [{
            status: 'fail', step: 'login',
            detail: 'no mw_subscription_manager_username and password (mw_subscription_manager_password, _password_file or MW_SUBSCRIPTION_MANAGER_PASSWORD): dead subscriptions would never be deleted'
        }];
    }
    const wiki = openWikiSession({ config, logger, credentials: { username, password } });
    const uri = wiki.uri;
    const method = `action=${config.mediawiki.loginMethod}`;
    try {
        await wiki.session.ensureLoggedIn();
        return [{ status: 'ok', step: 'login', detail: `logged in to ${uri} as ${username} (${method}) and got a CSRF token; nothing was written` }];
    } catch (e) {
        return [{ status: 'fail', step: 'login', detail: describeWikiError(e, uri, username, method) }];
    } finally {
        await wiki.close().catch(() => undefined);
    }
}

/** Plain words for what went wrong logging in (the errors never carry the password). */
export function describeWikiError(e: unknown, uri: string, username: string, method: string): string {
    if (e instanceof MwLoginError) {
        if (e.result === 'anonymous') {
            return `logged in to ${uri} as ${username}, but the CSRF token is the anonymous one: the session cookie did not stick (a proxy or Host header in the way?)`;
        }
        if (e.result === 'notoken') {
            return `${uri} gave no token (${e.message}): is it a MediaWiki action API?`;
        }
        const hint = method === 'action=login' ? ' (action=login takes a bot password: User@BotName and its password, from Special:BotPasswords)' : '';
        const said = e.message.replace(/^MediaWiki login failed: /, '').replace(/^(\w+) \((.*)\)$/, '$1: $2');
        return `${uri} refused the login of ${username} (${said}); check the username and password${hint}`;
    }
    if (e instanceof MwNetworkError) {
        return `no answer from ${uri}: ${e.message.replace(/^MediaWiki \w+: /, '')}`;
    }
    if (e instanceof MwHttpError) {
        return `${uri} answered HTTP ${e.status}, not the action API's JSON: check mwapi_req.uri (and the proxy)`;
    }
    if (e instanceof MwApiError) {
        return `${uri} answered the API error ${e.code} (${e.message})`;
    }
    return `${uri}: ${errorMessage(e)}`;
}
