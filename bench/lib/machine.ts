import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { execFileSync } from 'node:child_process';

export interface MachineInfo {
    readonly cpuModel: string;
    readonly cores: number;
    readonly node: string;
    readonly platform: string;
    readonly totalMemMB: number;
    readonly freeMemMB: number;
    /** 1-minute load average when the run started: above ~0.5 the machine was not quiet. */
    readonly loadAvg1: number;
    readonly date: string;
    readonly gitCommit: string;
}

export function machineInfo(root: string): MachineInfo {
    let gitCommit = 'unknown';
    try {
        gitCommit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    } catch {
        // not a git checkout
    }
    const list = cpus();
    return {
        cpuModel: list[0]?.model.trim() ?? 'unknown',
        cores: list.length,
        node: process.version,
        platform: `${process.platform}-${process.arch}`,
        totalMemMB: Math.round(totalmem() / 2 ** 20),
        freeMemMB: Math.round(freemem() / 2 ** 20),
        loadAvg1: Math.round(loadavg()[0] * 100) / 100,
        date: new Date().toISOString(),
        gitCommit
    };
}
