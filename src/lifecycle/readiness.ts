/**
 * Where the service is in its life. Readiness (GET /readyz) is 'ready' only in the
 * 'serving' phase and only while the queue is below its cap.
 */
export type Phase = 'starting' | 'serving' | 'draining';

export class Lifecycle {
    private current: Phase = 'starting';

    get phase(): Phase {
        return this.current;
    }

    serving(): void {
        this.current = 'serving';
    }

    draining(): void {
        this.current = 'draining';
    }
}
