#!/usr/bin/env node
// The database servers the tests talk to: a throwaway PostgreSQL, MariaDB and Redis started from
// the installed server binaries on free 127.0.0.1 ports, each in one temporary directory, unless
// PG_URL / MYSQL_URL / REDIS_URL (each on its own) name a server to use instead. What they
// provide matches what the tests expect of a server given by URL:
//   PostgreSQL  trust auth for every login over TCP, database sikkerkey_test, superuser postgres
//   MariaDB     root without a password over TCP, database test, skip-name-resolve, utf8mb4
//   Redis       no password, nothing kept on disk
// scripts/run-tests.mjs uses it; on its own it runs one command with the servers (`npm run fault`
// and `npm run bench` do), or without a command prints the URLs and keeps the servers until Ctrl-C:
//
//   node scripts/test-services.mjs node dist/test/fault/run-fault.js
//   node scripts/test-services.mjs          # export the printed URLs, run `node --test …` by hand
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findExecutable, postgresBinDir } from './test-requirements.mjs';

export const SERVICE_ENV = ['PG_URL', 'MYSQL_URL', 'REDIS_URL'];
const DIR_PREFIX = 'sk-services-';
const asRoot = process.getuid?.() === 0;

/** A TCP port nothing listens on right now (the kernel's choice, released at once). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const tail = (text, lines = 8) => text.trim().split('\n').slice(-lines).join('\n');
const readOr = (path, fallback = '') => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
};
const osId = (user) => {
  const id = (flag) => Number(spawnSync('id', [flag, user], { encoding: 'utf8' }).stdout.trim());
  return { uid: id('-u'), gid: id('-g') };
};
/** The URL without its password, for messages. */
const redact = (url) => {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(not a URL)';
  }
};

/** Runs a command to its end; rejects with its output's tail when it fails. */
function run(cmd, args, { timeoutMs = 120_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${cmd}: ${err.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${[cmd, ...args].join(' ')} failed (${code ?? signal}):\n${tail(out)}`));
    });
  });
}

/** As the OS user `user` when this runs as root (initdb refuses root), else as is. */
const asUser = (user, cmd, args) => (asRoot ? [findExecutable('runuser') ?? 'runuser', ['-u', user, '--', cmd, ...args]] : [cmd, args]);

/** Retries `attempt` with a new port when the last one was taken in between. */
async function onFreePort(attempt) {
  for (let tries = 1; ; tries++) {
    const port = await freePort();
    try {
      return await attempt(port);
    } catch (err) {
      if (tries >= 3 || !/address already in use|EADDRINUSE|could not bind|Can't start server: Bind/i.test(err.message)) throw err;
    }
  }
}

const pidAlive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
};

/**
 * Servers and directories left by a runner that was killed outright (SIGKILL skips every
 * handler): any sk-services-<pid>-* directory whose runner is gone loses its servers and files.
 * A server is killed only if its command line or working directory is inside that directory.
 */
function sweepLeftovers() {
  for (const name of readdirSync(tmpdir())) {
    const m = new RegExp(`^${DIR_PREFIX}(\\d+)-`).exec(name);
    if (m === null || pidAlive(Number(m[1]))) continue;
    const dir = join(tmpdir(), name);
    for (const pid of readOr(join(dir, 'pids')).split('\n').map(Number).filter((p) => p > 0)) {
      const inside = readOr(`/proc/${pid}/cmdline`).includes(dir) || (() => {
        try {
          return readlinkSync(`/proc/${pid}/cwd`).startsWith(dir);
        } catch {
          return false;
        }
      })();
      if (inside) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
    }
    rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  }
}

async function startPostgres({ dir, track, adopt }) {
  const bin = postgresBinDir();
  if (bin === undefined) throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql/*/bin: install the Debian package postgresql');
  const home = join(dir, 'postgres');
  const data = join(home, 'data');
  mkdirSync(home, { mode: 0o700 });
  if (asRoot) {
    const { uid, gid } = osId('postgres');
    chownSync(home, uid, gid);
  }
  await run(...asUser('postgres', join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8', '-N']));
  const stopSync = () => {
    if (readOr(join(data, 'postmaster.pid')) === '') return;
    spawnSync(...asUser('postgres', join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', '-t', '20', 'stop']), { stdio: 'ignore', timeout: 30_000 });
  };
  adopt({ stopSync, stop: async () => stopSync() });
  const port = await onFreePort(async (p) => {
    const options = [
      `-p ${p}`, '-c listen_addresses=127.0.0.1', `-c unix_socket_directories=${home}`,
      // a throwaway cluster: nothing is worth an fsync
      '-c fsync=off', '-c full_page_writes=off', '-c synchronous_commit=off',
    ].join(' ');
    try {
      await run(...asUser('postgres', join(bin, 'pg_ctl'), ['-D', data, '-l', join(home, 'server.log'), '-o', options, '-w', '-t', '60', 'start']));
    } catch (err) {
      throw new Error(`${err.message}\n${tail(readOr(join(home, 'server.log')))}`, { cause: err });
    }
    return p;
  });
  track(Number(readOr(join(data, 'postmaster.pid')).split('\n')[0]));
  const url = `postgres://postgres@127.0.0.1:${port}/sikkerkey_test`;
  const { default: pg } = await import('pg');
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
  await client.connect();
  try {
    await client.query('CREATE DATABASE sikkerkey_test');
  } finally {
    await client.end();
  }
  return url;
}

/** A child server process; stopping it is a SIGKILL (its files are thrown away anyway). */
function daemon(cmd, args, logFile) {
  const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.once('error', () => undefined);
  const running = () => child.exitCode === null && child.signalCode === null;
  const stopSync = () => {
    if (running()) child.kill('SIGKILL');
  };
  const stop = async () => {
    stopSync();
    await Promise.race([exited, sleep(5_000)]);
  };
  const died = () => (running() ? undefined : `exited (${child.exitCode ?? child.signalCode}): ${tail(readOr(logFile))}`);
  return { child, stop, stopSync, died };
}

/** Calls `probe` until it resolves, the server dies, or the deadline passes. */
async function waitUntil(what, server, probe, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await probe();
    } catch (err) {
      const dead = server.died();
      if (dead !== undefined) throw new Error(`${what} ${dead}`, { cause: err });
      if (Date.now() > deadline) {
        server.stopSync();
        throw new Error(`${what} did not answer within ${timeoutMs / 1000} s: ${err.message}`, { cause: err });
      }
      await sleep(100);
    }
  }
}

async function startMariadb({ dir, track, adopt }) {
  const mariadbd = findExecutable('mariadbd');
  const installDb = findExecutable('mariadb-install-db');
  if (mariadbd === undefined || installDb === undefined) throw new Error('no mariadbd / mariadb-install-db: install the Debian package mariadb-server');
  const home = join(dir, 'mariadb');
  const data = join(home, 'data');
  const initFile = join(home, 'init.sql');
  const logFile = join(home, 'error.log');
  mkdirSync(home, { mode: 0o700 });
  // what MYSQL_URL=mysql://root@127.0.0.1:3306/test gives on the machines: the database `test`
  writeFileSync(initFile, 'CREATE DATABASE IF NOT EXISTS test;\n', { mode: 0o644 });
  const user = asRoot ? ['--user=mysql'] : [];
  if (asRoot) {
    const { uid, gid } = osId('mysql');
    chownSync(home, uid, gid);
  }
  // root@localhost, root@127.0.0.1 and root@::1 without a password; no anonymous accounts
  await run(installDb, ['--no-defaults', `--datadir=${data}`, ...user, '--auth-root-authentication-method=normal', '--skip-test-db']);
  const { default: mysql } = await import('mysql2/promise');
  return onFreePort(async (port) => {
    const server = daemon(mariadbd, [
      '--no-defaults', `--datadir=${data}`, `--port=${port}`, '--bind-address=127.0.0.1', `--socket=${join(home, 'mysqld.sock')}`,
      `--pid-file=${join(home, 'mysqld.pid')}`, `--log-error=${logFile}`, `--init-file=${initFile}`, ...user,
      // as the machines' MariaDB is set up (Debian's my.cnf)
      '--skip-name-resolve', '--character-set-server=utf8mb4', '--collation-server=utf8mb4_general_ci',
    ], logFile);
    adopt(server);
    track(server.child.pid);
    const url = `mysql://root@127.0.0.1:${port}/test`;
    await waitUntil('mariadbd', server, async () => {
      const c = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root', database: 'test', connectTimeout: 2_000 });
      await c.end();
    }, 60_000);
    return url;
  });
}

async function startRedis({ dir, track, adopt }) {
  const redisServer = findExecutable('redis-server');
  if (redisServer === undefined) throw new Error('no redis-server: install the Debian package redis-server');
  const home = join(dir, 'redis');
  mkdirSync(home, { mode: 0o700 });
  const logFile = join(home, 'redis.log');
  return onFreePort(async (port) => {
    const conf = join(home, 'redis.conf');
    writeFileSync(conf, [
      `port ${port}`, 'bind 127.0.0.1', 'save ""', 'appendonly no', `dir ${home}`, 'daemonize no', `logfile ${logFile}`, 'loglevel warning',
    ].join('\n').concat('\n'), { mode: 0o600 });
    const server = daemon(redisServer, [conf], logFile);
    adopt(server);
    track(server.child.pid);
    const url = `redis://127.0.0.1:${port}`;
    await waitUntil('redis-server', server, () => redisInfo(url), 10_000);
    return url;
  });
}

/** `INFO server` over a plain socket (redis:// without TLS), or with ioredis for anything else. */
async function redisInfo(url) {
  const u = new URL(url);
  if (u.protocol === 'redis:' && u.password === '' && u.username === '') {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 6379) });
      let buf = '';
      socket.setTimeout(3_000, () => socket.destroy(new Error('timed out')));
      socket.once('connect', () => socket.write('INFO server\r\n'));
      socket.on('data', (d) => {
        buf += d;
        const m = /^\$(\d+)\r\n/.exec(buf);
        if (buf.startsWith('-')) socket.destroy(new Error(buf.trim()));
        else if (m && Buffer.byteLength(buf) >= m[0].length + Number(m[1])) {
          socket.end();
          resolve(buf);
        }
      });
      socket.once('error', (err) => reject(new Error(err.code ?? err.message)));
    });
  }
  const { Redis } = await import('ioredis');
  const r = new Redis(url, { lazyConnect: true, connectTimeout: 5_000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableReadyCheck: false });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return await r.info('server');
  } finally {
    r.disconnect();
  }
}

/** What each server says it is, over the URL the tests use (so a URL that cannot log in fails here). */
const VERSION_OF = {
  async PG_URL(url) {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
    await client.connect();
    try {
      const { rows } = await client.query('SHOW server_version');
      return `postgres ${String(rows[0].server_version).split(' ')[0]}`;
    } finally {
      await client.end();
    }
  },
  async MYSQL_URL(url) {
    const { default: mysql } = await import('mysql2/promise');
    const c = await mysql.createConnection({ uri: url, connectTimeout: 5_000 });
    try {
      const [rows] = await c.query('SELECT VERSION() AS v');
      const v = String(rows[0].v);
      return `${/mariadb/i.test(v) ? 'mariadb' : 'mysql'} ${/^[\d.]+/.exec(v)?.[0] ?? v}`;
    } finally {
      await c.end();
    }
  },
  async REDIS_URL(url) {
    return `redis ${/redis_version:(\S+)/.exec(await redisInfo(url))?.[1] ?? '?'}`;
  },
};

const STARTERS = { PG_URL: startPostgres, MYSQL_URL: startMariadb, REDIS_URL: startRedis };

/**
 * Starts, in parallel, the servers whose URL `env` does not set. Resolves to the three URLs, the
 * one-line description (`test services: postgres 15.20 (own), …`) and stop functions; the
 * servers also go when the process exits. Fails (having stopped whatever started) when a server
 * cannot start or a given URL does not answer.
 */
export async function startTestServices(env = process.env) {
  const started = Date.now();
  sweepLeftovers();
  const dir = mkdtempSync(join(tmpdir(), `${DIR_PREFIX}${process.pid}-`));
  // the servers run as postgres and mysql under root: they must reach their own subdirectories
  chmodSync(dir, 0o711);
  const pids = [];
  const track = (pid) => {
    if (pid > 0) pids.push(pid);
    writeFileSync(join(dir, 'pids'), `${pids.join('\n')}\n`);
  };
  const own = [];
  let removed = false;
  const stopSync = () => {
    for (const s of own) s.stopSync();
    if (!removed) rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
    removed = true;
    process.removeListener('exit', stopSync);
  };
  process.on('exit', stopSync);
  const stop = async () => {
    await Promise.allSettled(own.map((s) => s.stop()));
    stopSync();
  };

  const results = await Promise.allSettled(SERVICE_ENV.map(async (name) => {
    const given = env[name];
    if (given !== undefined && given !== '') {
      try {
        return { name, url: given, label: `${await VERSION_OF[name](given)} (${name})` };
      } catch (err) {
        throw new Error(`${name}=${redact(given)} does not answer (${err.message}): start that server, or unset ${name} and the suite starts its own`, { cause: err });
      }
    }
    const url = await STARTERS[name]({ dir, track, adopt: (s) => own.push(s) });
    return { name, url, label: `${await VERSION_OF[name](url)} (own)` };
  }));
  const failed = results.filter((r) => r.status === 'rejected');
  if (failed.length > 0) {
    await stop();
    throw new Error(failed.map((r) => r.reason.message).join('\n'));
  }
  const services = results.map((r) => r.value);
  return {
    env: Object.fromEntries(services.map((s) => [s.name, s.url])),
    line: `test services: ${services.map((s) => s.label).join(', ')}; ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    stop,
    stopSync,
  };
}

/** startTestServices(), its line printed; on failure one message and exit 1 (for the runners). */
export async function startTestServicesOrExit() {
  let services;
  try {
    services = await startTestServices();
  } catch (err) {
    console.error(`test services: ${err.message}`);
    process.exit(1);
  }
  console.log(services.line);
  return services;
}

if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const command = process.argv.slice(2);
  const services = await startTestServicesOrExit();
  const finish = async (code) => {
    await services.stop();
    process.exit(code);
  };
  if (command.length === 0) {
    for (const [k, v] of Object.entries(services.env)) console.log(`export ${k}=${v}`);
    console.log('(Ctrl-C stops them and removes their files)');
    for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => void finish(0));
    setInterval(() => undefined, 1 << 30);
  } else {
    const child = spawn(command[0], command.slice(1), { stdio: 'inherit', env: { ...process.env, ...services.env } });
    for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
    child.once('error', (err) => {
      console.error(`${command[0]}: ${err.message}`);
      void finish(127);
    });
    child.once('exit', (code, signal) => void finish(code ?? (signal === 'SIGINT' ? 130 : 1)));
  }
}
