import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { MetricOptions } from '../../src/metrics/metric-factory';
import { createServiceMetrics } from '../../src/metrics/service-metrics';

/** The README is the newcomer's map: keep what it promises true. */
const ROOT = path.resolve(__dirname, '..', '..');
const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>; dependencies: Record<string, string>; devDependencies: Record<string, string>;
};

function metricNames(): { name: string; type: string }[] {
    const made: { name: string; type: string }[] = [];
    const noop = { increment() {}, decrement() {}, observe() {}, set() {} };
    createServiceMetrics({
        makeMetric(o: MetricOptions) {
            made.push({ name: o.prometheus.name, type: o.type });
            return noop;
        }
    });
    return made;
}

describe('README', () => {
    it('opens with the two commands: start with mocks, run the tests', () => {
        const first = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
        assert.match(first, /npm ci && npm start/);
        assert.match(first, /npm ci && npm test/);
        assert.ok(readme.indexOf('```sh') < readme.indexOf('\n## '), 'the commands come before the first section');
        assert.match(pkg.scripts.start, /scripts\/dev\/start\.ts/);
        assert.match(readFileSync(path.join(ROOT, '.ci', 'run'), 'utf8'), /npm ci\s*\n\s*npm test/);
    });

    it('documents every metric, with its type', () => {
        for (const { name, type } of metricNames()) {
            const row = readme.split('\n').find((l) => l.startsWith(`| \`${name}\` |`));
            assert.ok(row, `${name} is not in the README's metrics table`);
            assert.match(row, new RegExp(`\\| ${type.toLowerCase()} \\|`), `${name}: type ${type}`);
        }
    });

    it('says why each dependency is there', () => {
        const rows = readme.split('\n').filter((l) => l.startsWith('| '));
        for (const dep of [...Object.keys(pkg.dependencies), ...Object.keys(pkg.devDependencies)]) {
            const mentioned = rows.some((r) => r.split('|')[1].split(',').some((c) => {
                const cell = c.trim();
                return cell === dep || (dep.startsWith('@types/') && cell.includes('@types/*'));
            }));
            assert.ok(mentioned, `${dep} has no line in the README's dependency tables`);
        }
    });

    it('names only npm scripts that exist', () => {
        for (const m of readme.matchAll(/npm run ([a-z:-]+)/g)) {
            assert.ok(pkg.scripts[m[1]], `npm run ${m[1]} is not a script`);
        }
    });
});
