/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`, or `npm run bench -- --profile`):
 * self time by function and by package / source file, top N.
 *
 *   npx ts-node bench/profile-summary.ts bench-results/profiles/<file>.cpuprofile [top]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    hitCount?: number;
    children?: number[];
}

interface CpuProfile {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
    startTime: number;
    endTime: number;
}

/** node_modules/<pkg> (scoped too), src/<dir>/<file>, node:internal, or (program)/(gc)/(idle). */
export function bucketOf(url: string, fn: string): string {
    if (!url) {
        return fn.startsWith('(') ? fn : '(native)';
    }
    const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
    if (nm) {
        return nm[1];
    }
    const src = /\/(src|bench|test|dist)\/(.+)$/.exec(url);
    if (src) {
        return `${src[1]}/${src[2]}`;
    }
    return url.startsWith('node:') ? url.replace(/^node:internal\/([^/]+).*$/, 'node:internal/$1') : url;
}

export function summarise(profile: CpuProfile, top = 25): string {
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const selfUs = new Map<number, number>();
    for (let i = 0; i < profile.samples.length; i++) {
        const id = profile.samples[i];
        selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
    }
    const total = profile.endTime - profile.startTime;
    const byFn = new Map<string, number>();
    const byBucket = new Map<string, number>();
    for (const [id, us] of selfUs) {
        const n = byId.get(id)!;
        const { functionName, url, lineNumber } = n.callFrame;
        const fnKey = `${functionName || '(anonymous)'} ${url ? `${bucketOf(url, functionName)}:${lineNumber + 1}` : ''}`;
        byFn.set(fnKey, (byFn.get(fnKey) ?? 0) + us);
        const b = bucketOf(url, functionName);
        byBucket.set(b, (byBucket.get(b) ?? 0) + us);
    }
    const fmt = (m: Map<string, number>): string => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)
        .map(([k, us]) => `${(us / total * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`).join('\n');
    return `profile: ${(total / 1e6).toFixed(1)} s\n\nself time by package / file:\n${fmt(byBucket)}\n\nself time by function:\n${fmt(byFn)}\n`;
}

/** Who calls functions named `name` (self time of those nodes, by their caller chain of `depth`). */
export function callers(profile: CpuProfile, name: string, depth = 4, top = 15): string {
    const parent = new Map<number, ProfileNode>();
    for (const n of profile.nodes) {
        for (const c of n.children ?? []) {
            parent.set(c, n);
        }
    }
    const selfUs = new Map<number, number>();
    for (let i = 0; i < profile.samples.length; i++) {
        selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0));
    }
    const byChain = new Map<string, number>();
    for (const n of profile.nodes) {
        if (n.callFrame.functionName !== name) {
            continue;
        }
        // Inclusive time of the node: its own and its descendants' samples.
        let us = 0;
        const stack = [n];
        while (stack.length > 0) {
            const x = stack.pop()!;
            us += selfUs.get(x.id) ?? 0;
            for (const c of x.children ?? []) {
                stack.push(profile.nodes.find((y) => y.id === c)!);
            }
        }
        const chain: string[] = [];
        let p = parent.get(n.id);
        while (p && chain.length < depth) {
            chain.push(`${p.callFrame.functionName || '(anon)'}@${bucketOf(p.callFrame.url, p.callFrame.functionName)}:${p.callFrame.lineNumber + 1}`);
            p = parent.get(p.id);
        }
        const key = chain.join(' < ');
        byChain.set(key, (byChain.get(key) ?? 0) + us);
    }
    return [...byChain.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)
        .map(([k, us]) => `${(us / 1000).toFixed(0).padStart(7)} ms  ${name} < ${k}`).join('\n') + '\n';
}

/**
 * The event loop's longest busy stretches: maximal runs of samples without an (idle) sample,
 * with what they spent their time in (self time by package/file, and the root callers).
 */
export function longTasks(profile: CpuProfile, top = 5): string {
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, ProfileNode>();
    for (const n of profile.nodes) {
        for (const c of n.children ?? []) {
            parent.set(c, n);
        }
    }
    const rootChild = (id: number): string => {
        let n = byId.get(id)!;
        let chain = n;
        while (parent.has(n.id)) {
            chain = n;
            n = parent.get(n.id)!;
        }
        return `${chain.callFrame.functionName || '(anon)'}@${bucketOf(chain.callFrame.url, chain.callFrame.functionName)}`;
    };
    const tasks: { start: number; us: number; samples: number[] }[] = [];
    let cur: { start: number; us: number; samples: number[] } | undefined;
    let t = profile.startTime;
    for (let i = 0; i < profile.samples.length; i++) {
        t += profile.timeDeltas[i] ?? 0;
        const name = byId.get(profile.samples[i])!.callFrame.functionName;
        if (name === '(idle)') {
            if (cur) {
                tasks.push(cur);
            }
            cur = undefined;
            continue;
        }
        cur ??= { start: t, us: 0, samples: [] };
        cur.us += profile.timeDeltas[i + 1] ?? 0;
        cur.samples.push(profile.samples[i]);
    }
    if (cur) {
        tasks.push(cur);
    }
    tasks.sort((a, b) => b.us - a.us);
    const out: string[] = [];
    for (const task of tasks.slice(0, top)) {
        const buckets = new Map<string, number>();
        const roots = new Map<string, number>();
        for (const id of task.samples) {
            const f = byId.get(id)!.callFrame;
            const b = bucketOf(f.url, f.functionName);
            buckets.set(b, (buckets.get(b) ?? 0) + 1);
            const r = rootChild(id);
            roots.set(r, (roots.get(r) ?? 0) + 1);
        }
        const fmt = (m: Map<string, number>): string => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, 6)
            .map(([k, n]) => `${k} ${(n / task.samples.length * 100).toFixed(0)}%`).join(', ');
        out.push(`${(task.us / 1000).toFixed(0)} ms busy at +${((task.start - profile.startTime) / 1e6).toFixed(2)} s\n` +
            `    in: ${fmt(buckets)}\n    from: ${fmt(roots)}`);
    }
    return out.join('\n') + '\n';
}

/**
 * What ran during each event-loop stall recorded by the delivery worker (delivery-stalls.json,
 * written next to the profile with --profile): the samples inside the stall's window, by
 * package/file, by function, and by root caller. Measured runs only (warm-ups included).
 */
export function stallsReport(profile: CpuProfile, stalls: { scenario: string; atUs: number; gapUs: number }[], top = 8): string {
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, ProfileNode>();
    for (const n of profile.nodes) {
        for (const c of n.children ?? []) {
            parent.set(c, n);
        }
    }
    const times: number[] = [];
    let t = profile.startTime;
    for (let i = 0; i < profile.samples.length; i++) {
        t += profile.timeDeltas[i] ?? 0;
        times.push(t);
    }
    const rootChild = (id: number): string => {
        let n = byId.get(id)!;
        let chain = n;
        while (parent.has(n.id)) {
            chain = n;
            n = parent.get(n.id)!;
        }
        return `${chain.callFrame.functionName || '(anon)'}@${bucketOf(chain.callFrame.url, chain.callFrame.functionName)}`;
    };
    const out: string[] = [];
    const sorted = [...stalls].sort((a, b) => b.gapUs - a.gapUs);
    for (const s of sorted.slice(0, top)) {
        const from = s.atUs - s.gapUs;
        const buckets = new Map<string, number>();
        const fns = new Map<string, number>();
        const roots = new Map<string, number>();
        let n = 0;
        for (let i = 0; i < times.length; i++) {
            if (times[i] < from || times[i] > s.atUs) {
                continue;
            }
            const f = byId.get(profile.samples[i])!.callFrame;
            n++;
            const b = bucketOf(f.url, f.functionName);
            buckets.set(b, (buckets.get(b) ?? 0) + 1);
            const fn = `${f.functionName || '(anon)'} ${b}:${f.lineNumber + 1}`;
            fns.set(fn, (fns.get(fn) ?? 0) + 1);
            const r = rootChild(profile.samples[i]);
            roots.set(r, (roots.get(r) ?? 0) + 1);
        }
        const fmt = (m: Map<string, number>): string => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, 6)
            .map(([k, c]) => `${k} ${(c / Math.max(1, n) * 100).toFixed(0)}%`).join(', ');
        out.push(`${(s.gapUs / 1000).toFixed(0)} ms stall in ${s.scenario} at +${((from - profile.startTime) / 1e6).toFixed(2)} s ` +
            `(${n} samples)\n    in: ${fmt(buckets)}\n    fns: ${fmt(fns)}\n    from: ${fmt(roots)}`);
    }
    return `${stalls.length} stalls > 20 ms\n${out.join('\n')}\n`;
}

if (require.main === module) {
    const file = process.argv[2];
    if (!file) {
        process.stderr.write('usage: profile-summary <file.cpuprofile> [top | --long-tasks | --callers <fn> | --stalls <delivery-stalls.json>]\n');
        process.exit(2);
    }
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    const i = process.argv.indexOf('--callers');
    const st = process.argv.indexOf('--stalls');
    if (st > 0) {
        process.stdout.write(stallsReport(profile, JSON.parse(readFileSync(process.argv[st + 1], 'utf8')) as never));
    } else if (process.argv.includes('--long-tasks')) {
        process.stdout.write(longTasks(profile, 6));
    } else {
        process.stdout.write(i > 0 ? callers(profile, process.argv[i + 1]) : summarise(profile, Number(process.argv[3] ?? 25)));
    }
}
