import { MetricFactory, RunnerMetric } from './metric-factory';

/**
 * Every metric the service exports, created once at start-up. Times are in seconds.
 * The README's metrics table and the Grafana dashboard are checked against these names (test/docs, test/deploy).
 */
export const PREFIX = 'push_notifications_';

type Labels<N extends string> = Readonly<Record<N, string>>;

/** A counter or gauge with named labels; `inc(0)` is a no-op (service-runner would add 1). */
export class LabelledMetric<N extends string> {
    constructor(private readonly metric: RunnerMetric, private readonly names: readonly N[]) {}

    inc(labels: Labels<N>, amount = 1): void {
        if (amount > 0) {
            this.metric.increment(amount, this.values(labels));
        }
    }

    dec(labels: Labels<N>, amount = 1): void {
        if (amount > 0) {
            this.metric.decrement(amount, this.values(labels));
        }
    }

    set(labels: Labels<N>, value: number): void {
        this.metric.set(value, this.values(labels));
    }

    observe(labels: Labels<N>, value: number): void {
        this.metric.observe(value, this.values(labels));
    }

    private values(labels: Labels<N>): string[] {
        return this.names.map((n) => labels[n]);
    }
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const WAIT_BUCKETS = [0.1, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600];
const BATCH_BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500];

function def<N extends string>(factory: MetricFactory, type: 'Counter' | 'Gauge' | 'Histogram',
    name: string, help: string, labels: readonly N[], buckets?: number[]): LabelledMetric<N> {
    const metric = factory.makeMetric({
        type,
        name: PREFIX + name,
        prometheus: { name: PREFIX + name, help, buckets },
        labels: { names: [...labels] }
    });
    return new LabelledMetric(metric, labels);
}

/** Labels of every metric about one provider instance. */
const P = ['provider', 'kind'] as const;

export function createServiceMetrics(f: MetricFactory) {
    return {
        // HTTP front end
        httpRequests: def(f, 'Counter', 'http_requests_total',
            'HTTP requests answered, by route and status code', ['route', 'status'] as const),
        httpDuration: def(f, 'Histogram', 'http_request_duration_seconds',
            'Time to answer an HTTP request', ['route'] as const, LATENCY_BUCKETS),
        tokensAccepted: def(f, 'Counter', 'tokens_accepted_total',
            'Device tokens accepted (answered 2xx): each one later finishes exactly once in tokens_finished_total',
            [...P, 'source'] as const),
        requestsRejected: def(f, 'Counter', 'requests_rejected_total',
            'Message requests refused, by reason: invalid, too_large, unsupported_media_type, unauthorized, rate_limited, queue_full, draining',
            ['reason'] as const),

        // Scheduling (privacy queue and immediate sender)
        queueSize: def(f, 'Gauge', 'queue_tokens',
            'Tokens held by the schedulers (waiting, in flight or waiting for a retry)', P),
        queueWait: def(f, 'Histogram', 'queue_wait_seconds',
            'Time from acceptance (or retry scheduling) to the flush that sends it, once per request (or group of retries)', P, WAIT_BUCKETS),
        batchSize: def(f, 'Histogram', 'batch_size_tokens',
            'Tokens per provider call', P, BATCH_BUCKETS),

        // Delivery
        answers: def(f, 'Counter', 'provider_answers_total',
            'What providers answered, once per token and attempt: delivered, dead, config_error, transient ' +
            '(reason invalid_token/invalid_subscription: our own syntax check, never sent)',
            [...P, 'outcome', 'reason'] as const),
        finished: def(f, 'Counter', 'tokens_finished_total',
            'What finally became of each accepted token, once per token: delivered, dead, gave_up, duplicate, shutdown',
            [...P, 'result'] as const),
        retries: def(f, 'Counter', 'retries_total',
            'Tokens scheduled for another attempt, by the reason of the failed one', [...P, 'reason'] as const),
        providerDuration: def(f, 'Histogram', 'provider_request_duration_seconds',
            'Time of one provider call (one batch)', P, LATENCY_BUCKETS),
        deliveriesInFlight: def(f, 'Gauge', 'deliveries_in_flight',
            'Provider calls in progress', P),
        callTimeouts: def(f, 'Counter', 'provider_call_timeouts_total',
            'Provider calls that hit their deadline (their unanswered tokens are retried)', P),
        providerStalled: def(f, 'Gauge', 'provider_stalled',
            '1 while every recent call of a provider has hit its deadline (stuck egress: proxy, network)', P),
        deletionGuardTripped: def(f, 'Gauge', 'deletion_guard_tripped',
            '1 while the mass-deletion guard holds deletions for a provider', P),
        deletionsHeld: def(f, 'Gauge', 'deletions_held_tokens',
            'Dead tokens held back by the mass-deletion guard', P),
        deletionGuardOverflow: def(f, 'Counter', 'deletion_guard_overflow_total',
            'Dead tokens discarded because the mass-deletion guard already held its maximum', P),
        deadTokenMemory: def(f, 'Gauge', 'dead_token_memory_entries',
            'Dead tokens remembered for the Matrix and MongoosePush front doors', [] as const),

        // The Matrix front door
        matrixNotifications: def(f, 'Counter', 'matrix_notifications_total',
            'Matrix notify requests by result: ok, not_json, bad_json, too_large, unavailable', ['result'] as const),
        matrixDevices: def(f, 'Counter', 'matrix_devices_total',
            'Matrix devices by app (config name) and outcome: delivered, pending, retrying, rejected, skipped, duplicate, batched',
            ['app', 'outcome'] as const),
        matrixAnswer: def(f, 'Histogram', 'matrix_answer_seconds',
            'Time to answer a Matrix notify (the homeserver waits for it)', [] as const, LATENCY_BUCKETS),

        // The MongoosePush front door
        mongoosepushRequests: def(f, 'Counter', 'mongoosepush_requests_total',
            'MongoosePush v3 requests by service, mode and outcome (delivered, transient, pending, dead, ... schema_error)',
            ['service', 'mode', 'outcome'] as const),
        mongoosepushAnswer: def(f, 'Histogram', 'mongoosepush_answer_seconds',
            'Time to answer a MongoosePush v3 request (MongooseIM waits 2 s)', ['service'] as const, LATENCY_BUCKETS),

        // MediaWiki cleanup
        mwDeletions: def(f, 'Counter', 'mediawiki_deletions_total',
            'Subscription deletions by result: requested, succeeded, already_gone, retried, gave_up, dropped',
            ['result'] as const),
        mwLogins: def(f, 'Counter', 'mediawiki_logins_total',
            'Logins to the MediaWiki API by result', ['result'] as const),
        mwDuration: def(f, 'Histogram', 'mediawiki_request_duration_seconds',
            'Time of one MediaWiki API call', ['action'] as const, LATENCY_BUCKETS),
        mwFailures: def(f, 'Counter', 'mediawiki_request_failures_total',
            'MediaWiki API calls that got no usable answer, by action and reason: timeout (the call\'s deadline passed), network, http',
            ['action', 'reason'] as const),
        mwOutboxSize: def(f, 'Gauge', 'mediawiki_outbox_tokens',
            'Tokens waiting for deletion on the wiki', [] as const),

        // Lifecycle
        shutdownUndelivered: def(f, 'Counter', 'shutdown_undelivered_total',
            'Tokens still undelivered when the shutdown deadline passed', P),
        shutdownDeletionsLost: def(f, 'Counter', 'shutdown_deletions_lost_total',
            'Dead-token deletions not done at exit: held by the mass-deletion guard, or still in the outbox',
            ['provider', 'kind', 'where'] as const)
    };
}

export type ServiceMetrics = ReturnType<typeof createServiceMetrics>;

/** The label values of one provider instance. */
export interface ProviderLabels {
    readonly provider: string;
    readonly kind: string;
}
