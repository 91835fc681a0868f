import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import { BENCH_OUT, ROOT } from './paths';

/**
 * The processes we measure must not carry ts-node (it would add tens of MB of RSS and
 * start-up work): the baseline server and the probe are transpiled to plain JS in .bench/.
 */
export function compileHelpers(): { probe: string; baseline: string } {
    mkdirSync(BENCH_OUT, { recursive: true });
    const out = (name: string): string => {
        const src = readFileSync(path.join(ROOT, 'bench', `${name}.ts`), 'utf8');
        const js = ts.transpileModule(src, {
            compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true }
        }).outputText;
        const file = path.join(BENCH_OUT, `${name}.js`);
        writeFileSync(file, js);
        return file;
    };
    return { probe: out('probe'), baseline: out('baseline-server') };
}
