// Deleting things from the command line, against real processes on SQLite: `secret delete`,
// `trash list`, `secret restore`, `secret describe`, `secret rename`, `project delete|restore`,
// `trash purge`, each with --json; every new command has --help.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { jsonOf, runBin } from '../support/processes.js';
import type { CliResult } from '../support/processes.js';
import { startVaultProcess } from '../support/vault-process.js';
import type { VaultProcess } from '../support/vault-process.js';

let vault: VaultProcess | undefined;
after(async () => vault?.close());

test('secret delete → trash list → restore → describe → rename → project delete/restore → purge, from the CLI', async () => {
  vault = await startVaultProcess({ args: ['--trash-days', '7'] });
  const v = vault;
  const run = (...args: string[]): Promise<CliResult> => v.sk([...args, '--json']);
  const sk = async <T>(...args: string[]): Promise<T> => {
    const r = await run(...args);
    assert.equal(r.code, 0, r.stderr);
    return jsonOf<T>(r);
  };

  await sk('project', 'create', 'shop');
  await sk('secret', 'set', 'shop', 'db', '--value', 'cli-trash-value');
  await sk('secret', 'delete', 'shop', 'db');
  const listed = await sk<{ trashDays: number; items: Array<{ kind: string; project: string; name: string }> }>('trash', 'list');
  assert.equal(listed.trashDays, 7);
  assert.deepEqual(listed.items.map((i) => [i.kind, i.project, i.name]), [['secret', 'shop', 'db']]);
  assert.deepEqual((await sk<{ secrets: unknown[] }>('secret', 'list', 'shop')).secrets, []);
  await sk('secret', 'restore', 'shop', 'db');
  const described = await sk<{ description: string; tags: Record<string, string> }>('secret', 'describe', 'shop', 'db', '--description', 'orders DB', '--tag', 'team=payments', '--tag', 'tier=1');
  assert.deepEqual([described.description, described.tags], ['orders DB', { team: 'payments', tier: '1' }]);
  assert.deepEqual((await sk<{ tags: Record<string, string> }>('secret', 'describe', 'shop', 'db', '--untag', 'tier')).tags, { team: 'payments' });
  const renamed = await sk<{ name: string; version: number }>('secret', 'rename', 'shop', 'db', 'orders-db');
  assert.deepEqual([renamed.name, renamed.version], ['orders-db', 1]);
  await sk('project', 'delete', 'shop');
  const notOwnerless = await run('project', 'create', 'shop');
  assert.notEqual(notOwnerless.code, 0);
  assert.match(notOwnerless.stderr, /^error SK_ERR_CONFLICT: .*trash/);
  await sk('project', 'restore', 'shop');
  await sk('secret', 'delete', 'shop', 'orders-db');
  const purged = await sk<{ secrets: string[]; versions: number }>('trash', 'purge', 'shop', 'orders-db');
  assert.deepEqual([purged.secrets, purged.versions], [['shop/orders-db'], 1]);
  const restore = await run('secret', 'restore', 'shop', 'orders-db');
  assert.match(restore.stderr, /^error SK_ERR_NOT_FOUND: /);

  for (const cmd of [['secret', 'delete'], ['secret', 'restore'], ['secret', 'rename'], ['secret', 'describe'], ['project', 'delete'], ['project', 'restore'],
    ['project', 'rename'], ['canary', 'delete'], ['trash', 'list'], ['trash', 'purge']]) {
    const help = await runBin('sikkerkey', [...cmd, '--help']);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /--json/, `${cmd.join(' ')} --help lists --json`);
  }
});
