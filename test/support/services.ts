/**
 * Where the tests' real services are, and small helpers around them. Each URL comes from its
 * environment variable (CI may point elsewhere) with the machine's local default. A service a
 * test needs and cannot reach is a failure naming the variable, never a silent skip.
 *
 * @example
 *   await assertReachable('mysql', mysqlUrl());
 *   const { host, port, username } = parseServiceUrl(mysqlUrl());
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type ServiceName = 'postgres' | 'mysql' | 'redis' | 'postgres-scram';

const SERVICES: Record<ServiceName, { env: string; fallback: string }> = {
  postgres: { env: 'PG_URL', fallback: 'postgres://postgres@127.0.0.1:5432/postgres' },
  mysql: { env: 'MYSQL_URL', fallback: 'mysql://root@127.0.0.1:3306' },
  redis: { env: 'REDIS_URL', fallback: 'redis://127.0.0.1:6379' },
  'postgres-scram': { env: 'PG_SCRAM_URL', fallback: '' },
};

const fromEnv = (name: ServiceName): string => {
  const value = process.env[SERVICES[name].env];
  return value !== undefined && value !== '' ? value : SERVICES[name].fallback;
};

/** PostgreSQL (locally: trust auth, so it proves nothing about passwords). */
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

/** A TCP port nothing listens on right now (the kernel's choice, released at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A short random tag for names that must not collide across runs and parallel test files. */
export const randomTag = (bytes = 4): string => randomBytes(bytes).toString('hex');

export interface RedisServer {
  host: string;
  port: number;
  /** The aclfile's path when one was asked for. */
  aclFile: string | undefined;
  stop(): Promise<void>;
}

/**
 * A private redis-server on a free port, for tests that change the default user or global config
 * (never done on the shared Redis). Settings go in a config file, not on the command line.
 */
export async function startRedisServer(opts: { requirepass?: string; aclFileContents?: string } = {}): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'sk-redis-'));
  const port = await freePort();
  const lines = [`port ${port}`, 'bind 127.0.0.1', 'save ""', 'appendonly no', `dir ${dir}`, 'daemonize no', 'loglevel warning'];
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
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3_000))]);
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
  return { host: '127.0.0.1', port, aclFile, stop };
}
