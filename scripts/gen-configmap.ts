/**
 * Writes deploy/k8s/configmap.yaml from config.prod.yaml, verbatim, so the config the pod
 * reads is exactly the one in the image and the one the tests validate:
 *
 *   npm run deploy:configmap
 *
 * test/deploy/k8s.test.ts fails when the two differ.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as yaml from 'js-yaml';

const REPO = path.resolve(__dirname, '..');
export const CONFIGMAP_FILE = path.join(REPO, 'deploy', 'k8s', 'configmap.yaml');
export const CONFIG_KEY = 'config.prod.yaml';

export function renderConfigMap(config: string): string {
    const header = '# GENERATED from config.prod.yaml by `npm run deploy:configmap`; do not edit by hand.\n';
    return header + yaml.dump({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'push-notifications-config', labels: { 'app.kubernetes.io/name': 'push-notifications' } },
        data: { [CONFIG_KEY]: config }
    }, { lineWidth: -1 });
}

if (require.main === module) {
    writeFileSync(CONFIGMAP_FILE, renderConfigMap(readFileSync(path.join(REPO, 'config.prod.yaml'), 'utf8')));
    console.log(`wrote ${path.relative(REPO, CONFIGMAP_FILE)}`);
}
