/**
 * End-to-end rotation harness: a real vault process (SQLite), real agent processes, and a real
 * database that enforces passwords. It sets up what an operator would — a project, the rotated
 * secret, the admin secret, an agent machine granted the admin secret, an application machine
 * granted the rotated secret — through the real CLI.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonOf, runBin, startBin } from './processes.js';
import type { CliResult, RunningProcess } from './processes.js';
import { VaultClient } from '../../protocol/client.js';
import { readPrivateKeyFile } from '../../protocol/keys.js';

export interface RotationHarnessOptions {
  engine: string;
  /** The rotated secret's fields (host, port, username, password, database…). */
  target: Record<string, string>;
  /** The admin secret's fields. */
  admin: Record<string, string>;
  /** Vault --rotation-lease (default 3s, short so re-claims happen within a test). */
  lease?: string;
  strategy?: string;
}

export interface RotationHarness {
  dir: string;
  url: string;
  vault: RunningProcess;
  /** Runs `sikkerkey …` as the operator. */
  sk(args: string[]): Promise<CliResult>;
  /** Starts an agent process (optionally paused at a fault point). */
  startAgent(opts?: { faultAt?: string; name?: string }): Promise<RunningProcess>;
  /** The application's read of the rotated secret. */
  read(): Promise<{ version: number; fields: Record<string, string> }>;
  restartVault(opts?: { faultAt?: string }): Promise<void>;
  close(): Promise<void>;
}

let agentPort = 0;

export async function startRotationHarness(opts: RotationHarnessOptions): Promise<RotationHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'sk-rot-'));
  const processes: RunningProcess[] = [];
  const opKey = join(dir, 'operator.key');
  const op = jsonOf<{ publicKey: string }>(await runBin('sikkerkey', ['keygen', '--out', opKey, '--json']));
  const dataDir = join(dir, 'data');
  const init = jsonOf<{ rootKey: string }>(await runBin('sikkerkey-vault', ['init', '--data-dir', dataDir, '--operator-public-key', op.publicKey, '--json']));
  const rootKeyFile = join(dir, 'root.key');
  writeFileSync(rootKeyFile, init.rootKey, { mode: 0o600 });

  let port = 0;
  const startVault = async (faultAt?: string): Promise<RunningProcess> => {
    const v = startBin('sikkerkey-vault', ['serve', '--data-dir', dataDir, '--root-key-file', rootKeyFile, '--listen', `127.0.0.1:${port}`,
      '--rotation-lease', opts.lease ?? '3s', '--log-level', 'info'], { env: faultAt ? { SIKKERKEY_FAULT_PAUSE_AT: faultAt } : {} });
    processes.push(v);
    await waitForHealth(`http://127.0.0.1:${port || (await portFromLog(v))}`);
    return v;
  };
  let vault = await startVault();
  port = await portFromLog(vault);
  const url = `http://127.0.0.1:${port}`;
  const env = { SIKKERKEY_URL: url, SIKKERKEY_KEY_FILE: opKey };
  const sk = (args: string[]): Promise<CliResult> => runBin('sikkerkey', args, { env });
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
  await must(['rotation', 'set', 'db', 'app', '--provider', opts.engine, '--agent-label', 'rotator', '--admin-secret', 'admin', '--strategy', opts.strategy ?? 'single']);

  const appIdentity = readPrivateKeyFile(appKey);
  const appClient = new VaultClient({ url, key: { keyId: appIdentity.keyId, privateKey: appIdentity.privateKey } });

  return {
    dir, url,
    get vault() { return vault; },
    sk,
    startAgent: async (o = {}) => {
      const cfg = join(dir, `agent-${o.name ?? 'a'}-${agentPort++}.json`);
      writeFileSync(cfg, JSON.stringify({ vaultUrl: url, keyFile: agentKey, health: { listen: '127.0.0.1:0' }, pollWaitSeconds: 5, log: { level: 'info' } }));
      const a = startBin('sikkerkey-agent', ['run', '--config', cfg], { env: o.faultAt ? { SIKKERKEY_FAULT_PAUSE_AT: o.faultAt } : {} });
      processes.push(a);
      await a.waitFor(/agent started/);
      return a;
    },
    read: async () => {
      const r = await appClient.getSecret('db', 'app');
      return { version: r.version, fields: r.fields ?? {} };
    },
    restartVault: async (o = {}) => {
      await vault.stop('SIGKILL');
      vault = await startVault(o.faultAt);
    },
    close: async () => {
      for (const p of processes.reverse()) await p.stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function portFromLog(v: RunningProcess): Promise<number> {
  const m = await v.waitFor(/"url":"http:\/\/127\.0\.0\.1:(\d+)"/);
  return Number(m[1]);
}

async function waitForHealth(url: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) return;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) throw new Error(`vault at ${url} did not come up`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
