/**
 * A throwaway PostgreSQL cluster that enforces passwords (scram-sha-256 for every login).
 * The machine's PostgreSQL trusts every login, so it cannot tell a right password from a wrong
 * one; rotation tests need this instead. One cluster per test process, started on first use and
 * stopped when the process exits. With PG_SCRAM_URL set, that server is used and nothing starts.
 *
 * @example
 *   const pg = await scramCluster();
 *   after(() => pg.stop());
 *   const client = new Client({ host: pg.host, port: pg.port, user: pg.adminUser, password: pg.adminPassword });
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, parseServiceUrl, serverCertIn, type ServerCertFiles } from './services.js';

export interface ScramCluster {
  host: string;
  port: number;
  adminUser: string;
  adminPassword: string;
  /** postgres://user:password@host:port/postgres */
  url: string;
  /** The server log (log_statement = 'ddl'), when this process started the cluster. */
  logFile: string | undefined;
  /** With `tls`: the server's self-signed certificate for "localhost" (or `cert`'s CA), to use as caFile. */
  caFile: string | undefined;
  /** Milliseconds initdb + start took (0 for PG_SCRAM_URL). */
  startupMs: number;
  /** Stops the cluster and removes its files; safe to call twice. A no-op for PG_SCRAM_URL. */
  stop(): Promise<void>;
  /**
   * Stops the server (fast shutdown: sessions are terminated), waits `downMs`, and starts it again
   * on the same port and data: a PostgreSQL restart as clients see it. Refused for PG_SCRAM_URL.
   */
  restart(opts?: { downMs?: number }): Promise<void>;
}

export interface ScramClusterOptions {
  /**
   * Also accept TLS (ssl = on, a self-signed certificate for "localhost"); plain connections still
   * work. Always a local cluster: PG_SCRAM_URL says nothing about its certificates.
   */
  tls?: boolean;
  /**
   * With `tls`: serve this certificate instead of the self-signed one. Such a cluster is the
   * caller's alone: started on every call, not shared through the per-process cache.
   */
  cert?: ServerCertFiles;
}

const cache = new Map<boolean, Promise<ScramCluster>>();

/** The process's cluster (one per options), started on first call. */
export function scramCluster(options: ScramClusterOptions = {}): Promise<ScramCluster> {
  const tls = options.tls === true;
  if (tls && options.cert !== undefined) return start(true, options.cert);
  let cached = cache.get(tls);
  if (cached === undefined) {
    cached = start(tls).catch((err: unknown) => {
      cache.delete(tls);
      throw err;
    });
    cache.set(tls, cached);
  }
  return cached;
}

/** Same as scramCluster(). */
export const startScramCluster = scramCluster;

function newestBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root).filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions[0] === undefined) throw new Error(`no PostgreSQL server binaries under ${root}/*/bin: install postgresql, or set PG_SCRAM_URL`);
  return join(root, versions[0], 'bin');
}

async function start(tls: boolean, cert?: ServerCertFiles): Promise<ScramCluster> {
  const external = process.env['PG_SCRAM_URL'];
  if (!tls && external !== undefined && external !== '') {
    const a = parseServiceUrl(external);
    return {
      host: a.host, port: a.port, adminUser: a.username, adminPassword: a.password, url: external, logFile: undefined, caFile: undefined, startupMs: 0,
      stop: async () => undefined,
      restart: () => Promise.reject(new Error('PG_SCRAM_URL names a server this test does not own: it cannot restart it')),
    };
  }

  const started = performance.now();
  const bin = newestBinDir();
  // initdb refuses to run as root: run the server binaries as the OS user postgres
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? { uid: Number(idOf('-u')), gid: Number(idOf('-g')) } : undefined;
  const run = (tool: string, args: string[]): void => {
    const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]] : [join(bin, tool), args];
    const r = spawnSync(cmd, argv, { encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`${tool} failed (${r.status ?? r.signal}): ${(r.stderr || r.stdout || String(r.error)).trim()}`);
  };

  const dir = mkdtempSync(join(tmpdir(), 'sk-pgscram-'));
  const dataDir = join(dir, 'data');
  const pwFile = join(dir, 'pw');
  const logFile = join(dir, 'server.log');
  const adminPassword = randomBytes(18).toString('base64url');
  if (owner !== undefined) chownSync(dir, owner.uid, owner.gid);
  writeFileSync(pwFile, `${adminPassword}\n`, { mode: 0o600 });
  if (owner !== undefined) chownSync(pwFile, owner.uid, owner.gid);

  let running = false;
  const stopSync = (): void => {
    if (running) {
      spawnSync(asRoot ? 'runuser' : join(bin, 'pg_ctl'), asRoot ? ['-u', 'postgres', '--', join(bin, 'pg_ctl'), '-D', dataDir, '-m', 'immediate', '-w', 'stop'] : ['-D', dataDir, '-m', 'immediate', '-w', 'stop'], { timeout: 30_000 });
      running = false;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // 'exit' handlers must be synchronous; a signal skips 'exit', so signals stop it too
  const onSignal = (signal: NodeJS.Signals): void => {
    stopSync();
    process.kill(process.pid, signal);
  };
  process.once('exit', stopSync);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    run('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${pwFile}`, '-E', 'UTF8', '--no-locale', '-N']);
    rmSync(pwFile);
    const port = await freePort();
    const serverOptions = [
      `-p ${port}`, '-c listen_addresses=127.0.0.1', `-c unix_socket_directories=${dir}`,
      '-c fsync=off', '-c full_page_writes=off', '-c synchronous_commit=off', '-c log_statement=ddl',
    ];
    let caFile: string | undefined;
    if (tls) {
      const files = serverCertIn(dir, cert);
      // the server refuses a key file that others can read, or that it does not own
      chmodSync(files.keyFile, 0o600);
      if (owner !== undefined) for (const f of [files.certFile, files.keyFile]) chownSync(f, owner.uid, owner.gid);
      serverOptions.push('-c ssl=on', `-c ssl_cert_file=${files.certFile}`, `-c ssl_key_file=${files.keyFile}`);
      caFile = files.caFile;
    }
    run('pg_ctl', ['-D', dataDir, '-l', logFile, '-o', serverOptions.join(' '), '-w', '-t', '30', 'start']);
    running = true;
    const startupMs = Math.round(performance.now() - started);
    return {
      host: '127.0.0.1',
      port,
      adminUser: 'postgres',
      adminPassword,
      url: `postgres://postgres:${encodeURIComponent(adminPassword)}@127.0.0.1:${port}/postgres`,
      logFile,
      caFile,
      startupMs,
      restart: async (o = {}) => {
        run('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', '-t', '30', 'stop']);
        running = false;
        await new Promise((r) => setTimeout(r, o.downMs ?? 0));
        run('pg_ctl', ['-D', dataDir, '-l', logFile, '-o', serverOptions.join(' '), '-w', '-t', '30', 'start']);
        running = true;
      },
      stop: async () => {
        stopSync();
        process.removeListener('exit', stopSync);
        process.removeListener('SIGINT', onSignal);
        process.removeListener('SIGTERM', onSignal);
        if (cert === undefined) cache.delete(tls);
      },
    };
  } catch (err) {
    stopSync();
    throw err;
  }
}

function idOf(flag: '-u' | '-g'): string {
  try {
    return execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('running as root needs the OS user "postgres" to run initdb; or set PG_SCRAM_URL');
  }
}
