import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/** A shared-secrets file in a temporary directory, as a Kubernetes Secret volume would hold it. */
export interface SecretsFile {
    readonly path: string;
    remove(): void;
}

export function writeSecretsFile(content: string): SecretsFile {
    const dir = mkdtempSync(path.join(tmpdir(), 'pn-secrets-'));
    const file = path.join(dir, 'shared-secrets');
    writeFileSync(file, content, { mode: 0o600 });
    return { path: file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
