/**
 * Child processes a benchmark starts (vault, baseline server, load generator): optionally pinned
 * to one CPU with `taskset`, tracked so that every one of them dies with the bench — on a normal
 * exit, an exception, SIGINT or SIGTERM. Cleanups registered with `onInterrupt` (temporary
 * directories, scratch databases) also run on SIGINT / SIGTERM.
 *
 * @example
 *   const child = spawnTracked(pinnedCommand(0, [process.execPath, 'server.js']), { logFile });
 *   await child.waitForLine(/"url":"([^"]+)"/);
 *   await child.stop();
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
const live = new Set();
const cleanups = new Set();
let handlersInstalled = false;
/** Runs `cleanup` if the bench is interrupted (after its children are killed); returns a function that unregisters it. */
export function onInterrupt(cleanup) {
    installHandlers();
    cleanups.add(cleanup);
    return () => { cleanups.delete(cleanup); };
}
function killAll() {
    for (const child of live) {
        if (child.exitCode === null && child.signalCode === null)
            child.kill('SIGKILL');
    }
    live.clear();
}
function installHandlers() {
    if (handlersInstalled)
        return;
    handlersInstalled = true;
    process.on('exit', killAll);
    for (const signal of ['SIGINT', 'SIGTERM']) {
        process.once(signal, () => {
            killAll();
            const pending = [...cleanups].map(async (c) => { await c(); });
            const timeout = new Promise((r) => setTimeout(r, 5000).unref());
            void Promise.race([Promise.allSettled(pending), timeout]).then(() => process.exit(signal === 'SIGINT' ? 130 : 143));
        });
    }
}
let tasksetFound;
/** True when `taskset` runs here and the machine has at least two CPUs to pin onto. */
export function canPin() {
    if (tasksetFound === undefined) {
        const r = spawnSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' });
        tasksetFound = r.status === 0;
    }
    return tasksetFound && availableParallelism() >= 2;
}
/** `argv` prefixed with `taskset -c <cpu>` when pinning is possible and `cpu` is given. */
export function pinnedCommand(cpu, argv) {
    return cpu !== undefined && canPin() ? ['taskset', '-c', String(cpu), ...argv] : argv;
}
/**
 * Starts `argv`. With `logFile`, stdout and stderr go straight to that file (a busy server's
 * request log then costs this process nothing); without it they are piped and kept here.
 */
export function spawnTracked(argv, opts = {}) {
    installHandlers();
    const [command, ...args] = argv;
    if (command === undefined)
        throw new Error('spawnTracked needs a command');
    const fd = opts.logFile !== undefined ? openSync(opts.logFile, 'a') : undefined;
    const proc = spawn(command, args, {
        env: { ...process.env, ...opts.env },
        stdio: fd !== undefined ? ['ignore', fd, fd] : ['ignore', 'pipe', 'pipe'],
    });
    if (fd !== undefined)
        closeSync(fd);
    live.add(proc);
    let piped = '';
    proc.stdout?.on('data', (d) => { piped += d.toString(); });
    proc.stderr?.on('data', (d) => { piped += d.toString(); });
    const exited = new Promise((resolve) => {
        proc.on('exit', (code) => { live.delete(proc); resolve(code); });
        proc.on('error', () => { live.delete(proc); resolve(null); });
    });
    const output = () => (opts.logFile !== undefined ? readFileSync(opts.logFile, 'utf8') : piped);
    const label = argv.slice(0, 4).join(' ');
    return {
        proc,
        output,
        exited,
        waitForLine: (re, timeoutMs = 60_000) => new Promise((resolve, reject) => {
            const deadline = Date.now() + timeoutMs;
            const poll = () => {
                const text = output();
                const m = text.match(re);
                if (m) {
                    resolve(m);
                    return;
                }
                if (proc.exitCode !== null || proc.signalCode !== null) {
                    reject(new Error(`${label} exited before ${String(re)}: ${text.slice(-2000)}`));
                    return;
                }
                if (Date.now() > deadline) {
                    reject(new Error(`${label}: no ${String(re)} within ${timeoutMs} ms: ${text.slice(-2000)}`));
                    return;
                }
                setTimeout(poll, 25);
            };
            poll();
        }),
        stop: async ({ signal = 'SIGKILL', graceMs = 0 } = {}) => {
            if (proc.exitCode === null && proc.signalCode === null)
                proc.kill(signal);
            if (signal !== 'SIGKILL') {
                const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
                await exited;
                clearTimeout(timer);
            }
            await exited;
        },
    };
}
//# sourceMappingURL=child-processes.js.map