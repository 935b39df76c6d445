// Agent memory: the idle resident set (VmRSS from /proc/<pid>/status) of one agent process that
// has started, connected, run the jobs it was given and then sat idle-polling for a few seconds.
// Three agents, one after another, against one real vault (fresh SQLite store):
//   none  a machine no policy names: the bare agent, no driver loaded
//   one   a machine with one Redis rotation policy (REDIS_URL): only the Redis provider loads (no driver)
//   all   a machine with a PostgreSQL (PG_URL), a MariaDB/MySQL (MYSQL_URL), a Redis and a MongoDB
//         policy (the MongoDB wire test server in this process: there is no mongod here)
// A driver loads only when a job for its engine runs (providers/registry.ts). Setting a policy
// creates its preflight job, so each policy makes the agent load that engine's driver once; the
// RSS is read after every preflight ended (passed or not: loading is what matters here).
//
//   npm run bench -- agent-footprint [--json] [--idle-seconds 5]
//
// The agent is the single executable (dist/bin/sikkerkey-agent), built with `npm run build:agent`
// when missing or stale; when it cannot be built the bench measures `node dist/agent/main.js` and
// says so (`binary`, `fallback_reason`).
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { VaultClient } from '../protocol/client.js';
import { encodePathSegment as enc } from '../protocol/client.js';
import { generateIdentityKey, readPrivateKeyFile, writePrivateKeyFile } from '../protocol/keys.js';
import { AGENT_BINARY, agentBinary } from '../test/support/agent-binary.js';
import { MongoWireTestServer } from '../test/support/mongo-wire-server.js';
import { BIN, startExecutable } from '../test/support/processes.js';
import { assertReachable, mysqlUrl, parseServiceUrl, pgUrl, redisUrl } from '../test/support/services.js';
import { startVaultProcess } from '../test/support/vault-process.js';
import { flag, round } from './stats.js';

const GOAL_ONE_PROVIDER_MIB = 60;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const pw = (): string => `fp-${randomBytes(15).toString('base64url')}`;

/**
 * VmRSS and VmHWM (peak) of a process, in MiB, and the RSS split: `anon` is the process's own
 * memory (V8 heap, code, the bundle's source), `file` the pages of the executable it has touched
 * (shared, and larger right after the file was written: the kernel caches a fresh file in large
 * folios and maps them whole).
 */
function memoryOf(pid: number): { rss: number; hwm: number; anon: number; file: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => Number(status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'))?.[1] ?? NaN);
  return { rss: round(kib('VmRSS') / 1024), hwm: round(kib('VmHWM') / 1024), anon: round(kib('RssAnon') / 1024), file: round(kib('RssFile') / 1024) };
}

type Engine = 'postgres' | 'mysql' | 'redis' | 'mongodb';
interface Target { engine: Engine; target: Record<string, string>; admin: Record<string, string> }

/** One throwaway user (and its admin) per engine; `cleanup` removes them. */
async function makeTargets(prefix: string, engines: readonly Engine[]): Promise<{ targets: Target[]; cleanup(): Promise<void> }> {
  const targets: Target[] = [];
  const undo: Array<() => Promise<void>> = [];
  const cleanup = async (): Promise<void> => {
    for (const u of undo.reverse()) await u().catch((err: unknown) => process.stderr.write(`agent-footprint: cleanup: ${String(err)}\n`));
  };
  try {
    for (const engine of engines) {
      const user = { username: `${prefix}${engine}_app`, password: pw() };
      const admin = { username: `${prefix}${engine}_adm`, password: pw() };
      if (engine === 'redis') {
        await assertReachable('redis', redisUrl());
        const s = parseServiceUrl(redisUrl());
        const root = new Redis({ host: s.host, port: s.port, username: s.username || undefined, password: s.password || undefined, lazyConnect: true });
        await root.connect();
        undo.push(async () => { await root.call('ACL', 'DELUSER', user.username, admin.username); root.disconnect(); });
        await root.call('ACL', 'SETUSER', user.username, 'reset', 'on', `>${user.password}`, '+ping');
        await root.call('ACL', 'SETUSER', admin.username, 'reset', 'on', `>${admin.password}`, '+acl', '+config|get', '+info', '+ping');
        const base = { host: s.host, port: String(s.port) };
        targets.push({ engine, target: { ...base, ...user }, admin: { ...base, ...admin } });
      } else if (engine === 'postgres') {
        await assertReachable('postgres', pgUrl());
        const s = parseServiceUrl(pgUrl());
        const database = s.database ?? 'postgres';
        const root = new pg.Client({ host: s.host, port: s.port, user: s.username || 'postgres', password: s.password || undefined, database });
        await root.connect();
        undo.push(async () => {
          for (const name of [user.username, admin.username]) await root.query(`DROP ROLE IF EXISTS ${root.escapeIdentifier(name)}`);
          await root.end();
        });
        await root.query(`CREATE ROLE ${root.escapeIdentifier(admin.username)} LOGIN CREATEROLE PASSWORD ${root.escapeLiteral(admin.password)}`);
        await root.query(`CREATE ROLE ${root.escapeIdentifier(user.username)} LOGIN PASSWORD ${root.escapeLiteral(user.password)}`);
        const base = { host: s.host, port: String(s.port), database, tls: 'disable' };
        targets.push({ engine, target: { ...base, ...user }, admin: { ...base, ...admin } });
      } else if (engine === 'mysql') {
        await assertReachable('mysql', mysqlUrl());
        const s = parseServiceUrl(mysqlUrl());
        const root = await mysql.createConnection({ host: s.host, port: s.port, user: s.username || 'root', password: s.password });
        undo.push(async () => {
          for (const name of [user.username, admin.username]) await root.query('DROP USER IF EXISTS ?@?', [name, '%']);
          await root.end();
        });
        await root.query('CREATE USER ?@? IDENTIFIED BY ?', [user.username, '%', user.password]);
        await root.query('CREATE USER ?@? IDENTIFIED BY ?', [admin.username, '%', admin.password]);
        await root.query('GRANT CREATE USER ON *.* TO ?@?', [admin.username, '%']);
        const base = { host: s.host, port: String(s.port) };
        targets.push({ engine, target: { ...base, ...user }, admin: { ...base, ...admin } });
      } else {
        const srv = await MongoWireTestServer.start({
          users: [
            { db: 'admin', user: admin.username, pwd: admin.password, roles: [{ role: 'userAdminAnyDatabase', db: 'admin' }] },
            { db: 'admin', user: user.username, pwd: user.password, roles: [{ role: 'readWrite', db: 'appdb' }] },
          ],
        });
        undo.push(() => srv.stop());
        const base = { host: srv.host, port: String(srv.port), authSource: 'admin' };
        targets.push({ engine, target: { ...base, ...user }, admin: { ...base, ...admin } });
      }
    }
  } catch (err) {
    await cleanup();
    throw err;
  }
  return { targets, cleanup };
}

interface Measure { rss_mib: number; peak_mib: number; anon_mib: number; file_mib: number; preflights: Record<string, string> }

export async function run(args: string[]): Promise<void> {
  const json = args.includes('--json');
  const idleSeconds = Number(flag(args, 'idle-seconds', '5'));
  if (!Number.isFinite(idleSeconds) || idleSeconds < 1) {
    process.stderr.write('usage: npm run bench -- agent-footprint [--json] [--idle-seconds 5]\n');
    process.exitCode = 2;
    return;
  }
  const note = (s: string): void => { if (!json) process.stderr.write(`agent-footprint: ${s}\n`); };

  // The single executable, built now when missing or older than its sources.
  let command = AGENT_BINARY;
  let argsBefore: string[] = [];
  let binary = 'single-executable dist/bin/sikkerkey-agent';
  let fallbackReason: string | undefined;
  try {
    const { build } = await agentBinary();
    if (build) note(`built ${build.path} in ${(build.buildMs / 1000).toFixed(1)} s`);
  } catch (err) {
    fallbackReason = err instanceof Error ? err.message.slice(0, 300) : String(err);
    command = process.execPath;
    argsBefore = [BIN['sikkerkey-agent']];
    binary = 'node dist/agent/main.js (fallback: the single executable could not be built)';
    note(`falling back to node dist/agent/main.js: ${fallbackReason}`);
  }

  const prefix = `skfp_${randomBytes(3).toString('hex')}_`;
  const fixtures = await makeTargets(prefix, ['redis', 'postgres', 'mysql', 'mongodb']);
  const vault = await startVaultProcess();
  try {
    const op = readPrivateKeyFile(vault.opKey);
    const client = new VaultClient({ url: vault.url, key: { keyId: op.keyId, privateKey: op.privateKey } });
    const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => (await client.request<T>(method, path, body)).body;
    await call('POST', '/v1/projects', { name: 'fp' });

    /** A fresh machine given these targets' policies; its agent's RSS once every preflight ended and it idled. */
    const measure = async (name: string, targets: readonly Target[], exe: { command: string; args: string[] } = { command, args: argsBefore }): Promise<Measure> => {
      const keyFile = join(vault.dir, `${name}.key`);
      const key = generateIdentityKey();
      writePrivateKeyFile(keyFile, key.privateKey);
      await call('POST', '/v1/machines', { name, publicKey: Buffer.from(key.publicKey).toString('base64'), labels: [] });
      const cfg = join(vault.dir, `${name}.json`);
      writeFileSync(cfg, JSON.stringify({ vaultUrl: vault.url, keyFile, health: { listen: '127.0.0.1:0' }, pollWaitSeconds: 30, log: { level: 'info' } }));
      const agent = startExecutable(exe.command, [...exe.args, 'run', '--config', cfg], { label: `agent ${name}` });
      try {
        await agent.waitFor(/agent started/);
        const preflights: Record<string, string> = {};
        for (const t of targets) {
          const secret = `${name}-${t.engine}`;
          const adminSecret = `${secret}-admin`;
          await call('PUT', `/v1/projects/fp/secrets/${enc(secret)}`, { fields: t.target });
          await call('PUT', `/v1/projects/fp/secrets/${enc(adminSecret)}`, { fields: t.admin });
          await call('POST', '/v1/grants', { machine: name, project: 'fp', secret: adminSecret });
          const { policy } = await call<{ policy: { preflightId: string | null } }>('PUT', `/v1/projects/fp/secrets/${enc(secret)}/rotation`, {
            provider: t.engine, agent: name, adminSecret, strategy: 'single',
          });
          preflights[t.engine] = policy.preflightId ?? '';
        }
        // every preflight ended: each engine's driver has been loaded by the agent
        for (const [engine, id] of Object.entries(preflights)) {
          const until = Date.now() + 120_000;
          for (;;) {
            const job = await call<{ state: string; errorCode: string | null }>('GET', `/v1/rotations/${enc(id)}`);
            if (!['pending', 'claimed', 'applied'].includes(job.state)) { preflights[engine] = job.state + (job.errorCode ? ` ${job.errorCode}` : ''); break; }
            if (Date.now() > until) throw new Error(`the ${engine} preflight did not end: ${job.state}`);
            await sleep(100);
          }
        }
        // A deliberate wait on time: the figure is the RSS of an agent that has sat idle-polling.
        await sleep(idleSeconds * 1000);
        const m = memoryOf(agent.proc.pid as number);
        note(`${name}: ${m.rss} MiB RSS (anon ${m.anon}, file ${m.file}; peak ${m.hwm} MiB) with ${targets.map((t) => t.engine).join(', ') || 'no policy'}`);
        return { rss_mib: m.rss, peak_mib: m.hwm, anon_mib: m.anon, file_mib: m.file, preflights };
      } finally {
        await agent.stop('SIGTERM');
      }
    };

    const byEngine = (e: Engine): Target => fixtures.targets.find((t) => t.engine === e) as Target;
    const none = await measure('fp-none', []);
    const one = await measure('fp-one', [byEngine('redis')]);
    const all = await measure('fp-all', fixtures.targets);
    // The same three with node running the compiled sources, for comparison (each driver a separate module there).
    const nodeDist = { command: process.execPath, args: [BIN['sikkerkey-agent']] };
    const nodeFigures = fallbackReason ? undefined : {
      rss_no_provider_mib: (await measure('fp-node-none', [], nodeDist)).rss_mib,
      rss_one_provider_mib: (await measure('fp-node-one', [byEngine('redis')], nodeDist)).rss_mib,
      rss_all_providers_mib: (await measure('fp-node-all', fixtures.targets, nodeDist)).rss_mib,
    };
    client.close();

    const result = {
      bench: 'agent-footprint',
      binary,
      ...(fallbackReason ? { fallback_reason: fallbackReason } : {}),
      idle_seconds: idleSeconds,
      rss_no_provider_mib: none.rss_mib,
      rss_one_provider_mib: one.rss_mib,
      rss_all_providers_mib: all.rss_mib,
      one_provider: 'redis',
      peak_mib: { none: none.peak_mib, one: one.peak_mib, all: all.peak_mib },
      anon_mib: { none: none.anon_mib, one: one.anon_mib, all: all.anon_mib },
      file_mib: { none: none.file_mib, one: one.file_mib, all: all.file_mib },
      preflights: { one: one.preflights, all: all.preflights },
      ...(nodeFigures ? { node_dist: nodeFigures } : {}),
      how_loaded: 'each policy\'s preflight job makes the agent load that engine\'s driver (providers/registry.ts imports it on first use)',
      goal: `rss_one_provider_mib <= ${GOAL_ONE_PROVIDER_MIB}`,
      met: one.rss_mib <= GOAL_ONE_PROVIDER_MIB,
    };
    if (!json) {
      process.stdout.write(
        `agent-footprint (${binary}): idle RSS ${none.rss_mib} MiB with no provider, ${one.rss_mib} MiB with Redis only, ` +
          `${all.rss_mib} MiB with postgres+mysql+redis+mongodb` +
          (nodeFigures ? ` (node dist/agent/main.js: ${nodeFigures.rss_no_provider_mib} / ${nodeFigures.rss_one_provider_mib} / ${nodeFigures.rss_all_providers_mib} MiB)` : '') + `; goal ≤ ${GOAL_ONE_PROVIDER_MIB} MiB with one provider: ${result.met ? 'met' : 'NOT met'}\n`,
      );
    }
    process.stdout.write(JSON.stringify(result) + '\n');
  } finally {
    await vault.close();
    await fixtures.cleanup();
  }
}
