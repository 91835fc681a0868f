import { createHmac, randomBytes } from 'node:crypto';
import { Clock, systemClock } from '../../util/clock';

/**
 * A bounded, expiring memory of recently taken `(pushkey, event_id)` pairs, for the Push
 * Gateway API's duplicate rule ("event_id ... should be used to detect duplicate notification
 * requests", Matrix spec, push-gateway-api.md): a homeserver re-sends a notification when our
 * 200 did not reach it in time (Synapse gives up waiting after 60 s and retries); the second
 * copy must not alert the user twice. Sygnal keeps no state and sends it again.
 *
 * Keys are HMAC-SHA-256 of the pair under a random per-process key, cut to 128 bits: the
 * memory never holds a pushkey (which is a credential to push to someone), and a key cannot
 * be tested against a guessed pushkey outside this process. Entries expire `windowMs` after
 * they were (last) remembered; past `maxEntries`, the oldest go first. Both bound the memory
 * (about 100 bytes an entry).
 *
 * Notifications without an `event_id` (badge-only updates) are idempotent and never
 * de-duplicated: `isDuplicate` answers false and `remember` does nothing.
 *
 * Remember a pair only once the notification is taken (answered 200): a notification that
 * was refused (5xx, queue full) comes back as a retry that must go through.
 */
export interface RecentNotificationsOptions {
    /** How long a pair is remembered, ms (default 10 minutes: well past Synapse's 60 s timeout and first retries). */
    readonly windowMs?: number;
    /** Most pairs held (default 100 000). */
    readonly maxEntries?: number;
    readonly clock?: Clock;
}

export const DEFAULT_DEDUPE_WINDOW_MS = 10 * 60 * 1000;
export const DEFAULT_DEDUPE_MAX_ENTRIES = 100_000;

export class RecentNotifications {
    private readonly windowMs: number;
    private readonly maxEntries: number;
    private readonly clock: Clock;
    private readonly secret = randomBytes(32);
    /** key -> expiry (ms). Insertion order is expiry order: the window is the same for all. */
    private readonly entries = new Map<string, number>();

    constructor(options: RecentNotificationsOptions = {}) {
        this.windowMs = options.windowMs ?? DEFAULT_DEDUPE_WINDOW_MS;
        this.maxEntries = options.maxEntries ?? DEFAULT_DEDUPE_MAX_ENTRIES;
        this.clock = options.clock ?? systemClock;
        if (!(this.windowMs > 0) || !(this.maxEntries >= 1)) {
            throw new RangeError('RecentNotifications: windowMs must be > 0 and maxEntries >= 1');
        }
    }

    /** True when this pair was remembered less than `windowMs` ago. */
    isDuplicate(pushkey: string, eventId: string | undefined): boolean {
        if (!eventId) {
            return false;
        }
        const now = this.clock.now();
        this.expire(now);
        const expiry = this.entries.get(this.key(pushkey, eventId));
        return expiry !== undefined && expiry > now;
    }

    /** Remembers the pair for `windowMs` from now (again, if it was already remembered). */
    remember(pushkey: string, eventId: string | undefined): void {
        if (!eventId) {
            return;
        }
        const now = this.clock.now();
        this.expire(now);
        const key = this.key(pushkey, eventId);
        this.entries.delete(key);
        this.entries.set(key, now + this.windowMs);
        while (this.entries.size > this.maxEntries) {
            this.entries.delete(this.entries.keys().next().value as string);
        }
    }

    /**
     * `isDuplicate`, then `remember` when it was not: true means "already taken, do not send".
     * For callers that take every notification they see.
     */
    checkAndRemember(pushkey: string, eventId: string | undefined): boolean {
        if (this.isDuplicate(pushkey, eventId)) {
            return true;
        }
        this.remember(pushkey, eventId);
        return false;
    }

    /** Forgets the pair (e.g. the notification could not be taken after all). */
    forget(pushkey: string, eventId: string | undefined): void {
        if (eventId) {
            this.entries.delete(this.key(pushkey, eventId));
        }
    }

    /** Pairs held now (expired ones not yet swept may be counted). */
    get size(): number {
        return this.entries.size;
    }

    private key(pushkey: string, eventId: string): string {
        // Length-prefixed, so that no two different pairs give the same input.
        return createHmac('sha256', this.secret)
            .update(`${pushkey.length}:${pushkey}\n${eventId}`)
            .digest()
            .subarray(0, 16)
            .toString('base64');
    }

    /** Drops expired entries from the front (the oldest); amortised O(1) per call. */
    private expire(now: number): void {
        for (const [key, expiry] of this.entries) {
            if (expiry > now) {
                break;
            }
            this.entries.delete(key);
        }
    }
}
