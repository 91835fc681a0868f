import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import { BENCH_OUT, ROOT } from './paths';

/**
 * The processes we measure must not carry ts-node (it would add tens of MB of RSS and
 * start-up work): the baseline server and the probe are transpiled to plain JS in .bench/,
 * and so is the load generator (its CPU shares the machine with what it measures).
 */
export function compileHelpers(): { probe: string; baseline: string; loadRunner: string } {
    mkdirSync(BENCH_OUT, { recursive: true });
    const out = (name: string): string => {
        const src = readFileSync(path.join(ROOT, 'bench', `${name}.ts`), 'utf8');
        const js = ts.transpileModule(src, {
            compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true }
        }).outputText;
        const file = path.join(BENCH_OUT, `${name}.js`);
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, js);
        return file;
    };
    out('lib/apns-floor'); // the relay baseline's APNs client
    return { probe: out('probe'), baseline: out('baseline-server'), loadRunner: out('load-runner') };
}

/**
 * The delivery worker and what it imports (src/, test/helpers, bench/lib), compiled to plain
 * JS in .bench/worker/ with the project's compiler options. Under ts-node the worker carried
 * the TypeScript compiler in its heap (tens of MB of old space that every full GC walks),
 * which the service, run from dist/, never does: GC pauses in the measured flush were
 * partly the harness's. Type errors do not stop the emit (`npm run lint` reports them).
 */
export function compileDeliveryWorker(): string {
    const configFile = ts.readConfigFile(path.join(ROOT, 'tsconfig.json'), (f) => ts.sys.readFile(f));
    const parsed = ts.parseJsonConfigFileContent(configFile.config, ts.sys, ROOT);
    const outDir = path.join(BENCH_OUT, 'worker');
    const program = ts.createProgram([path.join(ROOT, 'bench', 'delivery-worker.ts')], {
        ...parsed.options, noEmit: false, outDir, rootDir: ROOT, sourceMap: false, types: ['node']
    });
    const result = program.emit();
    if (result.emitSkipped) {
        throw new Error('compiling bench/delivery-worker.ts failed');
    }
    return path.join(outDir, 'bench', 'delivery-worker.js');
}
