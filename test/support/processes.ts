import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The compiled entry points (tests run from dist/test/…, so dist/ is two levels up). */
export const BIN = {
  'sikkerkey-vault': fileURLToPath(new URL('../../vault-server/main.js', import.meta.url)),
  sikkerkey: fileURLToPath(new URL('../../vault-server/cli/main.js', import.meta.url)),
  'sikkerkey-agent': fileURLToPath(new URL('../../agent/main.js', import.meta.url)),
} as const;
export type BinName = keyof typeof BIN;

export interface CliResult { code: number | null; stdout: string; stderr: string }

/**
 * `sikkerkey-vault serve` in tests runs one process (`--workers 1`) unless the test gives
 * `--workers` itself: the default (one worker per CPU) would fork on every test's vault.
 */
export function withTestDefaults(bin: BinName, args: string[]): string[] {
  return bin === 'sikkerkey-vault' && args[0] === 'serve' && !args.some((a) => a === '--workers' || a.startsWith('--workers=')) ? [...args, '--workers', '1'] : args;
}

/** Runs one of our programs as a real process, the way a user would. */
export function runBin(bin: BinName, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number; cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN[bin], ...withTestDefaults(bin, args)], {
      env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'], ...(opts.cwd ? { cwd: opts.cwd } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${bin} ${args.slice(0, 2).join(' ')} did not exit within ${timeoutMs} ms; stdout: ${stdout.slice(-1000)} stderr: ${stderr.slice(-1000)}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
    child.stdin.end(opts.input ?? '');
  });
}

/** Parses a --json command's stdout, failing the test with the command's stderr if it did not succeed. */
export function jsonOf<T>(r: CliResult): T {
  if (r.code !== 0) throw new Error(`command failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

export interface RunningProcess {
  proc: ChildProcess;
  output: () => string;
  /**
   * Resolves once the process wrote output matching `re` to stdout or stderr (returns the match);
   * fails when the process exits first or after `timeoutMs`, quoting its output. The default,
   * 60 s, is far above what a start-up or a fault point takes even on a loaded machine: it only
   * decides how long a broken run takes to fail.
   */
  waitFor: (re: RegExp, timeoutMs?: number) => Promise<RegExpMatchArray>;
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

export function startBin(bin: BinName, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): RunningProcess {
  return startExecutable(process.execPath, [BIN[bin], ...withTestDefaults(bin, args)], { ...opts, label: bin });
}

/** Like startBin, for any executable (e.g. the single-executable agent in dist/bin). */
export function startExecutable(command: string, args: string[], opts: { env?: NodeJS.ProcessEnv; label?: string; cwd?: string } = {}): RunningProcess {
  const bin = opts.label ?? command;
  const proc = spawn(command, args, { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'], ...(opts.cwd ? { cwd: opts.cwd } : {}) });
  let out = '';
  const waiters: Array<() => void> = [];
  const onData = (d: Buffer): void => { out += d.toString(); waiters.forEach((w) => w()); };
  proc.stdout?.on('data', onData);
  proc.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => { waiters.forEach((w) => w()); resolve(code); }));
  return {
    proc,
    output: () => out,
    waitFor: (re, timeoutMs = 60_000) => new Promise((resolve, reject) => {
      const check = (): boolean => {
        const m = out.match(re);
        if (m) { resolve(m); return true; }
        if (proc.exitCode !== null || proc.signalCode !== null) { reject(new Error(`${bin} exited before ${re}: ${out.slice(-2000)}`)); return true; }
        return false;
      };
      if (check()) return;
      const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${re} from ${bin} (${processState(proc.pid)}); its last output: ${out.slice(-2000)}`)), timeoutMs);
      waiters.push(() => { if (check()) clearTimeout(timer); });
    }),
    stop: async (signal = 'SIGTERM') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

/**
 * What the kernel says of a process that has not said what a test waits for (Linux /proc): its
 * state letter, the kernel function it sleeps in, and its CPU time so far — "S, ep_poll, 0.4 s"
 * is a process waiting on its event loop, "D" one stuck in I/O, near-zero CPU one that barely ran.
 */
function processState(pid: number | undefined): string {
  if (pid === undefined) return 'never started';
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuS = (Number(fields[11]) + Number(fields[12])) / 100;
    let wchan = '?';
    try { wchan = readFileSync(`/proc/${pid}/wchan`, 'utf8') || '-'; } catch { /* not readable here */ }
    return `pid ${pid}: state ${fields[0]}, in ${wchan}, ${cpuS.toFixed(2)} s of CPU`;
  } catch {
    return `pid ${pid}: gone`;
  }
}

/** The pids whose parent is `pid` (Linux /proc): a `serve --workers N` primary's workers. */
export function childPids(pid: number): number[] {
  const kids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // pid (comm) state ppid …: comm may hold spaces and parentheses, so split after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) kids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return kids;
}

/** Gone, or a zombie waiting for a reaper: either way it holds no socket and no file. */
export function pidGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}
