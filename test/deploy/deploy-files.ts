/** Readers shared by the deploy tests: the repo's deploy files, parsed once. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as yaml from 'js-yaml';
import { MetricFactory, MetricOptions } from '../../src/metrics/metric-factory';
import { createServiceMetrics } from '../../src/metrics/service-metrics';

export const REPO = path.resolve(__dirname, '..', '..');

export function repoFile(...parts: string[]): string {
    return readFileSync(path.join(REPO, ...parts), 'utf8');
}

export function prodConfig(): any {
    return yaml.load(repoFile('config.prod.yaml'));
}

/** Every document of every deploy/k8s/*.yaml listed in its kustomization. */
export function k8sObjects(): any[] {
    const kustomization = yaml.load(repoFile('deploy', 'k8s', 'kustomization.yaml')) as { resources: string[] };
    return kustomization.resources.flatMap((f) => yaml.loadAll(repoFile('deploy', 'k8s', f)));
}

export function k8sObject(kind: string): any {
    const found = k8sObjects().filter((o) => o.kind === kind);
    if (found.length !== 1) {
        throw new Error(`expected one ${kind} in deploy/k8s, found ${found.length}`);
    }
    return found[0];
}

/** Names and label names of every metric the service creates, from the code itself. */
export function serviceMetrics(): Map<string, MetricOptions> {
    const made = new Map<string, MetricOptions>();
    const noop = { increment() {}, decrement() {}, observe() {}, set() {} };
    const factory: MetricFactory = { makeMetric: (o) => (made.set(o.prometheus.name, o), noop) };
    createServiceMetrics(factory);
    return made;
}
