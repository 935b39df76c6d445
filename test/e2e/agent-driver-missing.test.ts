// An agent installed without one engine's driver: a real vault, a real agent process started from
// a temporary directory whose node_modules links every package of this project but `pg` (the
// project's own node_modules is never touched). A PostgreSQL rotation it claims ends `failed`
// with SK_ERR_PROVIDER_UNAVAILABLE — the live credential untouched — the agent process keeps
// running, and a Redis rotation it handles right after is promoted.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { startRotationHarness } from '../support/rotation-harness.js';
import type { RotationHarness } from '../support/rotation-harness.js';
import type { RunningProcess } from '../support/processes.js';
import { jsonOf } from '../support/processes.js';
import { assertReachable, parseServiceUrl, randomTag, redisUrl } from '../support/services.js';
import type { RotationStatus } from '../../protocol/api-types.js';

const MISSING = 'pg';
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const dist = join(repo, 'dist');

/** A copy of the agent's compiled code beside a node_modules of links to every package but one. */
function trimmedInstall(): { dir: string; executable: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sk-trimmed-agent-'));
  for (const part of ['agent', 'protocol', 'providers']) cpSync(join(dist, part), join(dir, 'dist', part), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  mkdirSync(join(dir, 'node_modules'));
  const modules = join(repo, 'node_modules');
  for (const name of readdirSync(modules)) {
    if (name === MISSING || name.startsWith('.')) continue;
    symlinkSync(join(modules, name), join(dir, 'node_modules', name));
  }
  const executable = join(dir, 'sikkerkey-agent');
  writeFileSync(executable, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(join(dir, 'dist', 'agent', 'main.js'))} "$@"\n`);
  chmodSync(executable, 0o755);
  return { dir, executable };
}

const redis = parseServiceUrl(redisUrl());
const tag = randomTag();
const CACHE_USER = `sk_e2e_nodriver_${tag}`;
const CACHE_ADMIN = `sk_e2e_nodriver_adm_${tag}`;
const CACHE_PASSWORD = `initial-${randomTag(10)}`;
const ADMIN_PASSWORD = `admin-${randomTag(10)}`;
let root: Redis;
let h: RotationHarness;
let agent: RunningProcess;
let install: { dir: string; executable: string };

before(async () => {
  await assertReachable('redis', redisUrl());
  install = trimmedInstall();
  root = new Redis({ host: redis.host, port: redis.port, username: redis.username || undefined, password: redis.password || undefined, lazyConnect: true });
  await root.connect();
  await root.call('ACL', 'SETUSER', CACHE_USER, 'reset', 'on', `>${CACHE_PASSWORD}`, '+ping');
  await root.call('ACL', 'SETUSER', CACHE_ADMIN, 'reset', 'on', `>${ADMIN_PASSWORD}`, '+acl', '+config|get', '+info', '+ping');
  // The PostgreSQL secrets point nowhere: the job must end before any connection is tried.
  const nowhere = { host: '127.0.0.1', port: '1', database: 'postgres', tls: 'disable' };
  h = await startRotationHarness({
    engine: 'postgres', agentExecutable: install.executable,
    target: { ...nowhere, username: 'app', password: `live-${randomTag(10)}` },
    admin: { ...nowhere, username: 'admin', password: `admin-${randomTag(10)}` },
  });
  const base = { host: redis.host, port: String(redis.port) };
  for (const args of [
    ['secret', 'set', 'db', 'cache', '--fields-json', JSON.stringify({ ...base, username: CACHE_USER, password: CACHE_PASSWORD })],
    ['secret', 'set', 'db', 'cache-admin', '--fields-json', JSON.stringify({ ...base, username: CACHE_ADMIN, password: ADMIN_PASSWORD })],
    ['grant', 'add', 'agent1', '--project', 'db', '--secret', 'cache-admin'],
    ['rotation', 'set', 'db', 'cache', '--provider', 'redis', '--agent-label', 'rotator', '--admin-secret', 'cache-admin'],
  ]) jsonOf(await h.sk([...args, '--json']));
  agent = await h.startAgent();
});

after(async () => {
  await h?.close();
  await root?.call('ACL', 'DELUSER', CACHE_USER, CACHE_ADMIN).catch(() => undefined);
  root?.disconnect();
  if (install) rmSync(install.dir, { recursive: true, force: true });
});

test(`a rotation whose driver (${MISSING}) is missing ends failed with SK_ERR_PROVIDER_UNAVAILABLE; the agent keeps running and promotes a Redis rotation right after`, async () => {
  const before = (await h.read()).fields;
  const run = await h.sk(['rotation', 'run', 'db', 'app', '--wait', '--timeout', '60', '--json']);
  const status = JSON.parse(run.stdout) as RotationStatus;
  assert.equal(status.state, 'failed', run.stdout + run.stderr);
  assert.equal(status.lastError?.code, 'SK_ERR_PROVIDER_UNAVAILABLE');
  assert.match(status.lastError.message, /\bpg\b/, 'the message names the missing driver');
  assert.deepEqual((await h.read()).fields, before, 'the live credential is untouched');
  assert.equal(agent.proc.exitCode, null, `the agent exited: ${agent.output().slice(-2000)}`);
  assert.match(agent.output(), /could not be loaded; the job fails and the agent goes on/);

  const cache = await h.sk(['rotation', 'run', 'db', 'cache', '--wait', '--timeout', '60', '--json']);
  assert.equal((JSON.parse(cache.stdout) as RotationStatus).state, 'promoted', cache.stdout + cache.stderr);
  assert.equal(agent.proc.exitCode, null);
  assert.doesNotMatch(agent.output(), /unhandled|UnhandledPromiseRejection/i);
});
