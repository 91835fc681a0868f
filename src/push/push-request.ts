/**
 * The domain model shared by the HTTP routes, the queue, the delivery layer and the
 * providers. Kept free of transport details.
 */
export const PROVIDER_NAMES = ['fcm', 'apns'] as const;
export type ProviderName = typeof PROVIDER_NAMES[number];

/** One accepted POST /v1/message/{provider}, as the queue receives it. */
export interface PushRequest {
    readonly provider: ProviderName;
    readonly deviceTokens: readonly string[];
    readonly messageType: string;
    /** APNs topic (bundle id); ignored for FCM. */
    readonly topic?: string;
    readonly dryRun: boolean;
}

/**
 * One provider call's worth of tokens that share everything else: same provider,
 * message type, topic and dryRun. At most `delivery.batchSize` tokens, de-duplicated.
 */
export interface Batch {
    readonly provider: ProviderName;
    readonly messageType: string;
    readonly topic?: string;
    readonly dryRun: boolean;
    readonly tokens: readonly string[];
}
