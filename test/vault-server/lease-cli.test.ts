// `sikkerkey lease-role …`, `sikkerkey lease …` and `grant add --lease-role` against a served vault
// (SQLite, a real process): every subcommand has --help and --json, the per-engine flags become the
// role's grant, a bad ACL rule is refused with its code on stderr. No agent runs: leases stay empty.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { jsonOf } from '../support/processes.js';
import { startVaultProcess } from '../support/vault-process.js';
import type { VaultProcess } from '../support/vault-process.js';
import type { LeaseRoleView } from '../../protocol/api-types.js';

let vault: VaultProcess | undefined;
after(async () => {
  await vault?.close();
});

test('lease-role create/list/get/delete, grant add --lease-role and lease list from the command line, each with --help and --json', async () => {
  vault = await startVaultProcess();
  const v = vault;
  const sk = async <T>(...args: string[]): Promise<T> => {
    const r = await v.sk([...args, '--json']);
    assert.equal(r.code, 0, r.stderr);
    return jsonOf<T>(r);
  };
  for (const cmd of [['lease-role', 'create'], ['lease-role', 'list'], ['lease-role', 'get'], ['lease-role', 'delete'], ['lease', 'list'], ['lease', 'revoke']]) {
    const help = await v.sk([...cmd, '--help']);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /--json/, `${cmd.join(' ')} --help lists --json`);
  }
  assert.match((await v.sk(['grant', 'add', '--help'])).stdout, /--lease-role/);

  await sk('project', 'create', 'shop');
  await sk('secret', 'set', 'shop', 'admin', '--fields-json', JSON.stringify({ host: 'db.internal', port: '5432', username: 'admin', password: 'cli-lease-admin' }));
  await sk('machine', 'add', 'agent1', '--public-key', Buffer.alloc(32, 7).toString('base64'));
  await sk('machine', 'add', 'app1', '--public-key', Buffer.alloc(32, 9).toString('base64'));

  const pg = await sk<LeaseRoleView>('lease-role', 'create', 'shop', 'app-ro', '--provider', 'postgres', '--agent', 'agent1', '--admin-secret', 'admin', '--ttl', '1h', '--max-ttl', '24h', '--member-of', 'app_ro', '--max-leases', '5');
  assert.deepEqual([pg.engine, pg.grant, pg.ttlMs, pg.maxTtlMs, pg.maxLeases], ['postgres', { memberOf: 'app_ro' }, 3_600_000, 86_400_000, 5]);
  const mongo = await sk<LeaseRoleView>('lease-role', 'create', 'shop', 'docs', '--provider', 'mongodb', '--agent-label', 'agents', '--admin-secret', 'admin', '--role', 'readWrite@app', '--role', 'read@reports');
  assert.deepEqual(mongo.grant, { roles: [{ role: 'readWrite', db: 'app' }, { role: 'read', db: 'reports' }] });
  const bad = await v.sk(['lease-role', 'create', 'shop', 'cache', '--provider', 'redis', '--agent', 'agent1', '--admin-secret', 'admin', '--acl', '~app:* nopass', '--json']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /SK_ERR_VALIDATION/);
  const two = await v.sk(['lease-role', 'create', 'shop', 'x', '--provider', 'mysql', '--agent', 'agent1', '--admin-secret', 'admin', '--grant-role', 'r', '--acl', '~*']);
  assert.notEqual(two.code, 0);
  assert.match(two.stderr, /SK_ERR_USAGE/);

  assert.deepEqual((await sk<{ roles: LeaseRoleView[] }>('lease-role', 'list', 'shop')).roles.map((r) => r.name), ['app-ro', 'docs']);
  assert.equal((await sk<LeaseRoleView>('lease-role', 'get', 'shop', 'app-ro')).agentMachine, 'agent1');
  const granted = await sk<{ leaseRole: string; machine: string }>('grant', 'add', 'app1', '--project', 'shop', '--lease-role', 'app-ro');
  assert.deepEqual([granted.machine, granted.leaseRole], ['app1', 'app-ro']);
  assert.ok((await sk<{ grants: Array<{ leaseRole?: string }> }>('grant', 'list', '--machine', 'app1')).grants.some((g) => g.leaseRole === 'app-ro'));
  assert.deepEqual((await sk<{ leases: unknown[] }>('lease', 'list', '--project', 'shop', '--state', 'active')).leases, []);
  await sk('lease-role', 'delete', 'shop', 'docs');
  assert.deepEqual((await sk<{ roles: LeaseRoleView[] }>('lease-role', 'list', 'shop')).roles.map((r) => r.name), ['app-ro']);
  const human = await v.sk(['lease-role', 'list', 'shop']);
  assert.match(human.stdout, /member of app_ro/);
});
