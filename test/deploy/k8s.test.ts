import assert from 'node:assert/strict';
import * as yaml from 'js-yaml';
import { renderConfigMap, CONFIG_KEY } from '../../scripts/gen-configmap';
import { readDockerfile, runtimeStage, lastValue, exposedPorts } from '../../scripts/dockerfile-model';
import { FCM_SERVICE_ACCOUNT, SECRETS_DIR } from '../../scripts/verify-image-paths';
import { k8sObject, k8sObjects, prodConfig, REPO, repoFile } from './deploy-files';
import * as path from 'node:path';

describe('deploy: Kubernetes manifests agree with the code and config', () => {
    const prod = prodConfig();
    const conf = prod.services[0].conf;
    const deployment = k8sObject('Deployment');
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0];
    const port = (name: string): number => container.ports.find((p: any) => p.name === name).containerPort;
    const spec = yaml.load(repoFile('spec.yaml')) as { paths: Record<string, unknown> };

    it('parses, and has the objects SRE needs', () => {
        const kinds = k8sObjects().map((o) => o.kind).sort();
        assert.deepEqual(kinds, ['ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'Service']);
        assert.equal(pod.containers.length, 1);
    });

    it('exposes the service port and the Prometheus port of config.prod.yaml', () => {
        assert.equal(port('http'), conf.port);
        assert.equal(port('metrics'), prod.metrics[0].port);
        assert.notEqual(conf.port, prod.metrics[0].port);
        const ann = deployment.spec.template.metadata.annotations;
        assert.equal(ann['prometheus.io/scrape'], 'true');
        assert.equal(Number(ann['prometheus.io/port']), prod.metrics[0].port);
        assert.equal(conf.interface, '0.0.0.0', 'the kubelet probes the pod IP');
    });

    it('the Dockerfile EXPOSEs the same ports', () => {
        assert.deepEqual(exposedPorts(runtimeStage(readDockerfile(path.join(REPO, 'Dockerfile')))).sort(),
            [conf.port, prod.metrics[0].port].sort());
    });

    it('probes real routes of spec.yaml on the service port', () => {
        const probes = { startupProbe: '/healthz', livenessProbe: '/healthz', readinessProbe: '/readyz' } as const;
        for (const [probe, expected] of Object.entries(probes)) {
            const get = container[probe].httpGet;
            assert.equal(get.path, expected, probe);
            assert.ok(spec.paths[get.path], `${get.path} is in spec.yaml`);
            assert.ok(get.port === 'http' || get.port === conf.port, `${probe} on the service port`);
        }
    });

    it('gives the drain time to finish: grace > preStop sleep + shutdown_timeout', () => {
        const preStop = container.lifecycle?.preStop?.exec?.command ?? [];
        const sleep = preStop[0] === 'sleep' ? Number(preStop[1]) : 0;
        assert.ok(pod.terminationGracePeriodSeconds > sleep + conf.shutdown_timeout,
            `${pod.terminationGracePeriodSeconds} > ${sleep} + ${conf.shutdown_timeout}`);
    });

    it('ships config.prod.yaml verbatim in the ConfigMap the container reads', () => {
        const cm = k8sObject('ConfigMap');
        assert.equal(repoFile('deploy', 'k8s', 'configmap.yaml'), renderConfigMap(repoFile('config.prod.yaml')),
            'deploy/k8s/configmap.yaml is stale: run `npm run deploy:configmap`');
        assert.equal(cm.data[CONFIG_KEY], repoFile('config.prod.yaml'));
        const vol = pod.volumes.find((v: any) => v.configMap?.name === cm.metadata.name);
        assert.ok(vol, 'the ConfigMap is mounted');
        const mount = container.volumeMounts.find((m: any) => m.name === vol.name);
        assert.deepEqual(container.args, ['-c', `${mount.mountPath}/${CONFIG_KEY}`]);
    });

    it('mounts the Secret where config.prod.yaml and GOOGLE_APPLICATION_CREDENTIALS look', () => {
        const vol = pod.volumes.find((v: any) => v.secret);
        assert.equal(vol.secret.secretName, 'push-notifications-secrets');
        const mount = container.volumeMounts.find((m: any) => m.name === vol.name);
        assert.equal(mount.mountPath, SECRETS_DIR);
        assert.equal(mount.readOnly, true);
        const gac = container.env.find((e: any) => e.name === 'GOOGLE_APPLICATION_CREDENTIALS');
        assert.equal(gac.value, FCM_SERVICE_ACCOUNT);
        assert.ok(conf.apns.token.key.startsWith(SECRETS_DIR + '/'));
        assert.ok(conf.mw_subscription_manager_password_file.startsWith(SECRETS_DIR + '/'));
        assert.equal(k8sObjects().filter((o) => o.kind === 'Secret').length, 0, 'no Secret values in the repo');
    });

    it('runs non-root, read-only, without capabilities; the image user agrees', () => {
        const podSc = pod.securityContext;
        const sc = container.securityContext;
        assert.equal(podSc.runAsNonRoot, true);
        assert.ok(podSc.runAsUser > 0);
        assert.equal(sc.readOnlyRootFilesystem, true);
        assert.equal(sc.allowPrivilegeEscalation, false);
        assert.deepEqual(sc.capabilities.drop, ['ALL']);
        const user = lastValue(runtimeStage(readDockerfile(path.join(REPO, 'Dockerfile'))), 'USER')!;
        assert.equal(Number(user.split(':')[0]), podSc.runAsUser);
    });

    it('sets resources, and the memory limit is above the worker heap limit', () => {
        const { requests, limits } = container.resources;
        assert.ok(requests.cpu && requests.memory && limits.cpu && limits.memory);
        assert.match(limits.memory, /^\d+Mi$/);
        assert.ok(parseInt(limits.memory, 10) > prod.worker_heap_limit_mb);
    });

    it('Service, PDB and HPA point at the Deployment', () => {
        const labels = deployment.spec.template.metadata.labels;
        const matches = (sel: Record<string, string>): boolean =>
            Object.entries(sel).every(([k, v]) => labels[k] === v);
        const svc = k8sObject('Service');
        assert.ok(matches(svc.spec.selector));
        assert.ok(svc.spec.ports.some((p: any) => p.targetPort === 'http' || p.targetPort === conf.port));
        assert.ok(matches(k8sObject('PodDisruptionBudget').spec.selector.matchLabels));
        assert.ok(matches(deployment.spec.selector.matchLabels));
        const hpa = k8sObject('HorizontalPodAutoscaler');
        assert.equal(hpa.spec.scaleTargetRef.name, deployment.metadata.name);
        assert.ok(hpa.spec.minReplicas >= 2);
        assert.equal(hpa.spec.metrics[0].resource.name, 'cpu');
        assert.equal(deployment.spec.replicas, undefined, 'the HPA owns the replica count');
    });
});
