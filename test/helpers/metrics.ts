import ServiceRunner = require('service-runner');
import { MetricFactory } from '../../src/metrics/metric-factory';
import { TestLogger } from './test-logger';

/**
 * service-runner's real metrics object (its prometheus client), as a service gets it. Its
 * prom-client registry is process-global, so each new factory starts from a clear registry.
 */
function promClient(): any {
    // service-runner's own prom-client, not one of ours (which would be a different registry).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(require.resolve('prom-client', { paths: [require.resolve('service-runner')] }));
}

export function freshMetricFactory(logger = new TestLogger()): MetricFactory {
    promClient().register.clear();
    return ServiceRunner.getMetrics([{ type: 'prometheus', name: 'push-notifications' }], logger);
}

/** The Prometheus text exposition, as the metrics port would serve it. */
export async function metricsText(): Promise<string> {
    return await Promise.resolve(promClient().register.metrics());
}

/** Sum of a metric's samples whose labels include `labels`. */
export async function metricValue(name: string, labels: Record<string, string> = {}): Promise<number> {
    return sumSamples(await metricsText(), name, labels);
}

/**
 * Sum of the samples of `name` whose labels include `labels`, in a Prometheus text exposition
 * (this process's registry, or what a service process's metrics port served).
 */
export function sumSamples(text: string, name: string, labels: Record<string, string> = {}): number {
    let sum = 0;
    for (const line of text.split('\n')) {
        if (!line.startsWith(name) || line.startsWith('#')) {
            continue;
        }
        const m = /^([a-z_:]+)(\{([^}]*)\})?\s+([-+0-9.eE]+|NaN)$/.exec(line);
        if (!m || m[1] !== name) {
            continue;
        }
        const got: Record<string, string> = {};
        for (const pair of (m[3] ?? '').match(/[a-z_]+="[^"]*"/g) ?? []) {
            const i = pair.indexOf('=');
            got[pair.slice(0, i)] = pair.slice(i + 2, -1);
        }
        if (Object.entries(labels).every(([k, v]) => got[k] === v)) {
            sum += Number(m[4]);
        }
    }
    return sum;
}
