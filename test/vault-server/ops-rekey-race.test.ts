// The race a rekey under a serving vault could lose (issue "Operating the vault server"): project
// keys sealed by the vault while `rekey` (another PostgreSQL connection) re-seals and swaps the
// check value. Each such write reads the check value inside its own transaction, after the audit
// head its batch holds, and rekey takes that head first — so nothing is left sealed under the old
// key. Proven first: creations committed both before and after the rekey's event; then every
// project key opens under the new root key alone. (SQLite's one writer lock serializes the two
// outright; ops-rekey-live.test.ts runs that with real processes.)
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Keyring } from '../../vault-server/crypto/keyring.js';
import { generateRootKey } from '../../vault-server/crypto/root-key.js';
import { openStore } from '../../vault-server/store/open-store.js';
import type { Store } from '../../vault-server/store/open-store.js';
import { rekeyStore } from '../../vault-server/ops/rekey.js';
import { storeCheckValue } from '../../vault-server/vault-state.js';
import { tempPgDatabase } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import type { TestVault } from '../support/vault-app.js';

const cleanups: Array<() => Promise<void>> = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

test('postgres: projects created by four concurrent writers while rekey runs on another connection all end up sealed under the new key', { timeout: 120_000 }, async () => {
  const pg = await tempPgDatabase();
  cleanups.push(pg.remove);
  const store: Store = await openStore(pg.location);
  cleanups.push(() => store.close());
  const vault: TestVault = await startTestVault(store);
  cleanups.push(() => vault.close());
  const newKey = generateRootKey();
  vault.ctx.keyring.replaceRootKeys([vault.rootKey, newKey], await storeCheckValue(store.db));
  const operatorStore = await openStore(pg.location, { migrate: false });
  cleanups.push(() => operatorStore.close());

  let created = 0;
  let stop = false;
  const failures: string[] = [];
  const writer = async (): Promise<void> => {
    while (!stop) {
      const r = await vault.call(vault.operator, 'POST', '/v1/projects', { name: `p-${randomUUID().slice(0, 8)}` });
      if (r.status === 201) created++;
      else failures.push(`${r.status} ${r.raw}`);
    }
  };
  const writers = [writer(), writer(), writer(), writer()];
  const until = async (n: number): Promise<void> => { while (created < n && failures.length === 0) await new Promise((r) => setTimeout(r, 5)); };
  await until(8);
  const result = await rekeyStore(operatorStore, vault.rootKey, newKey);
  const atRekey = created;
  await until(atRekey + 8);
  stop = true;
  await Promise.all(writers);
  assert.deepEqual(failures, []);
  assert.equal(result.result, 'rekeyed');

  // The interesting thing happened: creations committed on both sides of the rekey's commit.
  const events = await store.db.selectFrom('audit_events').select(['seq', 'action']).where('action', 'in', ['project.create', 'vault.rekeyed']).orderBy('seq').execute();
  const rekeySeq = Number(events.find((e) => e.action === 'vault.rekeyed')?.seq ?? assert.fail('no vault.rekeyed event'));
  const creates = events.filter((e) => e.action === 'project.create').map((e) => Number(e.seq));
  assert.ok(creates.some((s) => s < rekeySeq) && creates.some((s) => s > rekeySeq), `creations before and after the rekey (${creates.length} in all)`);

  // Every project key opens under the new root key alone, and none under the old.
  const onlyNew = new Keyring(newKey);
  const onlyOld = new Keyring(vault.rootKey);
  const keys = await store.db.selectFrom('project_keys').select(['project_id', 'key_version', 'wrapped']).execute();
  assert.equal(keys.length, created);
  const probe = (k: Keyring, row: (typeof keys)[number]): boolean => {
    try {
      k.encryptValue({ projectId: row.project_id, keyVersion: row.key_version, wrappedProjectKey: row.wrapped, secretId: 's', version: 1, plaintext: Buffer.from('x') });
      return true;
    } catch {
      return false;
    }
  };
  assert.deepEqual(keys.filter((k) => !probe(onlyNew, k)).map((k) => k.project_id), [], 'every project key opens under the new key');
  assert.equal(keys.filter((k) => probe(onlyOld, k)).length, 0, 'none under the old');
});
