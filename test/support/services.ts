/**
 * Where the tests' real services are, and small helpers around them. Each URL comes from its
 * environment variable: `npm test` (scripts/run-tests.mjs) sets all three to the throwaway
 * servers it starts, or passes on the ones the caller set. Without it, a missing variable is an
 * error, never the machine's default port. A service a test needs and cannot reach is a failure
 * naming the variable, never a silent skip.
 *
 * @example
 *   await assertReachable('mysql', mysqlUrl());
 *   const { host, port, username } = parseServiceUrl(mysqlUrl());
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type ServiceName = 'postgres' | 'mysql' | 'redis' | 'postgres-scram';

const SERVICES: Record<ServiceName, { env: string }> = {
  postgres: { env: 'PG_URL' },
  mysql: { env: 'MYSQL_URL' },
  redis: { env: 'REDIS_URL' },
  'postgres-scram': { env: 'PG_SCRAM_URL' },
};

const fromEnv = (name: ServiceName): string => {
  const { env } = SERVICES[name];
  const value = process.env[env];
  if (value === undefined || value === '') {
    throw new Error(`${env} is not set: run the tests through npm test (or node scripts/run-tests.mjs), which starts throwaway servers, or set ${env}`);
  }
  return value;
};

/** PostgreSQL (trust auth, so it proves nothing about passwords). */
export const pgUrl = (): string => fromEnv('postgres');
export const mysqlUrl = (): string => fromEnv('mysql');
export const redisUrl = (): string => fromEnv('redis');

export interface ServiceAddress {
  host: string;
  port: number;
  username: string;
  password: string;
  database: string | undefined;
}

const DEFAULT_PORTS: Record<string, number> = { 'postgres:': 5432, 'postgresql:': 5432, 'mysql:': 3306, 'redis:': 6379, 'rediss:': 6379 };

export function parseServiceUrl(url: string): ServiceAddress {
  const u = new URL(url);
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port === '' ? (DEFAULT_PORTS[u.protocol] ?? 0) : Number(u.port),
    username: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database: database === '' ? undefined : database,
  };
}

/** Fails with a message naming the service and its environment variable when nothing answers. */
export async function assertReachable(name: ServiceName, url: string, timeoutMs = 3_000): Promise<void> {
  const { env } = SERVICES[name];
  let address: ServiceAddress;
  try {
    address = parseServiceUrl(url);
  } catch {
    throw new Error(`${name}: ${env} is not a URL`);
  }
  const reason = await new Promise<string | undefined>((resolve) => {
    const socket = tcpConnect({ host: address.host, port: address.port });
    const done = (r: string | undefined): void => {
      socket.destroy();
      resolve(r);
    };
    socket.setTimeout(timeoutMs, () => done('timed out'));
    socket.once('connect', () => done(undefined));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
  });
  if (reason !== undefined) {
    throw new Error(`${name} is not reachable at ${address.host}:${address.port} (${reason}): start it, or set ${env} to a reachable server`);
  }
}

/**
 * A TCP port nothing listens on right now, for a server that must be told its port. Taken below
 * the kernel's ephemeral range (ip_local_port_range, 32768–60999 by default), where neither
 * outgoing connections' source ports nor servers listening on port 0 land — the kernel's own
 * choice (port 0, released at once) could be taken by another test's connection before the server
 * bound it. Random within 20000–32767, checked by binding; the kernel's choice only if 50 tries
 * all found ports in use.
 */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = 20_000 + Math.floor(Math.random() * 12_768);
    if (await canBind(port)) return port;
  }
  return bindAndRelease(0);
}

function canBind(port: number): Promise<boolean> {
  return bindAndRelease(port).then(() => true, () => false);
}

function bindAndRelease(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(bound));
    });
  });
}

/** Waits for `promise`, at most `ms`; the timer does not keep the process alive afterwards. */
async function within(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

/** A short random tag for names that must not collide across runs and parallel test files. */
export const randomTag = (bytes = 4): string => randomBytes(bytes).toString('hex');

export interface TlsFiles {
  /** PEM certificate for CN/SAN "localhost" (self-signed: it is its own CA file). */
  certFile: string;
  keyFile: string;
}

/**
 * A self-signed certificate for "localhost" (DNS name only, no IP address), valid one day, made
 * with the openssl command: verify-full against "localhost" passes, against "127.0.0.1" fails.
 */
export function makeLocalhostCert(dir: string): TlsFiles {
  const certFile = join(dir, 'server.crt');
  const keyFile = join(dir, 'server.key');
  const r = spawnSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost', '-keyout', keyFile, '-out', certFile,
  ], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`openssl could not make a test certificate: ${(r.stderr || String(r.error)).trim()}`);
  return { certFile, keyFile };
}

/**
 * A server certificate made elsewhere (e.g. by test-ca.ts: `ca.issue({ names })`), served instead
 * of the self-signed one for "localhost"; `caFile` is what a client trusts for it (its CA).
 */
export interface ServerCertFiles {
  certFile: string;
  keyFile: string;
  caFile: string;
}

/**
 * The certificate a test server serves, as files in its own directory `dir` (which the server's
 * OS user may then be given): a copy of `cert`, or the self-signed one for "localhost" (its own CA).
 */
export function serverCertIn(dir: string, cert: ServerCertFiles | undefined): TlsFiles & { caFile: string } {
  if (cert === undefined) {
    const own = makeLocalhostCert(dir);
    return { ...own, caFile: own.certFile };
  }
  const files = { certFile: join(dir, 'server.crt'), keyFile: join(dir, 'server.key'), caFile: join(dir, 'ca.crt') };
  copyFileSync(cert.certFile, files.certFile);
  copyFileSync(cert.keyFile, files.keyFile);
  copyFileSync(cert.caFile, files.caFile);
  chmodSync(files.keyFile, 0o600);
  return files;
}

export interface RedisServer {
  host: string;
  port: number;
  /** The aclfile's path when one was asked for. */
  aclFile: string | undefined;
  /** With `tls`: the port speaks only TLS, with this self-signed certificate for "localhost" (or `cert`'s CA). */
  caFile: string | undefined;
  stop(): Promise<void>;
}

/**
 * A private redis-server on a free port, for tests that change the default user or global config
 * (never done on the shared Redis). Settings go in a config file, not on the command line.
 */
export async function startRedisServer(opts: { requirepass?: string; aclFileContents?: string; tls?: boolean; cert?: ServerCertFiles } = {}): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'sk-redis-'));
  const port = await freePort();
  const lines = ['bind 127.0.0.1', 'save ""', 'appendonly no', `dir ${dir}`, 'daemonize no', 'loglevel warning'];
  let caFile: string | undefined;
  if (opts.tls === true) {
    const tls = serverCertIn(dir, opts.cert);
    caFile = tls.caFile;
    lines.push('port 0', `tls-port ${port}`, `tls-cert-file ${tls.certFile}`, `tls-key-file ${tls.keyFile}`, `tls-ca-cert-file ${tls.caFile}`, 'tls-auth-clients no');
  } else {
    lines.push(`port ${port}`);
  }
  if (opts.requirepass !== undefined) lines.push(`requirepass "${opts.requirepass}"`);
  let aclFile: string | undefined;
  if (opts.aclFileContents !== undefined) {
    aclFile = join(dir, 'users.acl');
    writeFileSync(aclFile, opts.aclFileContents, { mode: 0o600 });
    lines.push(`aclfile ${aclFile}`);
  }
  const conf = join(dir, 'redis.conf');
  writeFileSync(conf, `${lines.join('\n')}\n`, { mode: 0o600 });

  const child = spawn('redis-server', [conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const stop = async (): Promise<void> => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await within(exited, 3_000);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 5_000;
  for (;;) {
    try {
      await assertReachable('redis', `redis://127.0.0.1:${port}`, 500);
      break;
    } catch (err) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await stop();
        throw new Error(`redis-server did not start on port ${port}: ${stderr.trim() || (err as Error).message}`, { cause: err });
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  return { host: '127.0.0.1', port, aclFile, caFile, stop };
}

export interface MariadbServer {
  host: string;
  port: number;
  /** Unix socket where root logs in without a password (for test setup). */
  socketPath: string;
  /** The self-signed certificate for "localhost" it serves TLS with (or, with `cert`, that certificate's CA). */
  caFile: string;
  stop(): Promise<void>;
}

/**
 * A private MariaDB with TLS on a free port (mariadb-install-db + mariadbd in a temp dir, ~3 s),
 * for the TLS paths the machine's MariaDB (TLS disabled) cannot show. Run as root, the server
 * drops to the OS user mysql.
 */
export async function startMariadbServer(opts: { cert?: ServerCertFiles } = {}): Promise<MariadbServer> {
  const dir = mkdtempSync(join(tmpdir(), 'sk-mariadb-'));
  const dataDir = join(dir, 'data');
  const socketPath = join(dir, 'mysqld.sock');
  const asRoot = process.getuid?.() === 0;
  const tls = serverCertIn(dir, opts.cert);
  if (asRoot) {
    const uid = Number(spawnSync('id', ['-u', 'mysql'], { encoding: 'utf8' }).stdout.trim());
    const gid = Number(spawnSync('id', ['-g', 'mysql'], { encoding: 'utf8' }).stdout.trim());
    for (const f of [dir, tls.certFile, tls.keyFile, tls.caFile]) chownSync(f, uid, gid);
  }
  const userArgs = asRoot ? ['--user=mysql'] : [];
  const install = spawnSync('mariadb-install-db', ['--no-defaults', `--datadir=${dataDir}`, ...userArgs, '--auth-root-authentication-method=normal', '--skip-test-db'], { encoding: 'utf8', timeout: 60_000 });
  if (install.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`mariadb-install-db failed: ${(install.stderr || String(install.error)).trim()}`);
  }
  const port = await freePort();
  const child = spawn('mariadbd', [
    '--no-defaults', `--datadir=${dataDir}`, `--port=${port}`, '--bind-address=127.0.0.1', `--socket=${socketPath}`,
    `--pid-file=${join(dir, 'mysqld.pid')}`, ...userArgs, '--skip-log-bin', '--innodb-buffer-pool-size=16M',
    `--ssl-cert=${tls.certFile}`, `--ssl-key=${tls.keyFile}`, `--ssl-ca=${tls.caFile}`,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const stop = async (): Promise<void> => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await within(exited, 10_000);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20_000;
  // Ready once both listeners accept: the TCP port and the unix socket (tests connect as root
  // through the socket; it may start accepting a moment after the port).
  const socketAccepts = (): Promise<void> => new Promise((resolve, reject) => {
    const sock = tcpConnect({ path: socketPath }, () => { sock.destroy(); resolve(); });
    sock.once('error', reject);
  });
  for (;;) {
    try {
      await assertReachable('mysql', `mysql://127.0.0.1:${port}`, 500);
      await socketAccepts();
      break;
    } catch (err) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await stop();
        throw new Error(`mariadbd did not start on port ${port}: ${stderr.trim().split('\n').slice(-5).join(' / ') || (err as Error).message}`, { cause: err });
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { host: '127.0.0.1', port, socketPath, caFile: tls.caFile, stop };
}
