import assert from 'node:assert/strict';
import { apnsToken } from '../fakes/apns-server';
import { startRunner, waitFor } from '../helpers/processes';

/**
 * The built service under the real service-runner, in both of its modes: in-process
 * (num_workers: 0, where the service must install its own SIGTERM handler) and with forked
 * workers (where the master stops each worker and awaits the module's close()).
 */
for (const workers of [0, 2]) {
    describe(`service-runner with num_workers: ${workers}`, function () {
        this.timeout(40000);

        it('serves the API and Prometheus metrics, then exits 0 on SIGTERM', async () => {
            const p = await startRunner(workers);
            try {
                await waitFor(`http://127.0.0.1:${p.port}/readyz`);
                const res = await fetch(`http://127.0.0.1:${p.port}/v1/message/apns`, {
                    method: 'POST',
                    headers: { 'content-type': 'application/json' },
                    body: JSON.stringify({ deviceTokens: [apnsToken('dry-run-1')], messageType: 'checkEchoV1', dryRun: true })
                });
                assert.equal(res.status, 200);
                assert.deepEqual(await res.json(), {});

                const metrics = await (await waitFor(`http://127.0.0.1:${p.metricsPort}/metrics`)).text();
                assert.match(metrics, /push_notifications_tokens_accepted_total\{[^}]*provider="apns"[^}]*\} 1/);
            } finally {
                p.child.kill('SIGTERM');
            }
            const code = await Promise.race([p.exited, new Promise((r) => setTimeout(() => r('timeout'), 30000))]);
            assert.equal(code, 0, `exit: ${String(code)}\n${p.output().slice(-3000)}`);
        });
    });
}

describe('service-runner with a wrong config value', function () {
    this.timeout(20000);

    it('stops with a non-zero exit and a message naming the key', async () => {
        const p = await startRunner(0, { queueing: { flushTimeoutMs: 'random', flushTimeoutMin: 10 } });
        const code = await Promise.race([p.exited, new Promise((r) => setTimeout(() => r('timeout'), 15000))]);
        if (code === 'timeout') {
            p.child.kill('SIGKILL');
        }
        assert.notEqual(code, 0);
        assert.notEqual(code, 'timeout');
        assert.match(p.output(), /config: queueing\.flushTimeoutMs: 'random' needs both/);
    });
});
