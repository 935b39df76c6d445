/**
 * A real `sikkerkey-vault serve` process for benchmarks, optionally pinned to one CPU, over a fresh
 * SQLite store (temporary directory) or a given PostgreSQL database. Set up as a user would, with
 * the `sikkerkey` CLI as the owner: project `p`, secrets of `valueBytes` random characters, a
 * machine `m` with a generated key (its key file is returned) and a grant on the whole project.
 *
 * @example
 *   const v = await startBenchVault({ store: 'sqlite', cpu: 0, secrets: ['s'] });
 *   // sign requests with readPrivateKeyFile(v.machineKeyFile) against v.url
 *   await v.stop();
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, jsonOf, runBin } from '../../test/support/processes.js';
import { initVaultStore } from '../../test/support/vault-process.js';
import { freePort } from '../../test/support/services.js';
import { canPin, onInterrupt, pinnedCommand, spawnTracked } from './child-processes.js';

export interface BenchVaultOptions {
  store: 'sqlite' | 'postgres';
  /** Required with store `postgres`: a database of its own (see scratch-database.ts). */
  databaseUrl?: string;
  /** Pin the server to this CPU (when taskset exists). */
  cpu?: number;
  /** Secret names to create in project `p` (default `['s']`). */
  secrets?: string[];
  /** Length of each secret's value (default 1024). */
  valueBytes?: number;
  /** The vault's --log-level (default `info`, the vault's own default). */
  logLevel?: string;
  /** Write a V8 CPU profile of the vault (`node --cpu-prof`) into this directory; it is stopped with SIGTERM so the profile is written. */
  cpuProfDir?: string;
}

export interface BenchVault {
  url: string;
  /** The machine's private key file (PKCS#8 PEM, 0600). */
  machineKeyFile: string;
  /** The machine's public key (base64 of the raw 32 bytes). */
  machinePublicKey: string;
  pid: number;
  pinned: boolean;
  /** The server's log so far (successful requests are logged at debug only). */
  log(): string;
  stop(): Promise<void>;
}

function getStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)); });
    req.on('error', () => resolve(0));
    req.setTimeout(2000, () => req.destroy());
  });
}

/** Polls `url` until it answers 200, failing when `exited` resolves first or after `timeoutMs`. */
export async function waitReady(url: string, child: { exited: Promise<number | null>; output(): string }, timeoutMs = 60_000): Promise<void> {
  let gone = false;
  void child.exited.then(() => { gone = true; });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await getStatus(url) === 200) return;
    if (gone) throw new Error(`the server exited before ${url} answered: ${child.output().slice(-2000)}`);
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms: ${child.output().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function cli(env: NodeJS.ProcessEnv, args: string[], input?: string): Promise<unknown> {
  return jsonOf(await runBin('sikkerkey', [...args, '--json'], { env, ...(input !== undefined ? { input } : {}) }));
}

export async function startBenchVault(opts: BenchVaultOptions): Promise<BenchVault> {
  if (opts.store === 'postgres' && opts.databaseUrl === undefined) throw new Error('a postgres bench vault needs databaseUrl');
  const dir = mkdtempSync(join(tmpdir(), 'sk-bench-vault-'));
  const forget = onInterrupt(() => rmSync(dir, { recursive: true, force: true }));
  let stopServer = async (): Promise<void> => {};
  try {
    const { opKey, rootKeyFile, storeArgs } = await initVaultStore(dir, opts.store === 'postgres' ? opts.databaseUrl : undefined);
    const port = await freePort();
    const profile = opts.cpuProfDir !== undefined ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProfDir] : [];
    const server = spawnTracked(pinnedCommand(opts.cpu, [process.execPath, ...profile, BIN['sikkerkey-vault'], 'serve', ...storeArgs,
      '--root-key-file', rootKeyFile, '--listen', `127.0.0.1:${port}`, '--log-level', opts.logLevel ?? 'info']), { logFile: join(dir, 'serve.log') });
    stopServer = () => server.stop();
    const url = `http://127.0.0.1:${port}`;
    await waitReady(`${url}/readyz`, server);

    const env = { SIKKERKEY_URL: url, SIKKERKEY_KEY_FILE: opKey };
    await cli(env, ['project', 'create', 'p']);
    for (const name of opts.secrets ?? ['s']) {
      // Random, never printed; given on stdin so it is not in any process listing either.
      const value = randomBytes(opts.valueBytes ?? 1024).toString('base64url').slice(0, opts.valueBytes ?? 1024);
      await cli(env, ['secret', 'set', 'p', name, '--value-stdin'], value);
    }
    const machineKeyFile = join(dir, 'machine.key');
    const machine = jsonOf<{ publicKey: string }>(await runBin('sikkerkey', ['keygen', '--out', machineKeyFile, '--json']));
    await cli(env, ['machine', 'add', 'm', '--public-key', machine.publicKey]);
    await cli(env, ['grant', 'add', 'm', '--project', 'p']);
    return {
      url, machineKeyFile, machinePublicKey: machine.publicKey, pid: server.proc.pid ?? 0,
      pinned: opts.cpu !== undefined && canPin(),
      log: () => server.output(),
      stop: async () => {
        await server.stop(opts.cpuProfDir !== undefined ? { signal: 'SIGTERM', graceMs: 20_000 } : {});
        rmSync(dir, { recursive: true, force: true });
        forget();
      },
    };
  } catch (err) {
    await stopServer();
    rmSync(dir, { recursive: true, force: true });
    forget();
    throw err;
  }
}
