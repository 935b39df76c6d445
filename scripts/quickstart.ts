#!/usr/bin/env node
/**
 * `npm start`: the README's "try it". A dev vault (embedded SQLite, root key generated and kept in
 * memory), an agent enrolled with a one-use token and running, and then — with a reachable Redis
 * or MariaDB on this machine, or `--postgres-url` to a password-enforcing PostgreSQL — a real
 * rotation of a throwaway user, proven against the database: the old password refused, the new one
 * working. Without a database it shows a signed read and a canary trip instead. It then keeps
 * serving; Ctrl-C stops everything and removes the temporary files and the throwaway users.
 *
 * Everything runs as real processes through the real command lines (`sikkerkey-vault dev`,
 * `sikkerkey`, `sikkerkey-agent`), the way a user would type them.
 *
 *   node dist/scripts/quickstart.js [--postgres-url URL] [--redis-url URL] [--mysql-url URL]
 *                                   [--no-database] [--listen 127.0.0.1:8200]
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { VaultClient, encodePathSegment as enc } from '../protocol/client.js';
import { DemoDatabaseError, findDemoDatabase } from './quickstart-databases.js';
import type { DemoDatabase, DemoUsers } from './quickstart-databases.js';

const DIST = fileURLToPath(new URL('..', import.meta.url));
const BIN = {
  vault: join(DIST, 'vault-server', 'main.js'),
  sk: join(DIST, 'vault-server', 'cli', 'main.js'),
  agent: join(DIST, 'agent', 'main.js'),
};
const PROJECT = 'quickstart';
const AGENT_LABEL = 'quickstart-rotator';
const APP_MACHINE = 'quickstart-app';

const { values: flags } = parseArgs({
  options: {
    'postgres-url': { type: 'string' },
    'redis-url': { type: 'string' },
    'mysql-url': { type: 'string' },
    'no-database': { type: 'boolean' },
    listen: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
  strict: true,
});
if (flags.help) {
  process.stdout.write([
    'usage: npm start [-- OPTIONS]   (or: node dist/scripts/quickstart.js [OPTIONS])',
    '  a dev vault, an enrolled agent and a real rotation of a throwaway user on a local database',
    '  --redis-url URL      Redis to use (default REDIS_URL, else redis://127.0.0.1:6379)',
    '  --mysql-url URL      MariaDB/MySQL to use when there is no Redis (default MYSQL_URL, else mysql://root@127.0.0.1:3306)',
    '  --postgres-url URL   a password-enforcing PostgreSQL, as a user that may CREATE ROLE (instead of the above)',
    '  --no-database        no rotation: a signed read and a canary trip',
    '  --listen HOST:PORT   the dev vault\'s address (default 127.0.0.1:8200, or a free port)',
  ].join('\n') + '\n');
  process.exit(0);
}

// -- output ----------------------------------------------------------------------------------------
let total = 0;
let current = 0;
const step = (text: string): void => { current += 1; process.stdout.write(`[${current}/${total}] ${text}\n`); };
const detail = (text: string): void => { process.stdout.write(`      ${text}\n`); };
class QuickstartError extends Error {}

// -- what is running, so that every exit path can stop it ------------------------------------------
const work = mkdtempSync(join(tmpdir(), 'sikkerkey-quickstart-'));
/** A running program; `shown()` is its output with anything secret (the dev root key) masked. */
interface Child { name: string; proc: ChildProcess; log: WriteStream; output: () => string; shown: () => string; exited: Promise<void> }
const children: Child[] = [];
let database: DemoDatabase | undefined;
let vaultDir: string | undefined;

/**
 * Starts one of our programs. Detached (its own process group), so a Ctrl-C in the terminal reaches
 * only the quickstart, which then stops the agent before the vault, and cleans up in order.
 */
function startChild(name: string, script: string, args: string[], env: NodeJS.ProcessEnv = {}, redact?: RegExp): Child {
  const proc = spawn(process.execPath, [script, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const log = createWriteStream(join(work, `${name}.log`), { mode: 0o600 });
  let out = '';
  const mask = (text: string): string => (redact ? text.replace(redact, '$1[not shown]') : text);
  const onData = (d: Buffer): void => {
    const text = d.toString();
    out += text;
    log.write(mask(text));
  };
  proc.stdout?.on('data', onData);
  proc.stderr?.on('data', onData);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const child = { name, proc, log, output: () => out, shown: () => mask(out), exited };
  children.push(child);
  return child;
}

function waitForOutput(child: Child, re: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const m = child.output().match(re);
      if (m) { cleanupListeners(); resolve(m); return true; }
      return false;
    };
    const onData = (): void => { check(); };
    const onExit = (): void => { cleanupListeners(); reject(new QuickstartError(`${child.name} exited before it was ready:\n${tail(child.shown())}`)); };
    const timer = setTimeout(() => { cleanupListeners(); reject(new QuickstartError(`${child.name} was not ready within ${timeoutMs / 1000} s:\n${tail(child.shown())}`)); }, timeoutMs);
    const cleanupListeners = (): void => {
      clearTimeout(timer);
      child.proc.stdout?.off('data', onData);
      child.proc.stderr?.off('data', onData);
      child.proc.off('exit', onExit);
    };
    child.proc.stdout?.on('data', onData);
    child.proc.stderr?.on('data', onData);
    child.proc.once('exit', onExit);
    check();
  });
}

const tail = (text: string, lines = 15): string => text.trim().split('\n').slice(-lines).map((l) => `        ${l}`).join('\n');

interface Ran { code: number | null; stdout: string; stderr: string }

/** Runs a command to completion (the operator CLI, or the agent's one-shot commands). */
function run(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

/** A free TCP port on loopback, preferring `preferred`. */
async function freePort(preferred: number): Promise<number> {
  const tryListen = (port: number): Promise<number | undefined> => new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(undefined));
    srv.listen(port, '127.0.0.1', () => {
      const bound = srv.address();
      srv.close(() => resolve(typeof bound === 'object' && bound ? bound.port : undefined));
    });
  });
  return (await tryListen(preferred)) ?? (await tryListen(0)) ?? 0;
}

// -- the demo --------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const found = flags['no-database']
    ? { tried: ['(skipped: --no-database)'] }
    : await findDemoDatabase({ postgresUrl: flags['postgres-url'], redisUrl: flags['redis-url'], mysqlUrl: flags['mysql-url'] });
  database = 'engine' in found ? found : undefined;
  total = database ? 8 : 7;

  // 1. the dev vault
  const listen = flags.listen ?? `127.0.0.1:${await freePort(8200)}`;
  const vault = startChild('vault', BIN.vault, ['dev', '--listen', listen, '--log-level', 'warn'], {}, /(root key\s+)\S+/g);
  const [, url] = await waitForOutput(vault, /vault URL\s+(\S+)/, 30_000);
  const [, operatorKey] = await waitForOutput(vault, /operator key\s+(\S+)/, 5_000);
  const [, rootKey] = await waitForOutput(vault, /root key\s+(\S+)/, 5_000);
  vaultDir = dirname(operatorKey as string);
  step(`dev vault listening on ${url} (pid ${vault.proc.pid}): embedded SQLite in ${vaultDir}, root key generated and kept in memory`);
  detail(`root key  ${rootKey}`);
  detail('WARNING: a dev vault prints its root key; a real vault never does (use `sikkerkey-vault init` and keep the key offline).');
  const opEnv = { SIKKERKEY_URL: url as string, SIKKERKEY_KEY_FILE: operatorKey as string };
  const sk = async <T>(args: string[], okCodes: number[] = [0]): Promise<T> => {
    const r = await run(BIN.sk, [...args, '--json'], opEnv);
    if (r.code === null || !okCodes.includes(r.code)) throw new QuickstartError(`sikkerkey ${args.slice(0, 2).join(' ')} failed: ${r.stderr.trim() || r.stdout.trim()}`);
    return JSON.parse(r.stdout) as T;
  };

  // 2. the database and its throwaway users, or why there is none
  let users: DemoUsers | undefined;
  if (database) {
    users = await database.setup();
    step(`found ${database.description}: created throwaway ${users.created}`);
  } else {
    step(`no database to rotate on: tried ${'tried' in found ? found.tried.join(', ') : '-'}`);
    detail('showing a signed read and a canary trip instead (start Redis or MariaDB, or pass --postgres-url URL, for a real rotation)');
  }

  // 3. project and secrets
  await sk(['project', 'create', PROJECT]);
  const secret = database?.engine ?? 'greeting';
  if (users && database) {
    // Credentials go over the signed API from this process, not as `secret set --fields-json …`
    // arguments, which every local user could read in `ps` while the command runs.
    const operator = new VaultClient({ url: url as string, keyFile: operatorKey as string });
    try {
      for (const [name, fields] of [[secret, users.target], [`${secret}-admin`, users.admin]] as const) {
        await operator.request('PUT', `/v1/projects/${enc(PROJECT)}/secrets/${enc(name)}`, { fields });
      }
    } finally {
      operator.close();
    }
    step(`project ${PROJECT}: secrets ${secret} (the throwaway user) and ${secret}-admin stored, envelope-encrypted under the root key`);
  } else {
    await sk(['secret', 'set', PROJECT, secret, '--value', 'hello from the vault']);
    await sk(['canary', 'create', PROJECT, 'backup-admin', '--fields-json', JSON.stringify({ username: 'backup_admin', password: `decoy-${Date.now().toString(36)}` })]);
    step(`project ${PROJECT}: secret ${secret} stored, and canary backup-admin (a decoy no legitimate machine reads)`);
  }

  // 4. the agent: its key is made here and only its public half goes to the vault, with a one-use token
  const token = await sk<{ id: string; token: string }>(['enroll-token', 'create', '--project', PROJECT,
    ...(users ? ['--secret', `${secret}-admin`] : ['--secret', secret]), '--label', AGENT_LABEL,
    '--machine-lifetime', '24h', '--max-uses', '1', '--expires-in', '10m', '--name-template', 'quickstart-agent-{rand4}', '--name', 'quickstart']);
  const tokenFile = join(work, 'enrollment-token');
  writeFileSync(tokenFile, token.token, { mode: 0o600 });
  const agentKey = join(work, 'agent.key');
  const enrolled = await run(BIN.agent, ['enroll', '--url', url as string, '--token-file', tokenFile, '--key-file', agentKey, '--hostname', 'quickstart', '--json'], {});
  rmSync(tokenFile);
  if (enrolled.code !== 0) throw new QuickstartError(`sikkerkey-agent enroll failed: ${enrolled.stderr.trim()}`);
  const machine = JSON.parse(enrolled.stdout) as { name: string; keyId: string; status: string };
  if (machine.status !== 'active') await sk(['machine', 'approve', machine.name]);
  step(`agent enrolled as machine ${machine.name} with a one-use enrollment token (key made locally, mode 0600: ${agentKey})`);

  // 5. the agent daemon
  const healthPort = await freePort(9464);
  const agentConfig = join(work, 'agent.yaml');
  writeFileSync(agentConfig, [
    `vaultUrl: ${url}`, `keyFile: ${agentKey}`,
    'health:', `  listen: 127.0.0.1:${healthPort}`, 'log:', '  level: info', '',
  ].join('\n'));
  const agent = startChild('agent', BIN.agent, ['run', '--config', agentConfig]);
  await waitForOutput(agent, /agent started/, 30_000);
  step(`agent running (pid ${agent.proc.pid}), long-polling the vault; health on http://127.0.0.1:${healthPort}/healthz`);

  // an application machine, to read as applications do (signed requests, no bearer token)
  const appKey = join(work, 'app.key');
  const appPub = await run(BIN.agent, ['init', '--key-file', appKey, '--json'], {});
  if (appPub.code !== 0) throw new QuickstartError(`sikkerkey-agent init failed: ${appPub.stderr.trim()}`);
  await sk(['machine', 'add', APP_MACHINE, '--public-key', (JSON.parse(appPub.stdout) as { publicKey: string }).publicKey]);
  await sk(['grant', 'add', APP_MACHINE, '--project', PROJECT, ...(users ? ['--secret', secret] : [])]);
  const appEnv = { SIKKERKEY_URL: url as string, SIKKERKEY_AGENT_KEY_FILE: appKey };
  const appRead = (name: string, field?: string): Promise<Ran> => run(BIN.agent, ['get', PROJECT, name, ...(field ? ['--field', field] : [])], appEnv);

  if (database && users) {
    // 6. policy + preflight
    const set = await sk<{ preflight?: { state: string; error?: string | null } }>(['rotation', 'set', PROJECT, secret, '--provider', database.engine,
      '--agent-label', AGENT_LABEL, '--admin-secret', `${secret}-admin`, '--wait', '--timeout', '60'], [0, 3]);
    if (set.preflight?.state !== 'preflight_passed') throw new QuickstartError(`the preflight check failed: ${set.preflight?.error ?? set.preflight?.state ?? 'no preflight'}`);
    step(`rotation policy set on ${PROJECT}/${secret}; the agent's preflight check passed (the admin may change the user's password)`);

    // 7. the rotation
    const st = await sk<{ state: string; version: number; latencyMs: number; lastError: { code: string; message: string } | null }>(['rotation', 'run', PROJECT, secret, '--wait', '--timeout', '90'], [0, 3, 4]);
    if (st.state !== 'promoted') throw new QuickstartError(`the rotation ended ${st.state}: ${st.lastError ? `${st.lastError.code}: ${st.lastError.message}` : ''}`);
    step(`rotation promoted: ${PROJECT}/${secret} is at version ${st.version} (${st.latencyMs} ms from request to promotion; the agent applied it and proved it logs in first)`);

    // 8. the proof, against the database itself
    const read = await appRead(secret, 'password');
    if (read.code !== 0) throw new QuickstartError(`the signed read as ${APP_MACHINE} failed: ${read.stderr.trim()}`);
    const fresh = read.stdout.replace(/\n$/, '');
    if (fresh === users.initialPassword) throw new QuickstartError('the vault still serves the initial password after the rotation');
    const oldWorks = await database.login(users.initialPassword);
    const newWorks = await database.login(fresh);
    if (oldWorks) throw new QuickstartError(`${database.description} still accepts the old password of ${users.username}`);
    if (!newWorks) throw new QuickstartError(`${database.description} refuses the new password of ${users.username}`);
    step(`proved against ${database.description}: old password refused (${database.refusal}), new password works (${users.username}, read by machine ${APP_MACHINE} with a signed request)`);
  } else {
    // 6. a signed read
    const read = await appRead(secret);
    if (read.code !== 0) throw new QuickstartError(`the signed read as ${APP_MACHINE} failed: ${read.stderr.trim()}`);
    step(`signed read: machine ${APP_MACHINE} read ${PROJECT}/${secret} = ${JSON.stringify(read.stdout.trim())} (an Ed25519 signature on the request, no bearer token)`);

    // 7. the canary: the first read of a decoy locks the project (and disables the reader)
    await appRead('backup-admin');
    const after = await appRead(secret);
    const refused = /SK_ERR_[A-Z_]+/.exec(after.stderr)?.[0];
    const [projects, machines] = await Promise.all([
      sk<{ projects: Array<{ name: string; locked: boolean }> }>(['project', 'list']),
      sk<{ machines: Array<{ name: string; status: string }> }>(['machine', 'list']),
    ]);
    const locked = projects.projects.some((p) => p.name === PROJECT && p.locked);
    const disabled = machines.machines.some((m) => m.name === APP_MACHINE && m.status === 'disabled');
    if (after.code === 0 || refused === undefined || !locked) throw new QuickstartError(`reading the canary did not lock the project: ${after.stderr.trim() || after.stdout.trim()}`);
    step(`canary tripped: ${APP_MACHINE} read ${PROJECT}/backup-admin; the vault locked project ${PROJECT}${disabled ? ` and disabled ${APP_MACHINE}` : ''}, and refused its next read (${refused})`);
    await sk(['project', 'unlock', PROJECT, '--reason', 'quickstart canary demo']);
    if (disabled) await sk(['machine', 'enable', APP_MACHINE]);
    detail(`undone for you: sikkerkey project unlock ${PROJECT} --reason …${disabled ? `, sikkerkey machine enable ${APP_MACHINE}` : ''}; \`sikkerkey audit list\` shows the trip`);
  }

  // The dashboard (issue 29): a one-time invitation for one more key of the dev operator — the
  // browser that opens it makes its own non-extractable key and signs every request with it.
  const invitation = await sk<{ url: string }>(['operator', 'invite', 'dev', '--existing', '--expires', '24h']);

  const exports = `export SIKKERKEY_URL=${url} SIKKERKEY_KEY_FILE=${operatorKey}`;
  process.stdout.write([
    '',
    `Dashboard: ${invitation.url}`,
    '  a one-time link (valid 24 h): the browser that opens it becomes one more key of operator dev; browsers allow this only over https or on localhost, so open it on this machine',
    '',
    'The vault and the agent keep running. In another terminal, in this checkout:',
    `  ${exports}`,
    ...(database ? [
      `  npx sikkerkey rotation run ${PROJECT} ${secret} --wait       # rotate again`,
      `  npx sikkerkey rotation status ${PROJECT} ${secret}`,
    ] : [
      `  npx sikkerkey secret set ${PROJECT} ${secret} --value 'something new'`,
    ]),
    '  npx sikkerkey audit list --project quickstart            # every step, hash-chained',
    '  npx sikkerkey audit verify',
    `  SIKKERKEY_AGENT_KEY_FILE=${appKey} npx sikkerkey-agent get ${PROJECT} ${secret}${database ? ' --field username' : ''}`,
    `  curl http://127.0.0.1:${healthPort}/metrics                  # the agent's Prometheus metrics`,
    `Ctrl-C stops the agent and the vault and removes ${work}${database ? `, ${vaultDir} and the throwaway users` : ` and ${vaultDir}`}.`,
    '',
  ].join('\n'));
}

// -- stopping --------------------------------------------------------------------------------------

let stopping: Promise<void> | undefined;

async function stopChild(child: Child, timeoutMs: number): Promise<void> {
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  child.proc.kill('SIGTERM');
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), timeoutMs);
  await child.exited;
  clearTimeout(timer);
}

/** Stops the agent, then the vault; removes the throwaway users and every temporary file. */
function shutdown(): Promise<void> {
  stopping ??= (async () => {
    const problems: string[] = [];
    for (const name of ['agent', 'vault']) {
      for (const c of children.filter((x) => x.name === name)) await stopChild(c, name === 'agent' ? 5_000 : 10_000);
    }
    for (const c of children) c.log.end();
    if (database) {
      await database.cleanup().catch((err: unknown) => problems.push(`could not remove the throwaway users: ${err instanceof Error ? err.message : String(err)}`));
    }
    // the vault removes its own directory when it stops cleanly; after a SIGKILL it is ours to remove
    if (vaultDir) rmSync(vaultDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
    process.stdout.write(problems.length === 0
      ? `stopped: agent and vault ended, temporary files${database ? ' and throwaway users' : ''} removed\n`
      : `stopped, with problems:\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
    if (problems.length > 0) process.exitCode = 1;
  })();
  return stopping;
}

let firstSignalAt = 0;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (firstSignalAt > 0) {
      // Ctrl-C under `npm start` can arrive twice at once (from the terminal, and forwarded by
      // npm): only a second press a moment later means "now".
      if (Date.now() - firstSignalAt < 1000) return;
      for (const c of children) c.proc.kill('SIGKILL');
      process.exit(1);
    }
    firstSignalAt = Date.now();
    process.stdout.write('\nstopping…\n');
    shutdown().then(() => process.exit(), (err: unknown) => {
      process.stderr.write(`stopping failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    });
  });
}
// Last resort (an uncaught error): nothing we started outlives us.
process.on('exit', () => {
  for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
});

try {
  await main();
} catch (err) {
  process.stderr.write(`\nquickstart failed: ${err instanceof QuickstartError || err instanceof DemoDatabaseError ? err.message : err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  for (const c of children) if (c.shown().trim() !== '') process.stderr.write(`\n${c.name} log (last lines):\n${tail(c.shown())}\n`);
  await shutdown();
  process.exit(1);
}
