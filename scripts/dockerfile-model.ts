/**
 * A small, strict reader of our Dockerfile, shared by scripts/verify-image.ts (which replays
 * the image's steps outside Docker) and test/deploy (which checks the image's shape). Both
 * read the Dockerfile itself, so neither can drift from it.
 *
 * Strict on purpose: it understands the subset of Dockerfile syntax we use (line
 * continuations, comments, `FROM x AS name`, COPY with --from/--chown/--chmod, JSON-form
 * ENTRYPOINT/CMD) and throws on anything else a replay could get wrong (globs, heredocs,
 * ADD), instead of silently copying something different from what Docker would.
 */
import { readFileSync } from 'node:fs';

export interface Instruction {
    readonly keyword: string;
    /** The arguments, continuation lines joined. */
    readonly args: string;
    /** 1-based line number where the instruction starts. */
    readonly line: number;
}

export interface Stage {
    readonly name: string;
    readonly base: string;
    readonly instructions: readonly Instruction[];
}

export interface Dockerfile {
    /** ARGs before the first FROM (the base image parameters). */
    readonly globalArgs: Readonly<Record<string, string>>;
    readonly stages: readonly Stage[];
}

export interface CopyStep {
    /** Stage name for `--from=`, undefined for the build context. */
    readonly from?: string;
    readonly sources: readonly string[];
    readonly dest: string;
    readonly line: number;
}

export function readDockerfile(file: string): Dockerfile {
    return parseDockerfile(readFileSync(file, 'utf8'));
}

export function parseDockerfile(text: string): Dockerfile {
    const instructions: Instruction[] = [];
    let pending = '';
    let start = 0;
    text.split('\n').forEach((raw, i) => {
        const line = raw.trimEnd();
        if (pending === '' && (line.trim() === '' || line.trim().startsWith('#'))) {
            return;
        }
        if (pending !== '' && line.trim().startsWith('#')) {
            return; // comments inside a continued instruction are dropped by Docker too
        }
        if (pending === '') {
            start = i + 1;
        }
        if (line.endsWith('\\')) {
            pending += line.slice(0, -1) + ' ';
            return;
        }
        pending += line;
        const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(pending);
        if (!m) {
            throw new Error(`Dockerfile line ${start}: cannot read ${JSON.stringify(pending)}`);
        }
        if (m[2].includes('<<')) {
            throw new Error(`Dockerfile line ${start}: heredocs are not supported by the replay`);
        }
        instructions.push({ keyword: m[1].toUpperCase(), args: m[2].trim().replace(/\s+/g, ' '), line: start });
        pending = '';
    });

    const globalArgs: Record<string, string> = {};
    const stages: { name: string; base: string; instructions: Instruction[] }[] = [];
    for (const ins of instructions) {
        if (ins.keyword === 'FROM') {
            const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
            if (!m) {
                throw new Error(`Dockerfile line ${ins.line}: cannot read FROM ${ins.args}`);
            }
            const base = m[1].replace(/\$\{(\w+)\}|\$(\w+)/g, (_s, a: string, b: string) => globalArgs[a ?? b] ?? '');
            stages.push({ name: m[2] ?? String(stages.length), base, instructions: [] });
        } else if (stages.length === 0) {
            if (ins.keyword !== 'ARG') {
                throw new Error(`Dockerfile line ${ins.line}: only ARG may come before FROM`);
            }
            const [k, v = ''] = ins.args.split('=', 2);
            globalArgs[k] = v;
        } else {
            if (ins.keyword === 'ADD') {
                throw new Error(`Dockerfile line ${ins.line}: use COPY, not ADD`);
            }
            stages[stages.length - 1].instructions.push(ins);
        }
    }
    return { globalArgs, stages };
}

/** The stage that becomes the image: the last one. */
export function runtimeStage(df: Dockerfile): Stage {
    const last = df.stages[df.stages.length - 1];
    if (!last) {
        throw new Error('Dockerfile has no FROM');
    }
    return last;
}

export function stageNamed(df: Dockerfile, name: string): Stage {
    const s = df.stages.find((st) => st.name === name);
    if (!s) {
        throw new Error(`Dockerfile has no stage ${name}`);
    }
    return s;
}

export function parseCopy(ins: Instruction): CopyStep {
    if (ins.keyword !== 'COPY') {
        throw new Error(`line ${ins.line} is ${ins.keyword}, not COPY`);
    }
    const words = ins.args.startsWith('[') ? (JSON.parse(ins.args) as string[]) : ins.args.split(' ');
    let from: string | undefined;
    const rest: string[] = [];
    for (const w of words) {
        const flag = /^--([a-z]+)(?:=(.*))?$/.exec(w);
        if (flag) {
            if (flag[1] === 'from') {
                from = flag[2];
            } else if (flag[1] !== 'chown' && flag[1] !== 'chmod') {
                throw new Error(`Dockerfile line ${ins.line}: COPY --${flag[1]} is not supported by the replay`);
            }
        } else {
            rest.push(w);
        }
    }
    if (rest.length < 2) {
        throw new Error(`Dockerfile line ${ins.line}: COPY needs a source and a destination`);
    }
    const sources = rest.slice(0, -1);
    for (const s of sources) {
        if (/[*?[]/.test(s)) {
            throw new Error(`Dockerfile line ${ins.line}: COPY source ${s} is a glob; name files explicitly`);
        }
    }
    return { from, sources, dest: rest[rest.length - 1], line: ins.line };
}

export function copySteps(stage: Stage): CopyStep[] {
    return stage.instructions.filter((i) => i.keyword === 'COPY').map(parseCopy);
}

/** The last value of a single-valued instruction (WORKDIR, USER) in a stage. */
export function lastValue(stage: Stage, keyword: string): string | undefined {
    const all = stage.instructions.filter((i) => i.keyword === keyword);
    return all.length ? all[all.length - 1].args : undefined;
}

/** ENTRYPOINT or CMD, which must be in JSON (exec) form so signals reach node directly. */
export function execForm(stage: Stage, keyword: 'ENTRYPOINT' | 'CMD'): string[] | undefined {
    const v = lastValue(stage, keyword);
    if (v === undefined) {
        return undefined;
    }
    if (!v.startsWith('[')) {
        throw new Error(`${keyword} must use the JSON (exec) form, so SIGTERM reaches node and not a shell`);
    }
    return JSON.parse(v) as string[];
}

/** ENV instructions of a stage (`K=V` pairs, or the old `K V` form). */
export function envOf(stage: Stage): Record<string, string> {
    const env: Record<string, string> = {};
    for (const ins of stage.instructions.filter((i) => i.keyword === 'ENV')) {
        if (ins.args.includes('=')) {
            for (const m of ins.args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) {
                env[m[1]] = m[2].replace(/^"|"$/g, '');
            }
        } else {
            const [k, ...v] = ins.args.split(' ');
            env[k] = v.join(' ');
        }
    }
    return env;
}

/** EXPOSEd ports of a stage. */
export function exposedPorts(stage: Stage): number[] {
    return stage.instructions.filter((i) => i.keyword === 'EXPOSE')
        .flatMap((i) => i.args.split(' ')).map((p) => Number(p.split('/')[0]));
}
