/**
 * The slice of service-runner's metrics object the service uses (`options.metrics`).
 * Its prometheus client registers into service-runner's own prom-client, which the
 * master process serves on the `metrics: [{type: prometheus, port}]` port.
 */
export interface RunnerMetric {
    increment(amount?: number, labelValues?: string[]): void;
    decrement(amount?: number, labelValues?: string[]): void;
    observe(value: number, labelValues?: string[]): void;
    set(value: number, labelValues?: string[]): void;
}

export interface MetricOptions {
    type: 'Counter' | 'Gauge' | 'Histogram' | 'Summary';
    name: string;
    prometheus: { name: string; help: string; buckets?: number[] };
    labels?: { names: string[] };
}

export interface MetricFactory {
    makeMetric(options: MetricOptions): RunnerMetric;
}
