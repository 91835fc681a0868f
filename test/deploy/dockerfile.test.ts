import assert from 'node:assert/strict';
import * as path from 'node:path';
import { validate } from 'dockerfile-utils';
import { copySteps, envOf, execForm, lastValue, readDockerfile, runtimeStage } from '../../scripts/dockerfile-model';
import { REPO, repoFile } from './deploy-files';

describe('deploy: Dockerfile', () => {
    const text = repoFile('Dockerfile');
    const df = readDockerfile(path.join(REPO, 'Dockerfile'));
    const runtime = runtimeStage(df);

    it('passes the dockerfile-utils linter, warnings included', () => {
        // Every optional check (deprecated MAINTAINER, casing, relative WORKDIR, JSON in
        // single quotes, several CMDs...) raised to an error: 2 = ValidationSeverity.ERROR.
        const strict = {
            deprecatedMaintainer: 2, directiveCasing: 2, emptyContinuationLine: 2, instructionCasing: 2,
            instructionCmdMultiple: 2, instructionEntrypointMultiple: 2, instructionHealthcheckMultiple: 2,
            instructionJSONInSingleQuotes: 2, instructionWorkdirRelative: 2
        } as const;
        const problems = validate(text, strict).map((d) => `line ${d.range.start.line + 1}: ${typeof d.message === 'string' ? d.message : d.message.value}`);
        assert.deepEqual(problems, []);
    });

    it('is multi-stage: builds with dev dependencies, runs with production ones only', () => {
        assert.ok(df.stages.length >= 2);
        const build = df.stages[0].instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args).join('\n');
        assert.match(build, /npm ci\b(?!.*--omit=dev)/);
        assert.match(build, /npm run build/);
        const runs = runtime.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
        assert.equal(runs.length, 1);
        assert.match(runs[0], /^npm ci --omit=dev\b/);
        assert.match(runs[0], /npm cache clean --force/, 'no npm cache left in the image');
    });

    it('uses a Node LTS slim base in both stages', () => {
        for (const s of df.stages) {
            assert.match(s.base, /^node:(22|24)-(bookworm-)?slim(@sha256:[0-9a-f]{64})?$/, s.base);
        }
    });

    it("copies only dist/, spec.yaml, package*.json and config.prod.yaml into the runtime stage", () => {
        const copied = copySteps(runtime).flatMap((c) => c.sources.map((s) => path.posix.basename(s)));
        assert.deepEqual(copied.sort(), ['config.prod.yaml', 'dist', 'package-lock.json', 'package.json', 'spec.yaml']);
        for (const c of copySteps(runtime)) {
            for (const s of c.sources) {
                assert.doesNotMatch(s, /(^|\/)(src|test|node_modules|\.git|secrets)(\/|$)|\.(p8|pem|key)$/, s);
            }
        }
    });

    it('runs as a numeric non-root USER, in /srv/service, with NODE_ENV=production', () => {
        const user = lastValue(runtime, 'USER');
        assert.ok(user, 'USER is set');
        const uid = Number(user.split(':')[0]);
        assert.ok(Number.isInteger(uid) && uid > 0, `numeric non-root uid, got ${user}`);
        const userLine = runtime.instructions.find((i) => i.keyword === 'USER')!.line;
        assert.ok(runtime.instructions.filter((i) => i.keyword === 'RUN').every((i) => i.line < userLine),
            'no RUN after USER (nothing needs root at run time, nothing is installed as the user)');
        assert.equal(lastValue(runtime, 'WORKDIR'), '/srv/service');
        assert.equal(envOf(runtime).NODE_ENV, 'production');
    });

    it('starts `node dist/server.js -c config.prod.yaml` in exec form', () => {
        assert.deepEqual([...execForm(runtime, 'ENTRYPOINT')!, ...execForm(runtime, 'CMD')!],
            ['node', 'dist/server.js', '-c', 'config.prod.yaml']);
    });

    it('.dockerignore keeps dependencies, builds, tests, git and keys out of the context', () => {
        const ignored = repoFile('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
        for (const p of ['**/node_modules', 'dist', 'test', '.git', '**/*.p8', '**/*.pem', '**/*.key', 'secrets']) {
            assert.ok(ignored.includes(p), `.dockerignore has ${p}`);
        }
        // ...but nothing the Dockerfile copies from the context.
        for (const s of df.stages) {
            for (const c of copySteps(s).filter((st) => !st.from)) {
                for (const src of c.sources) {
                    assert.ok(!ignored.includes(src.replace(/\/$/, '')), `${src} is copied but ignored`);
                }
            }
        }
    });
});
