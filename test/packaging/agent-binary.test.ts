// The single-executable agent (`npm run build:agent` → dist/bin/sikkerkey-agent), run as the
// agent PROCESS — not `node dist/…` — for real rotations: a Redis ACL user on the machine's
// Redis, a PostgreSQL role on a password-enforcing cluster, a MariaDB user and a MongoDB user
// (wire-protocol test server), so every provider and its driver is proven to be inside the file.
// It also measures what the README's Packaging section reports: size, --version time, idle RSS.
import { after, before, describe, test } from 'node:test';
import { loginWithFields } from '../support/engine-fixtures.js';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { MongoClient } from 'mongodb';
import { AGENT_BINARY_HOOK_TIMEOUT_MS, agentBinary, REPO_ROOT } from '../support/agent-binary.js';
import { startRotationHarness } from '../support/rotation-harness.js';
import type { RotationHarness } from '../support/rotation-harness.js';
import { VaultClient } from '../../protocol/client.js';
import { readPrivateKeyFile } from '../../protocol/keys.js';
import { startExecutable } from '../support/processes.js';
import type { RunningProcess } from '../support/processes.js';
import { scramCluster } from '../support/pg-scram-cluster.js';
import { mysqlUrl, parseServiceUrl, randomTag, redisUrl } from '../support/services.js';
import { passwordHash } from '../../providers/redis/redis-provider.js';
import { MongoWireTestServer } from '../support/mongo-wire-server.js';
import { sleep } from '../support/wait.js';

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
let bin: string;

// May build the executable first (5–25 s measured, bounded at 5 minutes by agentBinary()).
before(async () => {
  const { path, build } = await agentBinary();
  bin = path;
  if (build) console.log(`# built ${path}: ${build.bytes} bytes in ${build.buildMs} ms (bundle ${build.bundleBytes} bytes)`);
}, { timeout: AGENT_BINARY_HOOK_TIMEOUT_MS });

/** Resident set size of a running process, in MiB (what `ps -o rss` shows). */
function rssMiB(pid: number): number {
  const r = spawnSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' });
  const kib = Number(r.stdout.trim());
  assert.ok(kib > 0, `ps found no process ${pid}`);
  return kib / 1024;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

test('the executable prints the package version, with nothing on stderr (its start-up time is printed, not asserted)', () => {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    times.push(performance.now() - t);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), pkg.version);
    assert.equal(r.stderr, '', 'nothing on stderr: no SEA warning, no require warning');
  }
  const size = statSync(bin).size;
  console.log(`# sikkerkey-agent: ${(size / 2 ** 20).toFixed(1)} MiB; --version median ${Math.round(median(times))} ms (of 5)`);
  assert.ok(size > 10 * 2 ** 20, 'a real executable with node inside');
});

test('runs from a directory with no node_modules: copied alone, it makes a key and refuses a bad command', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sk-sea-alone-'));
  try {
    const alone = join(dir, 'sikkerkey-agent');
    copyFileSync(bin, alone);
    spawnSync('chmod', ['755', alone]);
    const env = { PATH: '/usr/bin:/bin', HOME: dir };
    const init = spawnSync(alone, ['init', '--key-file', join(dir, 'agent.key'), '--json'], { cwd: dir, env, encoding: 'utf8' });
    assert.equal(init.status, 0, init.stderr);
    assert.match((JSON.parse(init.stdout) as { keyId: string }).keyId, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(statSync(join(dir, 'agent.key')).mode & 0o777, 0o600);
    const bad = spawnSync(alone, ['get', 'p', 's'], { cwd: dir, env, encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^error SK_ERR_USAGE: no vault URL/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * One vault, one agent (the executable) and four rotated secrets, one per engine: db/app is the
 * harness's Redis user; db/pg, db/my and db/mongo are added beside it the way an operator would.
 */
describe('the executable as the rotation agent, one real rotation per engine', () => {
  const tag = randomTag();
  const r = parseServiceUrl(redisUrl());
  const m = parseServiceUrl(mysqlUrl());
  const redisUser = `sk_sea_${tag}`;
  const redisAdmin = `sk_sea_admin_${tag}`;
  const pgRole = `sk_sea_${tag}`;
  const myUser = `sk_sea_${tag}`;
  const myAdmin = `sk_sea_adm_${tag}`;
  const pw = (what: string): string => `sea-${what}-${randomTag(8)}`;
  const initial = { redis: pw('redis'), pg: pw('pg'), my: pw('my'), mongo: pw('mongo') };
  const admin = { redis: pw('redis-admin'), pg: pw('pg-admin'), my: pw('my-admin'), mongo: pw('mongo-admin'), mongoRoot: pw('mongo-root') };
  let redis: Redis;
  let cluster: Awaited<ReturnType<typeof scramCluster>>;
  let myRoot: mysql.Connection;
  let mongo: MongoWireTestServer;
  let h: RotationHarness;
  let agent: RunningProcess;
  let appClient: VaultClient;

  const redisAuth = async (password: string): Promise<boolean> => {
    const c = new Redis({ host: r.host, port: r.port, lazyConnect: true, protocol: 2, enableReadyCheck: false, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    c.on('error', () => undefined);
    try {
      await c.connect();
      await c.call('AUTH', redisUser, password);
      return true;
    } catch (err) {
      if (/WRONGPASS/.test((err as Error).message)) return false;
      throw err;
    } finally {
      c.disconnect();
    }
  };
  const pgLogin = (password: string): Promise<boolean> =>
    loginWithFields('postgres', { host: cluster.host, port: String(cluster.port), database: 'postgres', username: pgRole, password });
  const asPgAdmin = async <T>(fn: (c: pg.Client) => Promise<T>): Promise<T> => {
    const c = new pg.Client({ host: cluster.host, port: cluster.port, user: cluster.adminUser, password: cluster.adminPassword, database: 'postgres' });
    await c.connect();
    try { return await fn(c); } finally { await c.end(); }
  };
  const myLogin = async (password: string): Promise<boolean> => {
    try {
      const c = await mysql.createConnection({ host: m.host, port: m.port, user: myUser, password, connectTimeout: 5000 });
      await c.end();
      return true;
    } catch (err) {
      if ((err as { code?: string }).code === 'ER_ACCESS_DENIED_ERROR') return false;
      throw err;
    }
  };
  const mongoLogin = async (password: string): Promise<boolean> => {
    const c = new MongoClient(mongo.url(), { auth: { username: 'app', password }, authSource: 'admin', serverSelectionTimeoutMS: 1500 });
    try {
      await c.db('admin').command({ ping: 1 });
      return true;
    } catch (err) {
      if (/Authentication failed/i.test((err as Error).message)) return false;
      throw err;
    } finally {
      await c.close();
    }
  };
  const fieldsOf = async (secret: string): Promise<Record<string, string>> => (await appClient.getSecret('db', secret)).fields ?? {};
  const must = async (args: string[]): Promise<void> => {
    const res = await h.sk([...args, '--json']);
    assert.equal(res.code, 0, `sikkerkey ${args.join(' ')}: ${res.stderr}`);
  };
  /** Adds db/<name> (rotated through the agent label) and db/<name>-admin, granted as the harness grants db/app and db/admin. */
  const addRotated = async (name: string, engine: string, target: Record<string, string>, adminFields: Record<string, string>): Promise<void> => {
    await must(['secret', 'set', 'db', name, '--fields-json', JSON.stringify(target)]);
    await must(['secret', 'set', 'db', `${name}-admin`, '--fields-json', JSON.stringify(adminFields)]);
    await must(['grant', 'add', 'agent1', '--project', 'db', '--secret', `${name}-admin`]);
    await must(['grant', 'add', 'app1', '--project', 'db', '--secret', name]);
    // --wait: the running agent (the executable) does the preflight; it must pass
    const set = await h.sk(['rotation', 'set', 'db', name, '--provider', engine, '--agent-label', 'rotator', '--admin-secret', `${name}-admin`, '--wait', '--json']);
    assert.equal(set.code, 0, `rotation set db/${name}: ${set.stdout} ${set.stderr}`);
    assert.equal((JSON.parse(set.stdout) as { preflight: { state: string } }).preflight.state, 'preflight_passed');
  };
  const rotate = async (secret: string): Promise<void> => {
    const res = await h.sk(['rotation', 'run', 'db', secret, '--wait', '--json']);
    assert.equal(res.code, 0, `rotation run db/${secret}: ${res.stdout} ${res.stderr}`);
    assert.equal((JSON.parse(res.stdout) as { state: string }).state, 'promoted');
  };

  before(async () => {
    // The databases, side by side: throwaway users only (the shared Redis's default user and
    // configuration, and MariaDB's root, stay as they are).
    const [, c, root, srv] = await Promise.all([
      (async () => {
        redis = new Redis({ host: r.host, port: r.port, ...(r.password ? { username: r.username || 'default', password: r.password } : {}), lazyConnect: true, maxRetriesPerRequest: 1 });
        await redis.connect();
        await redis.call('ACL', 'SETUSER', redisUser, 'on', `#${passwordHash(initial.redis)}`, '-@all', '+ping');
        await redis.call('ACL', 'SETUSER', redisAdmin, 'on', `#${passwordHash(admin.redis)}`, '-@all', '+acl', '+config|get', '+info', '+ping');
      })(),
      scramCluster(),
      (async () => {
        const conn = await mysql.createConnection({ host: m.host, port: m.port, user: m.username || 'root', password: m.password });
        const [rows] = await conn.query('SELECT VERSION() AS v');
        const mariadb = /mariadb/i.test(String((rows as Array<{ v: string }>)[0]?.v));
        await conn.query('CREATE USER ?@? IDENTIFIED BY ?', [myUser, '%', initial.my]);
        await conn.query('CREATE USER ?@? IDENTIFIED BY ?', [myAdmin, '%', admin.my]);
        await conn.query('GRANT CREATE USER ON *.* TO ?@?', [myAdmin, '%']);
        await conn.query(`GRANT SELECT ON ${mariadb ? 'mysql.global_priv' : 'mysql.user'} TO ?@?`, [myAdmin, '%']);
        return conn;
      })(),
      MongoWireTestServer.start({
        users: [
          { db: 'admin', user: 'root', pwd: admin.mongoRoot, roles: [{ role: 'root', db: 'admin' }] },
          { db: 'admin', user: 'sk_admin', pwd: admin.mongo, roles: [{ role: 'userAdminAnyDatabase', db: 'admin' }] },
          { db: 'admin', user: 'app', pwd: initial.mongo, roles: [{ role: 'readWrite', db: 'appdb' }] },
        ],
      }),
    ]);
    cluster = c;
    myRoot = root;
    mongo = srv;
    await asPgAdmin(async (pc) => {
      await pc.query(`CREATE ROLE ${pc.escapeIdentifier(pgRole)} LOGIN PASSWORD ${pc.escapeLiteral(initial.pg)}`);
      await pc.query(`CREATE ROLE ${pc.escapeIdentifier(`${pgRole}_admin`)} LOGIN CREATEROLE PASSWORD ${pc.escapeLiteral(admin.pg)}`);
    });

    const redisBase = { host: r.host, port: String(r.port) };
    h = await startRotationHarness({
      engine: 'redis', agentExecutable: bin,
      target: { ...redisBase, username: redisUser, password: initial.redis },
      admin: { ...redisBase, username: redisAdmin, password: admin.redis },
    });
    const app = readPrivateKeyFile(join(h.dir, 'app.key'));
    appClient = new VaultClient({ url: h.url, key: { keyId: app.keyId, privateKey: app.privateKey } });
    agent = await h.startAgent();
  });
  after(async () => {
    await agent?.stop();
    appClient?.close();
    await h?.close();
    await redis?.call('ACL', 'DELUSER', redisUser, redisAdmin).catch(() => undefined);
    redis?.disconnect();
    for (const u of [myUser, myAdmin]) await myRoot?.query('DROP USER IF EXISTS ?@?', [u, '%']).catch(() => undefined);
    await myRoot?.end();
    await asPgAdmin(async (pc) => {
      await pc.query(`DROP ROLE IF EXISTS ${pc.escapeIdentifier(pgRole)}`);
      await pc.query(`DROP ROLE IF EXISTS ${pc.escapeIdentifier(`${pgRole}_admin`)}`);
    }).catch(() => undefined);
    await mongo?.stop();
  });

  test('the agent process is the executable itself, not node running a script', () => {
    const exe = spawnSync('readlink', [`/proc/${agent.proc.pid}/exe`], { encoding: 'utf8' }).stdout.trim();
    assert.equal(exe, bin);
  });

  test('idle, with no job ever offered, the executable\'s RSS stays under the Kubernetes request of 96 MiB (node running dist/ is printed beside it)', async () => {
    // A second machine that no policy names: it only long-polls. Its key is made by the executable.
    const keyFile = join(h.dir, 'idle.key');
    const init = spawnSync(bin, ['init', '--key-file', keyFile, '--json'], { encoding: 'utf8' });
    assert.equal(init.status, 0, init.stderr);
    await must(['machine', 'add', 'idle1', '--public-key', (JSON.parse(init.stdout) as { publicKey: string }).publicKey]);
    const config = join(h.dir, 'idle.json');
    writeFileSync(config, JSON.stringify({ vaultUrl: h.url, keyFile, health: { listen: '127.0.0.1:0' }, pollWaitSeconds: 30 }));
    const measure = async (command: string, args: string[]): Promise<number> => {
      const p = startExecutable(command, args, { label: 'idle agent' });
      try {
        await p.waitFor(/agent started/);
        // A deliberate wait on time: the figure is the RSS of an agent that has sat idle (its
        // first long-poll open), not of one still starting up.
        await sleep(1500);
        return rssMiB(p.proc.pid as number);
      } finally {
        await p.stop();
      }
    };
    const sea = await measure(bin, ['run', '--config', config]);
    const node = await measure(process.execPath, [join(REPO_ROOT, 'dist', 'agent', 'main.js'), 'run', '--config', config]);
    console.log(`# idle RSS, no job: executable ${sea.toFixed(1)} MiB, node dist/agent/main.js ${node.toFixed(1)} MiB`);
    // the Kubernetes example requests 96Mi and limits at 192Mi: an idle agent must fit well under the request
    assert.ok(sea < 96, `idle executable RSS ${sea.toFixed(1)} MiB`);
  });

  test('Redis: a throwaway ACL user rotated twice; each new password AUTHs and the one before is refused', async () => {
    let previous = initial.redis;
    for (let i = 0; i < 2; i++) {
      await rotate('app');
      const now = (await h.read()).fields.password as string;
      assert.notEqual(now, previous);
      assert.equal(await redisAuth(now), true, 'the promoted password logs in');
      assert.equal(await redisAuth(previous), false, 'the old password is refused');
      previous = now;
    }
    console.log(`# idle RSS after Redis rotations (the Redis provider loaded): ${rssMiB(agent.proc.pid as number).toFixed(1)} MiB`);
  });

  test('PostgreSQL (scram-sha-256 cluster): the new password logs in, the old one is refused with 28P01', async () => {
    const base = { host: cluster.host, port: String(cluster.port), database: 'postgres', tls: 'disable' };
    await addRotated('pg', 'postgres', { ...base, username: pgRole, password: initial.pg }, { ...base, username: `${pgRole}_admin`, password: admin.pg });
    await rotate('pg');
    const now = (await fieldsOf('pg')).password as string;
    assert.notEqual(now, initial.pg);
    assert.equal(await pgLogin(now), true);
    assert.equal(await pgLogin(initial.pg), false);
  });

  test('MariaDB: the new password logs in, the old one is refused', async () => {
    const base = { host: m.host, port: String(m.port) };
    await addRotated('my', 'mysql', { ...base, username: myUser, password: initial.my }, { ...base, username: myAdmin, password: admin.my });
    await rotate('my');
    const now = (await fieldsOf('my')).password as string;
    assert.equal(await myLogin(now), true);
    assert.equal(await myLogin(initial.my), false);
  });

  test('MongoDB (wire-protocol test server, the real driver inside the executable): SCRAM with the new password succeeds, with the old one fails', async () => {
    const base = { host: mongo.host, port: String(mongo.port), authSource: 'admin' };
    await addRotated('mongo', 'mongodb', { ...base, username: 'app', password: initial.mongo }, { ...base, username: 'sk_admin', password: admin.mongo });
    await rotate('mongo');
    const now = (await fieldsOf('mongo')).password as string;
    assert.equal(await mongoLogin(now), true);
    assert.equal(await mongoLogin(initial.mongo), false);
  });

  test('after every engine: no password, no SEA or require warning in the agent log (idle RSS with all four drivers printed)', async () => {
    await sleep(1000); // a deliberate wait on time: the RSS printed is the agent's after it settled
    console.log(`# idle RSS after rotations on all four engines: ${rssMiB(agent.proc.pid as number).toFixed(1)} MiB`);
    const log = agent.output();
    assert.match(log, /agent started/);
    for (const secret of ['app', 'pg', 'my', 'mongo']) {
      const value = secret === 'app' ? (await h.read()).fields.password : (await fieldsOf(secret)).password;
      assert.ok(value && !log.includes(value), `the db/${secret} password is not in the agent log`);
    }
    assert.doesNotMatch(log, /require only supports built-in modules|ExperimentalWarning|cardinal/);
  });
});
