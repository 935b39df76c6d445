/**
 * A real `sikkerkey-vault serve` process over a fresh SQLite store (or a given database URL), for
 * tests of how the server runs: listeners, TLS, signals, shutdown. The operator key and the root
 * key live in a temporary directory removed by `close()`.
 *
 * @example
 *   const v = await startVaultProcess({ tls: { cert, key, ca } });
 *   const r = await v.sk(['project', 'list', '--json']);
 *   await v.close();
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonOf, runBin, startBin } from './processes.js';
import type { CliResult, RunningProcess } from './processes.js';

export interface VaultProcessOptions {
  /** Certificate, key and the CA clients should trust (files). */
  tls?: { cert: string; key: string; ca: string };
  /** Default 127.0.0.1:0; `unix:PATH` serves on a socket (then `url` is that, and `port` 0). */
  listen?: string;
  /** PostgreSQL store instead of SQLite. */
  databaseUrl?: string;
  /** More `serve` arguments; `--workers 1` is added unless they give `--workers`. */
  args?: string[];
  env?: NodeJS.ProcessEnv;
}

export interface VaultProcess {
  dir: string;
  url: string;
  port: number;
  /** The CA file clients use (with tls). */
  caFile: string | undefined;
  opKey: string;
  proc: RunningProcess;
  /** `sikkerkey …` as the owner. */
  sk(args: string[], env?: NodeJS.ProcessEnv): Promise<CliResult>;
  /** A plain GET (https verified against the CA): status, headers and body text. */
  get(path: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>;
  /** Starts `serve` again with the same store and port (after the process stopped); `args` replace the extra arguments. */
  restart(opts?: { args?: string[] }): Promise<void>;
  close(): Promise<void>;
}

/** Makes a store with an owner; returns the files `serve` needs. */
export async function initVaultStore(dir: string, databaseUrl?: string): Promise<{ opKey: string; rootKeyFile: string; storeArgs: string[] }> {
  const opKey = join(dir, 'operator.key');
  const op = jsonOf<{ publicKey: string }>(await runBin('sikkerkey', ['keygen', '--out', opKey, '--json']));
  const storeArgs = databaseUrl ? ['--database-url', databaseUrl] : ['--data-dir', join(dir, 'data')];
  const init = jsonOf<{ rootKey: string }>(await runBin('sikkerkey-vault', ['init', ...storeArgs, '--operator-public-key', op.publicKey, '--json']));
  const rootKeyFile = join(dir, 'root.key');
  writeFileSync(rootKeyFile, init.rootKey, { mode: 0o600 });
  return { opKey, rootKeyFile, storeArgs };
}

export async function startVaultProcess(opts: VaultProcessOptions = {}): Promise<VaultProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'sk-vaultproc-'));
  const started: RunningProcess[] = [];
  try {
    const { opKey, rootKeyFile, storeArgs } = await initVaultStore(dir, opts.databaseUrl);
    const scheme = opts.tls ? 'https' : 'http';
    const ca = opts.tls ? readFileSync(opts.tls.ca, 'utf8') : undefined;
    let listen = opts.listen ?? '127.0.0.1:0';
    const launch = async (given = opts.args ?? []): Promise<{ proc: RunningProcess; port: number }> => {
      const args = given.some((a) => a === '--workers' || a.startsWith('--workers=')) ? given : [...given, '--workers', '1'];
      const proc = startBin('sikkerkey-vault', ['serve', ...storeArgs, '--root-key-file', rootKeyFile, '--listen', listen, '--log-level', 'info',
        ...(opts.tls ? ['--tls-cert', opts.tls.cert, '--tls-key', opts.tls.key] : []), ...args], { env: opts.env ?? {} });
      started.push(proc);
      if (listen.startsWith('unix:')) {
        await proc.waitFor(/"url":"unix:/);
        return { proc, port: 0 };
      }
      const m = await proc.waitFor(/"url":"https?:\/\/[^"]*:(\d+)"/);
      return { proc, port: Number(m[1]) };
    };
    let { proc, port } = await launch();
    listen = listen.replace(/:0$/, `:${port}`);
    const url = listen.startsWith('unix:') ? listen : `${scheme}://127.0.0.1:${port}`;
    const env = { SIKKERKEY_URL: url, SIKKERKEY_KEY_FILE: opKey, ...(opts.tls ? { SIKKERKEY_CA_FILE: opts.tls.ca } : {}) };
    return {
      dir, url, caFile: opts.tls?.ca, opKey,
      get port() { return port; },
      get proc() { return proc; },
      sk: (args, extra = {}) => runBin('sikkerkey', args, { env: { ...env, ...extra } }),
      get: (path) => new Promise((resolve, reject) => {
        const req = (opts.tls ? https : http).get(`${url}${path}`, { ...(ca ? { ca } : {}), agent: false }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => { body += d; });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        });
        req.on('error', reject);
      }),
      restart: async (o = {}) => {
        ({ proc, port } = await launch(o.args));
      },
      close: async () => {
        for (const p of started) await p.stop('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    for (const p of started) await p.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
