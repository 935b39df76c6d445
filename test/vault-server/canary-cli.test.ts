// Canaries from the command line, against real processes on SQLite: `sikkerkey canary create`,
// a machine tripping it with `sikkerkey-agent get`, `project unlock`, `machine enable`, and a vault
// served with `--no-canary-disable-machine` (the reading machine stays enabled).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonOf, runBin, startBin } from '../support/processes.js';
import type { RunningProcess } from '../support/processes.js';

const dir = mkdtempSync(join(tmpdir(), 'sk-canary-cli-'));
let vault: RunningProcess | undefined;
after(async () => {
  await vault?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('an operator sets a canary with the CLI; its read locks the project until `project unlock`, and the episode verifies', async () => {
  const opKey = join(dir, 'operator.key');
  const op = jsonOf<{ publicKey: string }>(await runBin('sikkerkey', ['keygen', '--out', opKey, '--json']));
  const dataDir = join(dir, 'data');
  const init = jsonOf<{ rootKey: string }>(await runBin('sikkerkey-vault', ['init', '--data-dir', dataDir, '--operator-public-key', op.publicKey, '--json']));
  const rootKeyFile = join(dir, 'root.key');
  writeFileSync(rootKeyFile, init.rootKey + '\n', { mode: 0o600 });
  vault = startBin('sikkerkey-vault', ['serve', '--data-dir', dataDir, '--root-key-file', rootKeyFile, '--listen', '127.0.0.1:0', '--no-canary-disable-machine']);
  const url = (await vault.waitFor(/"url":"(http:\/\/127\.0\.0\.1:\d+)"/))[1] as string;
  const env = { SIKKERKEY_URL: url, SIKKERKEY_KEY_FILE: opKey };
  const sk = async <T>(...args: string[]): Promise<T> => jsonOf<T>(await runBin('sikkerkey', [...args, '--json'], { env }));

  await sk('project', 'create', 'shop');
  await sk('project', 'create', 'billing');
  await sk('secret', 'set', 'shop', 'db', '--value', 'cli-real-value');
  await sk('secret', 'set', 'billing', 'key', '--value', 'cli-billing-value');
  const created = await sk<{ name: string; version: number; lockMachineProjects: boolean }>('canary', 'create', 'shop', 'db-old', '--value', 'cli-decoy-value', '--lock-machine-projects');
  assert.deepEqual([created.name, created.version, created.lockMachineProjects], ['db-old', 1, true]);
  const listed = await sk<{ canaries: Array<{ name: string; lockMachineProjects: boolean }> }>('canary', 'list', 'shop');
  assert.deepEqual(listed.canaries.map((c) => [c.name, c.lockMachineProjects]), [['db-old', true]]);
  const secrets = await sk<{ secrets: Array<{ name: string; isCanary: boolean }> }>('secret', 'list', 'shop');
  assert.deepEqual(secrets.secrets.map((x) => [x.name, x.isCanary]), [['db', false], ['db-old', true]]);
  const usage = await runBin('sikkerkey', ['canary', 'create', 'shop', 'no-value'], { env });
  assert.notEqual(usage.code, 0);
  assert.match(usage.stderr, /^error SK_ERR_USAGE: /);

  const mKey = join(dir, 'machine.key');
  const m = jsonOf<{ publicKey: string }>(await runBin('sikkerkey-agent', ['init', '--key-file', mKey, '--json']));
  await sk('machine', 'add', 'app1', '--public-key', m.publicKey);
  await sk('grant', 'add', 'app1', '--project', 'shop');
  await sk('grant', 'add', 'app1', '--project', 'billing');
  const agentEnv = { SIKKERKEY_URL: url, SIKKERKEY_AGENT_KEY_FILE: mKey };

  const tripped = await runBin('sikkerkey-agent', ['get', 'shop', 'db-old'], { env: agentEnv });
  assert.equal(tripped.code, 0, tripped.stderr);
  assert.equal(tripped.stdout, 'cli-decoy-value\n');
  const projects = await sk<{ projects: Array<{ name: string; locked: boolean; lockedReason: string | null }> }>('project', 'list');
  assert.deepEqual(projects.projects.map((p) => [p.name, p.locked]), [['billing', true], ['shop', true]]);
  assert.equal(projects.projects.find((p) => p.name === 'shop')?.lockedReason, 'canary db-old read by machine app1');
  // Served with --no-canary-disable-machine: the machine is still enabled, its reads refused by the locks.
  const machines = await sk<{ machines: Array<{ name: string; status: string }> }>('machine', 'list');
  assert.deepEqual(machines.machines.map((x) => [x.name, x.status]), [['app1', 'active']]);
  const refused = await runBin('sikkerkey-agent', ['get', 'shop', 'db'], { env: agentEnv });
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /^error SK_ERR_PROJECT_LOCKED: /);

  await sk('project', 'unlock', 'shop', '--reason', 'red-team drill');
  const restored = await runBin('sikkerkey-agent', ['get', 'shop', 'db'], { env: agentEnv });
  assert.equal(restored.stdout, 'cli-real-value\n', restored.stderr);
  assert.match((await runBin('sikkerkey-agent', ['get', 'billing', 'key'], { env: agentEnv })).stderr, /^error SK_ERR_PROJECT_LOCKED: /, 'each project is unlocked on its own');

  await sk('machine', 'disable', 'app1');
  const enabled = await sk<{ name: string; status: string }>('machine', 'enable', 'app1');
  assert.equal(enabled.status, 'active');

  const events = await sk<{ events: Array<{ action: string; target: string }> }>('audit', 'list', '--all', '--reverse');
  const actions = events.events.map((e) => e.action);
  for (const a of ['canary.create', 'canary.tripped', 'project.lock', 'project.unlock', 'machine.disable', 'machine.enable']) assert.ok(actions.includes(a), a);
  assert.ok(actions.indexOf('canary.tripped') < actions.indexOf('project.unlock'));
  const verify = await sk<{ ok: boolean }>('audit', 'verify');
  assert.equal(verify.ok, true);
  assert.equal(vault.output().includes('cli-decoy-value'), false, 'the decoy is never logged');
  assert.match(vault.output(), /canary tripped/);
});
