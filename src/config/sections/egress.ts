/**
 * Config for everything that leaves the service: the User-Agent we announce and the
 * HTTP CONNECT proxy that, in Wikimedia production, is the only way to Google and Apple.
 */
export interface EgressConfig {
    /** User-Agent for MediaWiki and provider calls: a name plus contact details (Wikimedia UA policy). */
    readonly user_agent: string;
    /** URL of the HTTP CONNECT proxy for all egress (FCM, Google OAuth, APNs, MediaWiki). */
    readonly proxy?: string;
    /** Host names (or `.suffix` domains) reached directly, never through `proxy`. */
    readonly no_proxy_list: readonly string[];
}

export const DEFAULT_USER_AGENT =
    'WikimediaPushNotifications/1.0 (https://www.mediawiki.org/wiki/Wikimedia_Product_Infrastructure_team/Push_Notifications_Infrastructure)';

export const egressSchema = {
    user_agent: { type: 'string', minLength: 1, default: DEFAULT_USER_AGENT },
    proxy: { type: 'string', pattern: '^https?://[^\\s]+$' },
    no_proxy_list: { type: 'array', items: { type: 'string', minLength: 1 }, default: [] }
} as const;
