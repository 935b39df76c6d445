// `sikkerkey policy …` against a served vault (SQLite): every subcommand has --help and --json,
// the flags become the policy's axes, and errors go to stderr with their code.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { jsonOf } from '../support/processes.js';
import { startVaultProcess } from '../support/vault-process.js';
import type { VaultProcess } from '../support/vault-process.js';

let vault: VaultProcess | undefined;
after(async () => {
  await vault?.close();
});

interface Policy { name: string; timeWindow: string | null; ipAllowlist: string[] | null; rateCap: unknown; coSign: unknown; ttl: unknown; rotateAfterReads: number | null; secrets: string[] }

test('policy create/list/get/update/bind/unbind/delete from the command line, each with --help and --json', async () => {
  vault = await startVaultProcess();
  const sk = async <T>(...args: string[]): Promise<T> => jsonOf<T>(await vault!.sk([...args, '--json']));

  for (const sub of ['create', 'update', 'list', 'get', 'delete', 'bind', 'unbind']) {
    const help = await vault.sk(['policy', sub, '--help']);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /--json/, `policy ${sub} --help lists --json`);
  }

  await sk('project', 'create', 'shop');
  await vault.sk(['secret', 'set', 'shop', 'db', '--value', 'cli-policy-value']);
  await sk('machine', 'add', 'approver', '--public-key', Buffer.alloc(32, 7).toString('base64'));
  const created = await sk<Policy>('policy', 'create', 'shop', 'strict', '--time-window', 'Mon-Fri 08:00-18:00 Europe/Oslo', '--allow-cidr', '10.0.0.0/8',
    '--allow-cidr', '2001:db8::/32', '--max-reads-per-minute', '60', '--max-reads-per-day', '5000', '--cosign-machine', 'approver', '--cosign-window', '2m',
    '--expires-at', '2031-01-01T00:00:00Z', '--max-reads', '100', '--rotate-after-reads', '50');
  assert.deepEqual(created, {
    ...created,
    timeWindow: 'Mon-Fri 08:00-18:00 Europe/Oslo', ipAllowlist: ['10.0.0.0/8', '2001:db8::/32'], rateCap: { maxReadsPerMinute: 60, maxReadsPerDay: 5000 },
    coSign: { windowSeconds: 120, machine: 'approver' }, ttl: { expiresAt: '2031-01-01T00:00:00.000Z', maxReads: 100 }, rotateAfterReads: 50, secrets: [],
  });

  const bound = await sk<{ policy: string; previous: string | null }>('policy', 'bind', 'shop', 'strict', '--secret', 'db');
  assert.deepEqual([bound.policy, bound.previous], ['strict', null]);
  const secrets = await sk<{ secrets: Array<{ name: string; policy?: string }> }>('secret', 'list', 'shop');
  assert.equal(secrets.secrets.find((s) => s.name === 'db')?.policy, 'strict');
  const human = await vault.sk(['secret', 'list', 'shop']);
  assert.match(human.stdout, /POLICY/);

  const got = await sk<{ policy: Policy; counters: Array<{ secret: string; readsServed: number; expired: boolean }> }>('policy', 'get', 'shop', 'strict');
  assert.deepEqual(got.counters.map((c) => [c.secret, c.readsServed, c.expired]), [['db', 0, false]]);

  const updated = await sk<Policy>('policy', 'update', 'shop', 'strict', '--clear', 'timeWindow', '--clear', 'coSign', '--max-reads', '200');
  assert.equal(updated.timeWindow, null);
  assert.equal(updated.coSign, null);
  assert.deepEqual(updated.ttl, { expiresAt: null, maxReads: 200 });

  const refused = await vault.sk(['policy', 'delete', 'shop', 'strict']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /^error SK_ERR_IN_USE: /);
  const badFlag = await vault.sk(['policy', 'update', 'shop', 'strict', '--clear', 'everything']);
  assert.match(badFlag.stderr, /^error SK_ERR_USAGE: /);

  const listed = await sk<{ policies: Policy[] }>('policy', 'list', 'shop');
  assert.deepEqual(listed.policies.map((p) => [p.name, p.secrets]), [['strict', ['db']]]);
  await sk('policy', 'unbind', 'shop', '--secret', 'db');
  assert.deepEqual(await sk('policy', 'delete', 'shop', 'strict'), { removed: 'strict' });
  assert.deepEqual((await sk<{ policies: Policy[] }>('policy', 'list', 'shop')).policies, []);
});
