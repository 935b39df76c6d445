/**
 * End-to-end rotation harness: a real vault process (SQLite), real agent processes, and a real
 * database that enforces passwords. It sets up what an operator would — a project, the rotated
 * secret, the admin secret, an agent machine granted the admin secret, an application machine
 * granted the rotated secret — through the real CLI. With `tls`, the vault serves https and every
 * client (CLI, agent, the application's client) verifies it against the given CA.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childPids, jsonOf, pidGone, runBin, startBin, startExecutable } from './processes.js';
import type { CliResult, RunningProcess } from './processes.js';
import { VaultClient } from '../../protocol/client.js';
import { readPrivateKeyFile } from '../../protocol/keys.js';
import { freePort } from './services.js';
import { waitFor } from './wait.js';

export interface RotationHarnessOptions {
  engine: string;
  /** The rotated secret's fields (host, port, username, password, database…). */
  target: Record<string, string>;
  /** The admin secret's fields. */
  admin: Record<string, string>;
  /** Vault --rotation-lease (default 3s, short so re-claims happen within a test). */
  lease?: string;
  strategy?: string;
  /** Serve TLS with this certificate and key; clients trust `ca` (files, PEM). */
  tls?: { cert: string; key: string; ca: string };
  /** More URLs the vault answers to (--public-url), e.g. a proxy in front of it; its own URL stays valid. */
  publicUrls?: string[];
  /** --grace for dual/alternating. */
  grace?: string;
  /** --alternate-username for alternating. */
  alternateUsername?: string;
  /** Run this executable as the agent (e.g. the single executable, dist/bin/sikkerkey-agent) instead of `node dist/agent/main.js`. */
  agentExecutable?: string;
  /**
   * More `serve` arguments, e.g. `['--workers', '2']` (the test default is `--workers 1`). With
   * more than one worker, `restartVault` with SIGKILL kills the whole vault at once — the primary
   * and every worker, as `kill -9` of the service's process group would — since a fault point
   * pauses whichever worker took the request.
   */
  serveArgs?: string[];
  /** false: no rotation policy on the secret (a lease test sets up lease roles instead). Default true. */
  rotationPolicy?: boolean;
}

export interface RotationHarness {
  dir: string;
  url: string;
  vault: RunningProcess;
  /** Runs `sikkerkey …` as the operator. */
  sk(args: string[]): Promise<CliResult>;
  /** Starts an agent process (optionally paused at a fault point). */
  startAgent(opts?: { faultAt?: string; name?: string; vaultUrl?: string; config?: Record<string, unknown> }): Promise<RunningProcess>;
  /** The application's read of the rotated secret. */
  read(): Promise<{ version: number; fields: Record<string, string> }>;
  /**
   * Stops the vault (SIGKILL unless told otherwise; with several workers, SIGKILL goes to the
   * primary and every worker at once) and starts it again on the same port; resolves to the old
   * (primary) process's exit code.
   */
  restartVault(opts?: { faultAt?: string; signal?: NodeJS.Signals }): Promise<number | null>;
  /** The worker pids each whole-vault SIGKILL (several workers) killed along with the primary, in order. */
  readonly vaultKills: number[][];
  close(): Promise<void>;
}

let agentPort = 0;

export async function startRotationHarness(opts: RotationHarnessOptions): Promise<RotationHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'sk-rot-'));
  const processes: RunningProcess[] = [];
  try {
    return await setUp(opts, dir, processes);
  } catch (err) {
    // A failed setup must not leave a vault (or agent) process behind.
    for (const p of processes) await p.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

async function setUp(opts: RotationHarnessOptions, dir: string, processes: RunningProcess[]): Promise<RotationHarness> {
  const opKey = join(dir, 'operator.key');
  const op = jsonOf<{ publicKey: string }>(await runBin('sikkerkey', ['keygen', '--out', opKey, '--json']));
  const dataDir = join(dir, 'data');
  const init = jsonOf<{ rootKey: string }>(await runBin('sikkerkey-vault', ['init', '--data-dir', dataDir, '--operator-public-key', op.publicKey, '--json']));
  const rootKeyFile = join(dir, 'root.key');
  writeFileSync(rootKeyFile, init.rootKey, { mode: 0o600 });

  const scheme = opts.tls ? 'https' : 'http';
  const ca = opts.tls ? readFileSync(opts.tls.ca, 'utf8') : undefined;
  // With extra public URLs the vault's own URL must be listed too, so its port is fixed up front.
  let port = opts.publicUrls ? await freePort() : 0;
  const startVault = async (faultAt?: string): Promise<RunningProcess> => {
    const v = startBin('sikkerkey-vault', ['serve', '--data-dir', dataDir, '--root-key-file', rootKeyFile, '--listen', `127.0.0.1:${port}`,
      '--rotation-lease', opts.lease ?? '3s', '--log-level', 'info',
      ...(opts.tls ? ['--tls-cert', opts.tls.cert, '--tls-key', opts.tls.key] : []),
      ...(opts.publicUrls ? [`${scheme}://127.0.0.1:${port}`, ...opts.publicUrls].flatMap((u) => ['--public-url', u]) : []),
      ...(opts.serveArgs ?? []),
    ], { env: faultAt ? { SIKKERKEY_FAULT_PAUSE_AT: faultAt } : {} });
    processes.push(v);
    await waitForHealth(v, `${scheme}://127.0.0.1:${port || (await portFromLog(v))}`, ca).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}: ${v.output().slice(-1500)}`);
    });
    return v;
  };
  const workersAt = (opts.serveArgs ?? []).indexOf('--workers');
  const workers = workersAt >= 0 ? Number(opts.serveArgs?.[workersAt + 1]) : 1;
  const vaultKills: number[][] = [];
  let vault = await startVault();
  port = await portFromLog(vault);
  const url = `${scheme}://127.0.0.1:${port}`;
  const env = { SIKKERKEY_URL: url, SIKKERKEY_KEY_FILE: opKey, ...(opts.tls ? { SIKKERKEY_CA_FILE: opts.tls.ca } : {}) };
  // `rotation run --wait` waits for the rotation itself: give the CLI room to report its own timeout.
  const sk = (args: string[]): Promise<CliResult> => runBin('sikkerkey', args, { env, timeoutMs: 120_000 });
  const must = async (args: string[]): Promise<void> => { jsonOf(await sk([...args, '--json'])); };

  await must(['project', 'create', 'db']);
  await must(['secret', 'set', 'db', 'app', '--fields-json', JSON.stringify(opts.target)]);
  await must(['secret', 'set', 'db', 'admin', '--fields-json', JSON.stringify(opts.admin)]);
  const agentKey = join(dir, 'agent.key');
  const agentPub = jsonOf<{ publicKey: string }>(await runBin('sikkerkey-agent', ['init', '--key-file', agentKey, '--json']));
  await must(['machine', 'add', 'agent1', '--public-key', agentPub.publicKey, '--label', 'rotator']);
  await must(['grant', 'add', 'agent1', '--project', 'db', '--secret', 'admin']);
  const appKey = join(dir, 'app.key');
  const appPub = jsonOf<{ publicKey: string }>(await runBin('sikkerkey-agent', ['init', '--key-file', appKey, '--json']));
  await must(['machine', 'add', 'app1', '--public-key', appPub.publicKey]);
  await must(['grant', 'add', 'app1', '--project', 'db', '--secret', 'app']);
  if (opts.rotationPolicy !== false) await must(['rotation', 'set', 'db', 'app', '--provider', opts.engine, '--agent-label', 'rotator', '--admin-secret', 'admin', '--strategy', opts.strategy ?? 'single',
    ...(opts.grace ? ['--grace', opts.grace] : []), ...(opts.alternateUsername ? ['--alternate-username', opts.alternateUsername] : [])]);

  const appIdentity = readPrivateKeyFile(appKey);
  const appClient = new VaultClient({ url, key: { keyId: appIdentity.keyId, privateKey: appIdentity.privateKey }, ...(opts.tls ? { caFile: opts.tls.ca } : {}) });

  return {
    dir, url,
    get vault() { return vault; },
    vaultKills,
    sk,
    startAgent: async (o = {}) => {
      const cfg = join(dir, `agent-${o.name ?? 'a'}-${agentPort++}.json`);
      writeFileSync(cfg, JSON.stringify({
        vaultUrl: o.vaultUrl ?? url, keyFile: agentKey, health: { listen: '127.0.0.1:0' }, pollWaitSeconds: 5, log: { level: 'info' },
        ...(opts.tls ? { caFile: opts.tls.ca } : {}), ...o.config,
      }));
      const agentEnv = { env: o.faultAt ? { SIKKERKEY_FAULT_PAUSE_AT: o.faultAt } : {} };
      const a = opts.agentExecutable
        ? startExecutable(opts.agentExecutable, ['run', '--config', cfg], { ...agentEnv, label: 'sikkerkey-agent' })
        : startBin('sikkerkey-agent', ['run', '--config', cfg], agentEnv);
      processes.push(a);
      await a.waitFor(/agent started/);
      return a;
    },
    read: async () => {
      const r = await appClient.getSecret('db', 'app');
      return { version: r.version, fields: r.fields ?? {} };
    },
    restartVault: async (o = {}) => {
      const signal = o.signal ?? 'SIGKILL';
      const code = signal === 'SIGKILL' && workers > 1 ? await killWholeVault(vault, workers, vaultKills) : await vault.stop(signal);
      vault = await startVault(o.faultAt);
      return code;
    },
    close: async () => {
      for (const p of processes.reverse()) await p.stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * SIGKILL to a `serve --workers N` primary and its N workers in one go (a crash of the whole
 * service, not a primary whose workers notice it is gone and exit); resolves to the primary's exit
 * code once every one of them is gone. Fails when the primary has not N workers to kill.
 */
async function killWholeVault(v: RunningProcess, workers: number, kills: number[][]): Promise<number | null> {
  const primary = v.proc.pid;
  if (primary === undefined || v.proc.exitCode !== null || v.proc.signalCode !== null) return v.stop('SIGKILL');
  const kids = childPids(primary);
  if (kids.length !== workers) throw new Error(`the vault (pid ${primary}) has ${kids.length} child processes, not its ${workers} workers: ${kids.join(', ')}`);
  for (const pid of kids) process.kill(pid, 'SIGKILL');
  kills.push(kids);
  const code = await v.stop('SIGKILL');
  await waitFor(() => kids.filter((pid) => !pidGone(pid)), { what: `the workers ${kids.join(', ')} to be gone`, timeoutMs: 10_000, intervalMs: 20, until: (left) => left.length === 0 });
  return code;
}

async function portFromLog(v: RunningProcess): Promise<number> {
  const m = await v.waitFor(/"url":"https?:\/\/127\.0\.0\.1:(\d+)"/);
  return Number(m[1]);
}

/** GET url → status code; https verified against `ca`. A request unanswered for 5 s fails (and is retried). */
function statusOf(url: string, ca: string | undefined): Promise<number> {
  if (!url.startsWith('https:')) return fetch(url, { signal: AbortSignal.timeout(5_000) }).then((r) => r.status);
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca, agent: false, timeout: 5_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', reject);
  });
}

class VaultExited extends Error {}

async function waitForHealth(v: RunningProcess, url: string, ca: string | undefined, timeoutMs = 30_000): Promise<void> {
  await waitFor(async () => {
    if (v.proc.exitCode !== null || v.proc.signalCode !== null) throw new VaultExited(`the vault exited (${v.proc.exitCode ?? v.proc.signalCode})`);
    return `HTTP ${await statusOf(`${url}/healthz`, ca)}`;
  }, {
    what: `the vault at ${url} to answer /healthz with 200`, timeoutMs, until: (seen) => seen === 'HTTP 200',
    retryOn: (err) => !(err instanceof VaultExited), // not listening yet: connection refused
  });
}
