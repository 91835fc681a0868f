import { Router } from 'express';
import { Lifecycle } from '../../lifecycle/readiness';
import { MessageQueue } from '../../queue/message-queue';

/** GET /healthz (liveness) and GET /readyz (readiness), for Kubernetes probes. */
export function healthRouter(lifecycle: Lifecycle, queue: MessageQueue): Router {
    const router = Router();
    router.get('/healthz', (_req, res) => {
        res.json({ status: 'ok' });
    });
    router.get('/readyz', (_req, res) => {
        let status: 'ready' | 'starting' | 'draining' | 'queue_full';
        if (lifecycle.phase === 'starting') {
            status = 'starting';
        } else if (lifecycle.phase === 'draining') {
            status = 'draining';
        } else if (queue.isFull) {
            status = 'queue_full';
        } else {
            status = 'ready';
        }
        res.status(status === 'ready' ? 200 : 503).json({ status });
    });
    return router;
}
