import { Router } from 'express';
import { Lifecycle } from '../../lifecycle/readiness';

/** What readiness looks at: the lifecycle, the schedulers' cap, and the providers' stall signal. */
export interface HealthSource {
    readonly lifecycle: Lifecycle;
    /** True while the schedulers hold their cap of tokens. */
    isFull(): boolean;
    /** Provider instances whose calls have got no answer at all for a while (stuck egress). */
    stalledProviders(): readonly string[];
}

/**
 * GET /healthz (liveness) and GET /readyz (readiness), for Kubernetes probes.
 *
 * A stalled provider (stuck egress path) is REPORTED in /readyz's body (`stalled`) and in
 * the provider_stalled metric, but does not make the pod unready: a stuck proxy or network
 * path affects every pod alike, so taking them all out of the Service at once would refuse
 * every Echo request (and Echo does not retry), while staying ready keeps accepting into the
 * bounded queue, which delivers once egress recovers. Only the queue reaching its cap makes
 * the pod unready (then requests are better sent to another pod).
 */
export function healthRouter(health: HealthSource): Router {
    const router = Router({ caseSensitive: true, strict: true });
    router.get('/healthz', (_req, res) => {
        res.json({ status: 'ok' });
    });
    router.get('/readyz', (_req, res) => {
        let status: 'ready' | 'starting' | 'draining' | 'queue_full';
        const phase = health.lifecycle.phase;
        if (phase === 'starting') {
            status = 'starting';
        } else if (phase === 'draining') {
            status = 'draining';
        } else if (health.isFull()) {
            status = 'queue_full';
        } else {
            status = 'ready';
        }
        const stalled = health.stalledProviders();
        res.status(status === 'ready' ? 200 : 503).json(stalled.length > 0 ? { status, stalled } : { status });
    });
    return router;
}
