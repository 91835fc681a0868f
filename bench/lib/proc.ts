import { readFileSync } from 'node:fs';

/** Resident set size of a process in bytes, from /proc (Linux); NaN when unreadable. */
export function rssOf(pid: number): number {
    try {
        const status = readFileSync(`/proc/${pid}/status`, 'utf8');
        const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
        return m ? Number(m[1]) * 1024 : NaN;
    } catch {
        return NaN;
    }
}

/** CPU time (user + system) of a process in ms, from /proc/<pid>/stat; NaN when unreadable. */
export function cpuMsOf(pid: number): number {
    try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        // fields[11] = utime, fields[12] = stime (fields 14 and 15 of proc(5)), in clock ticks
        return (Number(fields[11]) + Number(fields[12])) * 10;
    } catch {
        return NaN;
    }
}

/** Samples a process's RSS every `everyMs` until stopped; returns the peak. */
export function rssSampler(pid: number, everyMs = 200): { stop(): number } {
    let peak = rssOf(pid);
    const t = setInterval(() => {
        const v = rssOf(pid);
        if (v > peak) {
            peak = v;
        }
    }, everyMs);
    return {
        stop(): number {
            clearInterval(t);
            return Math.max(peak, rssOf(pid));
        }
    };
}
