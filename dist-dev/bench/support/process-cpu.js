/**
 * CPU time a process (all its threads, libuv's thread pool included) has used so far, from
 * /proc/<pid>/stat; `undefined` where /proc is not available. Tells a server that waits (I/O,
 * locks) apart from one that is busy computing.
 *
 * @example
 *   const before = processCpuSeconds(pid);
 *   // … load …
 *   const cores = ((processCpuSeconds(pid) ?? NaN) - (before ?? NaN)) / wallSeconds;
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
let ticksPerSecond;
function clockTicks() {
    if (ticksPerSecond === undefined) {
        const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
        const n = Number(r.stdout?.trim());
        ticksPerSecond = Number.isInteger(n) && n > 0 ? n : 100;
    }
    return ticksPerSecond;
}
export function processCpuSeconds(pid) {
    try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const utime = Number(fields[11]);
        const stime = Number(fields[12]);
        return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / clockTicks() : undefined;
    }
    catch {
        return undefined;
    }
}
/** Runs `work` and returns its result with the cores `pid` used meanwhile (undefined without /proc). */
export async function withServerCpu(pid, work) {
    const before = processCpuSeconds(pid);
    const t0 = performance.now();
    const result = await work();
    const after = processCpuSeconds(pid);
    const wall = (performance.now() - t0) / 1000;
    return { result, serverCpu: before === undefined || after === undefined ? undefined : Math.round(((after - before) / wall) * 100) / 100 };
}
//# sourceMappingURL=process-cpu.js.map