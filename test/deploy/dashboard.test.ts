import assert from 'node:assert/strict';
import { repoFile, serviceMetrics } from './deploy-files';

/** Every PromQL expression in the dashboard (panels, rows' panels, template queries). */
function expressions(dash: any): string[] {
    const out: string[] = [];
    const walk = (node: any): void => {
        if (Array.isArray(node)) {
            node.forEach(walk);
        } else if (node && typeof node === 'object') {
            for (const [k, v] of Object.entries(node)) {
                if ((k === 'expr' || k === 'definition') && typeof v === 'string') {
                    out.push(v);
                } else {
                    walk(v);
                }
            }
        }
    };
    walk(dash);
    return out;
}

/** Metric names a PromQL expression reads: our prefix, histogram suffixes stripped. */
function metricNames(expr: string): string[] {
    return [...expr.matchAll(/\b(push_notifications_[a-z0-9_]+)/g)]
        .map((m) => m[1].replace(/_(bucket|sum|count)$/, ''));
}

describe('deploy: Grafana dashboard', () => {
    const dash = JSON.parse(repoFile('deploy', 'grafana', 'push-notifications.json'));
    const exprs = expressions(dash);
    const metrics = serviceMetrics();

    it('queries only metrics that src/metrics/service-metrics.ts creates', () => {
        assert.ok(exprs.length > 10, 'the dashboard has queries');
        const missing = exprs.flatMap(metricNames).filter((n) => !metrics.has(n));
        assert.deepEqual([...new Set(missing)], [], 'metrics queried but not defined in the code');
    });

    it('uses _bucket/_sum/_count only on histograms, and histogram_quantile only on _bucket', () => {
        for (const e of exprs) {
            for (const m of e.matchAll(/\b(push_notifications_[a-z0-9_]+?)_(bucket|sum|count)\b/g)) {
                assert.equal(metrics.get(m[1])?.type, 'Histogram', `${m[0]} in ${e}`);
            }
            if (e.includes('histogram_quantile')) {
                assert.match(e, /_bucket\{/, e);
                assert.match(e, /by \(le\b/, `histogram_quantile needs "by (le, ...)": ${e}`);
            }
        }
    });

    it('groups only by labels the metric has', () => {
        for (const e of exprs) {
            const names = metricNames(e);
            const by = /by \(([^)]*)\)/.exec(e);
            if (!by || names.length === 0) {
                continue;
            }
            const labels = by[1].split(',').map((s) => s.trim()).filter((l) => l !== 'le');
            for (const n of names) {
                const known = metrics.get(n)?.labels?.names ?? [];
                for (const l of labels) {
                    assert.ok(known.includes(l), `${n} has no label ${l} (${e})`);
                }
            }
        }
    });

    it('covers traffic, errors, queue, delivery outcomes, dead tokens, MediaWiki and the deletion guard', () => {
        const used = new Set(exprs.flatMap(metricNames));
        for (const n of ['http_requests_total', 'queue_tokens', 'queue_wait_seconds', 'provider_answers_total', 'tokens_finished_total',
            'provider_stalled', 'matrix_devices_total', 'mongoosepush_requests_total',
            'provider_request_duration_seconds', 'mediawiki_deletions_total', 'mediawiki_request_duration_seconds',
            'deletion_guard_tripped']) {
            assert.ok(used.has('push_notifications_' + n), `no panel uses push_notifications_${n}`);
        }
        assert.ok(exprs.some((e) => /status=~"5\.\."/.test(e)), 'an error-rate query');
        assert.ok(exprs.some((e) => /outcome="dead"/.test(e)), 'a dead-token query');
    });

    it('has unique panel ids and a stable uid', () => {
        const ids = (dash.panels as { id: number }[]).map((p) => p.id);
        assert.equal(new Set(ids).size, ids.length);
        assert.equal(dash.uid, 'push-notifications');
    });
});
