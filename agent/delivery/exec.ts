/**
 * `sikkerkey-agent exec`: start a command with secrets in its environment, and follow them. The
 * values go into the child's environment only — never its argv, never this process's own
 * `process.env`, never a log line. On a newer version (a rotation's promotion, an operator's
 * write) the child is restarted (SIGTERM, a grace period, SIGKILL) with the new values, or sent a
 * signal (for an application that re-reads a rendered file on SIGHUP), or left alone. Signals this
 * process receives go to the child; this process exits with the child's status. With `--lease`,
 * leased database logins join the environment (agent/leases/exec-leases.ts): renewed in the
 * background, taken anew (and the child told as above) when a renewal is refused, revoked at exit.
 *
 * @example
 *   const code = await runExec({ client, env: [{ name: 'DB_PASSWORD', ref: parseSecretRef('shop/db#password', '--env') }],
 *     envFileSecrets: [], onChange: { kind: 'restart' }, once: false, graceMs: 10_000,
 *     command: 'app', args: [], baseEnv: process.env, log: (m) => process.stderr.write(m + '\n') });
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { SikkerKeyError } from '../../protocol/errors.js';
import type { SecretValue } from '../../protocol/client.js';
import { SecretFollower } from './secret-follower.js';
import type { DeliveryLog, SecretReader } from './secret-follower.js';
import { envNameOfField, secretKey, valueOf } from './secret-refs.js';
import type { SecretKey, SecretRef } from './secret-refs.js';
import type { LeaseSource } from '../leases/exec-leases.js';

export type OnChange = { kind: 'restart' } | { kind: 'signal'; signal: NodeJS.Signals } | { kind: 'none' };

/** Files rendered next to the child (templates from the agent config), re-rendered before it is told. */
export interface RenderedFiles {
  readonly keys: readonly SecretKey[];
  /** Renders every template (all: true) or those that use `changed`, then runs their commands. */
  render(values: ReadonlyMap<SecretKey, SecretValue>, changed?: SecretKey): Promise<void>;
}

export interface ExecRequest {
  client: SecretReader;
  env: ReadonlyArray<{ name: string; ref: SecretRef }>;
  envFileSecrets: ReadonlyArray<Pick<SecretRef, 'project' | 'secret'>>;
  onChange: OnChange;
  /** Read once, start the command, do not follow: an init container, a one-off job. */
  once: boolean;
  graceMs: number;
  command: string;
  args: readonly string[];
  /** The child's environment before the secrets are added (this process's, normally). */
  baseEnv: NodeJS.ProcessEnv;
  files?: RenderedFiles;
  /**
   * Leased database logins (`--lease NAME=project/role`, agent/leases/exec-leases.ts): their
   * variables go on top of the secrets'; a lease taken anew restarts or signals the child like a
   * new version; every lease is revoked when the child has exited.
   */
  leases?: LeaseSource;
  log: DeliveryLog;
}

/** Signals passed on to the child; SIGTERM and SIGINT also mean "stop, do not restart". */
const FORWARDED: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

/** `--on-change restart|none|signal:HUP` (or signal:SIGHUP). */
export function parseOnChange(text: string): OnChange {
  if (text === 'restart' || text === 'none') return { kind: text };
  const m = /^signal:(?:SIG)?([A-Z0-9]+)$/.exec(text);
  const signal = m ? `SIG${m[1]}` : '';
  if (m && Object.hasOwn(osConstants.signals, signal) && signal !== 'SIGKILL' && signal !== 'SIGSTOP') return { kind: 'signal', signal: signal as NodeJS.Signals };
  throw new SikkerKeyError('SK_ERR_USAGE', `--on-change takes restart, none or signal:NAME (e.g. signal:HUP), not ${JSON.stringify(text)}`);
}

/** The variables the child gets on top of `baseEnv`: each --env-file-secret's fields, then each --env (which wins). */
export function childVariables(req: Pick<ExecRequest, 'env' | 'envFileSecrets'>, values: ReadonlyMap<SecretKey, SecretValue>): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const s of req.envFileSecrets) {
    const read = values.get(secretKey(s)) as SecretValue;
    if (read.fields === undefined) throw new SikkerKeyError('SK_ERR_USAGE', `--env-file-secret ${secretKey(s)} is not a structured secret: name its value with --env VAR=${secretKey(s)}`);
    for (const [field, value] of Object.entries(read.fields)) vars[envNameOfField(field)] = value;
  }
  for (const { name, ref } of req.env) vars[name] = valueOf(ref, values.get(secretKey(ref)) as SecretValue);
  return vars;
}

/** Every secret the exec reads, once each, in a stable order. */
export function execKeys(req: Pick<ExecRequest, 'env' | 'envFileSecrets' | 'files'>): SecretKey[] {
  return [...new Set([...req.envFileSecrets.map(secretKey), ...req.env.map(({ ref }) => secretKey(ref)), ...(req.files?.keys ?? [])])];
}

function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal === null ? 0 : (osConstants.signals[signal] ?? 0));
}

/** Runs the command until it exits on its own (or on a forwarded signal); resolves to its status. */
export async function runExec(req: ExecRequest): Promise<number> {
  const follower = new SecretFollower(req.client, execKeys(req));
  const values = await follower.readAll();
  let secretVars = childVariables(req, values); // checked before anything starts
  await req.files?.render(values);
  let onLeaseChange: (next: Record<string, string>) => void = () => undefined;
  let leaseVars = req.leases === undefined ? {} : await req.leases.start((next) => onLeaseChange(next));
  let vars = { ...secretVars, ...leaseVars };

  const follow = new AbortController();
  let child: ChildProcess | undefined;
  let restarting = false;
  let stopping = false;
  let done: (status: number) => void = () => undefined;
  const finished = new Promise<number>((resolve) => { done = resolve; });

  const start = (): void => {
    const c = spawn(req.command, [...req.args], { env: { ...req.baseEnv, ...vars }, stdio: 'inherit' });
    child = c;
    let over = false;
    c.on('error', (err: NodeJS.ErrnoException) => {
      if (over) return;
      over = true;
      req.log(`cannot start ${JSON.stringify(req.command)}: ${err.code ?? err.message}`);
      done(err.code === 'ENOENT' ? 127 : 126);
    });
    c.on('exit', (code, signal) => {
      if (over) return;
      over = true;
      if (restarting && !stopping) {
        restarting = false;
        start();
        req.log(`restarted ${JSON.stringify(req.command)} with the new values (pid ${c.pid} → ${child?.pid})`);
        return;
      }
      done(exitStatus(code, signal));
    });
  };

  const restart = (): void => {
    const c = child;
    if (c === undefined || restarting || stopping) return; // a restart under way starts the child with the latest values
    restarting = true;
    c.kill('SIGTERM');
    const timer = setTimeout(() => {
      if (c.exitCode === null && c.signalCode === null) {
        req.log(`pid ${c.pid} did not exit within ${req.graceMs} ms of SIGTERM: SIGKILL`);
        c.kill('SIGKILL');
      }
    }, req.graceMs);
    c.once('exit', () => clearTimeout(timer));
  };

  const forward = (signal: NodeJS.Signals): void => {
    if (signal === 'SIGTERM' || signal === 'SIGINT') stopping = true;
    child?.kill(signal);
  };
  const handlers = FORWARDED.map((s) => [s, () => forward(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);
  onLeaseChange = (next) => {
    leaseVars = next;
    vars = { ...secretVars, ...leaseVars };
    req.log(`a lease was taken anew: ${describe(req.onChange)}`);
    if (req.onChange.kind === 'restart') restart();
    else if (req.onChange.kind === 'signal') child?.kill(req.onChange.signal);
  };

  try {
    start();
    req.log(`started ${JSON.stringify(req.command)} (pid ${child?.pid}) with ${Object.keys(vars).length} variable(s) from ${values.size} secret(s)${req.leases ? ' and lease(s)' : ''}${req.once ? '' : `; on a new version: ${describe(req.onChange)}`}`);
    if (!req.once) {
      void follower.follow(async (key, value) => {
        values.set(key, value);
        try {
          secretVars = childVariables(req, values);
          vars = { ...secretVars, ...leaseVars };
          await req.files?.render(values, key);
        } catch (err) {
          req.log(`version ${value.version} of ${key} was not delivered: ${err instanceof Error ? err.message : String(err)}`);
          return;
        }
        req.log(`version ${value.version} of ${key} is live: ${describe(req.onChange)}`);
        if (req.onChange.kind === 'restart') restart();
        else if (req.onChange.kind === 'signal') child?.kill(req.onChange.signal);
      }, (key, err) => {
        const code = err instanceof SikkerKeyError ? `${err.code}: ` : '';
        req.log(`stopped following ${key}: ${code}${err instanceof Error ? err.message : String(err)}`);
      }, follow.signal);
    }
    return await finished;
  } finally {
    follow.abort();
    for (const [s, h] of handlers) process.off(s, h);
    await req.leases?.stop();
  }
}

function describe(onChange: OnChange): string {
  if (onChange.kind === 'restart') return 'restart the command';
  if (onChange.kind === 'signal') return `send it ${onChange.signal}`;
  return 'nothing (--on-change none)';
}
