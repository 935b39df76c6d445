// Machine and rotation-policy lifecycle from the command line, against a real vault process on
// SQLite: `machine remove` (refused, then --force), `machine rename`, `rotation pause|resume|delete`,
// each with --json, and refusals printed as `error SK_ERR_…` with a non-zero exit.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { jsonOf, runBin } from '../support/processes.js';
import { startVaultProcess } from '../support/vault-process.js';
import type { VaultProcess } from '../support/vault-process.js';

let vault: VaultProcess | undefined;
after(async () => vault?.close());

test('an operator removes a policy\'s agent with --force, renames a machine, and pauses, resumes and deletes a policy with the CLI', async () => {
  vault = await startVaultProcess();
  const { dir } = vault;
  const env = { SIKKERKEY_URL: vault.url, SIKKERKEY_KEY_FILE: vault.opKey };
  const sk = async <T>(...args: string[]): Promise<T> => jsonOf<T>(await runBin('sikkerkey', [...args, '--json'], { env }));
  const refused = async (...args: string[]): Promise<string> => {
    const r = await runBin('sikkerkey', args, { env });
    assert.notEqual(r.code, 0, `${args.join(' ')} should fail`);
    return r.stderr;
  };
  const machineKey = async (name: string): Promise<string> =>
    jsonOf<{ publicKey: string }>(await runBin('sikkerkey-agent', ['init', '--key-file', join(dir, `${name}.key`), '--json'])).publicKey;

  const conn = { host: 'db.internal', port: '5432', username: 'app', password: 'cli-live-password', database: 'app' };
  await sk('project', 'create', 'shop');
  await sk('secret', 'set', 'shop', 'admin', '--fields-json', JSON.stringify({ ...conn, username: 'admin', password: 'cli-admin-password' }));
  await sk('secret', 'set', 'shop', 'db', '--fields-json', JSON.stringify(conn));
  await sk('machine', 'add', 'agent1', '--public-key', await machineKey('agent1'));
  await sk('grant', 'add', 'agent1', '--project', 'shop', '--secret', 'admin');
  await sk('rotation', 'set', 'shop', 'db', '--provider', 'postgres', '--agent', 'agent1', '--admin-secret', 'admin', '--schedule', '0 * * * *');

  assert.match(await refused('machine', 'remove', 'agent1'), /^error SK_ERR_IN_USE: machine agent1 is the agent of 1 rotation policy \(shop\/db\)/);
  const removed = await sk<{ name: string; grantsRemoved: number; pausedPolicies: Array<{ project: string; secret: string }> }>('machine', 'remove', 'agent1', '--force');
  assert.deepEqual([removed.name, removed.grantsRemoved, removed.pausedPolicies], ['agent1', 1, [{ project: 'shop', secret: 'db' }]]);
  const status = await sk<{ enabled: boolean; pausedReason: string | null }>('rotation', 'status', 'shop', 'db');
  assert.deepEqual([status.enabled, status.pausedReason], [false, 'machine_removed']);
  const human = await runBin('sikkerkey', ['rotation', 'list'], { env });
  assert.match(human.stdout, /paused \(machine_removed\)/);
  assert.match(await refused('rotation', 'resume', 'shop', 'db'), /^error SK_ERR_ROTATION_POLICY: /);

  // A new agent, renamed: the policy follows the machine, not its name.
  await sk('machine', 'add', 'agent2', '--public-key', await machineKey('agent2'));
  await sk('grant', 'add', 'agent2', '--project', 'shop', '--secret', 'admin');
  await sk('rotation', 'set', 'shop', 'db', '--provider', 'postgres', '--agent', 'agent2', '--admin-secret', 'admin', '--schedule', '0 * * * *', '--paused');
  const renamed = await sk<{ name: string }>('machine', 'rename', 'agent2', 'agent-two');
  assert.equal(renamed.name, 'agent-two');
  const resumed = await sk<{ enabled: boolean; nextRunAt: number | null }>('rotation', 'resume', 'shop', 'db');
  assert.equal(resumed.enabled, true);
  assert.ok(resumed.nextRunAt !== null && resumed.nextRunAt > Date.now() - 60_000);
  const listed = await sk<{ policies: Array<{ agent: string | null; enabled: boolean }> }>('rotation', 'list');
  assert.deepEqual(listed.policies.map((p) => [p.agent, p.enabled]), [['agent-two', true]]);
  const paused = await sk<{ enabled: boolean; pausedReason: string }>('rotation', 'pause', 'shop', 'db');
  assert.deepEqual([paused.enabled, paused.pausedReason], [false, 'operator']);

  // The preflight `rotation set` queued is unfinished: delete waits for it, --force cancels it (unclaimed).
  assert.match(await refused('rotation', 'delete', 'shop', 'db'), /^error SK_ERR_ROTATION_IN_PROGRESS: /);
  const deleted = await sk<{ cancelledRotationId: string | null }>('rotation', 'delete', 'shop', 'db', '--force');
  assert.ok(deleted.cancelledRotationId);
  assert.match(await refused('rotation', 'status', 'shop', 'db'), /^error SK_ERR_NOT_FOUND: /);
  assert.equal((await sk<{ ok: boolean }>('audit', 'verify')).ok, true);
});
