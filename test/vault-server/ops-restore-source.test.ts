// `restore` and `check-backup` read the backup FILE through SQLite (ops/backup.ts): a FILE with a
// `-wal` beside it — a data directory's `vault.db` copied from a stopped or crashed vault — is
// restored with the commits in its WAL, and the head signed into `vault.restored` is the head of
// what was restored; a FILE that is no SQLite database, or holds no vault, is refused with its
// SK_ERR_ code (not SK_ERR_INTERNAL) and leaves nothing behind.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { isSikkerKeyError } from '../../protocol/errors.js';
import { generateIdentityKey } from '../../protocol/keys.js';
import { openStore, SQLITE_FILE_NAME } from '../../vault-server/store/open-store.js';
import { transaction } from '../../vault-server/store/locks.js';
import { initVault, openVaultWithAudit } from '../../vault-server/vault-state.js';
import { appendAudit, verifyAuditChain } from '../../vault-server/modules/audit/audit-store.js';
import { checkBackup, restoreSqlite } from '../../vault-server/ops/backup.js';

const dir = mkdtempSync(join(tmpdir(), 'sk-restore-source-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a store file whose newest commits are in its -wal restores with them, and vault.restored signs the head restored', async () => {
  const store = await openStore({ dataDir: join(dir, 'live') });
  const { rootKey } = await initVault(store, { operatorPublicKey: Buffer.from(generateIdentityKey().publicKey).toString('base64') });
  const { auditKeys } = await openVaultWithAudit(store, rootKey);
  const event = (i: number): Promise<unknown> => transaction(store, (trx) => appendAudit(trx, store.dialect, {
    actorKind: 'system', actorId: null, action: 'test.event', target: 'vault', outcome: 'success', details: { i },
  }, Date.now(), auditKeys), { write: true });
  for (let i = 0; i < 5; i++) await event(i);
  // Everything so far into the main file; what follows stays in the WAL (the vault checkpoints
  // from a worker of its own, so a crashed or copied data directory has a WAL with commits).
  const side = new SqliteDatabase(join(dir, 'live', SQLITE_FILE_NAME));
  side.pragma('wal_checkpoint(TRUNCATE)');
  side.close();
  for (let i = 5; i < 30; i++) await event(i);
  const head = (await store.db.selectFrom('audit_head').select('seq').where('id', '=', 1).executeTakeFirstOrThrow()).seq;
  // The data directory as a file-level copy sees it (a snapshot of a running or crashed vault).
  mkdirSync(join(dir, 'copy'));
  for (const f of readdirSync(join(dir, 'live'))) copyFileSync(join(dir, 'live', f), join(dir, 'copy', f));
  await store.close();
  assert.ok(statSync(join(dir, 'copy', `${SQLITE_FILE_NAME}-wal`)).size > 0, 'the copy has commits in its WAL');

  const from = join(dir, 'copy', SQLITE_FILE_NAME);
  const checked = await checkBackup({ file: from }, rootKey);
  assert.deepEqual([checked.ok, checked.head.seq], [true, Number(head)], 'check-backup sees what SQLite reads from the file');
  const r = await restoreSqlite({ from, dataDir: join(dir, 'restored'), rootKey });
  assert.equal(r.backupHead.seq, Number(head), 'the signed head is the backup\'s');
  assert.equal(r.restoredSeq, Number(head) + 1, 'vault.restored follows the backup\'s last event: nothing of it was dropped');
  const restored = await openStore({ dataDir: join(dir, 'restored') });
  try {
    const report = await verifyAuditChain(restored.db, (await openVaultWithAudit(restored, rootKey)).auditKeys);
    assert.deepEqual([report.ok, report.events], [true, Number(head) + 1]);
    const events = await restored.db.selectFrom('audit_events').select('action').where('action', '=', 'test.event').execute();
    assert.equal(events.length, 30);
  } finally {
    await restored.close();
  }
});

test('a file that is no SQLite database, or holds no vault, is refused with its code and leaves nothing behind', async () => {
  const garbage = join(dir, 'garbage.backup');
  writeFileSync(garbage, randomBytes(8192));
  const empty = join(dir, 'empty.backup');
  const other = new SqliteDatabase(empty);
  other.exec('create table t (x integer)');
  other.close();
  const rootKey = randomBytes(32);
  for (const [from, code] of [[garbage, 'SK_ERR_STORE'], [empty, 'SK_ERR_STORE_NOT_INITIALIZED']] as const) {
    const dataDir = join(dir, `into-${code}`);
    await assert.rejects(restoreSqlite({ from, dataDir, rootKey }), (err: unknown) => {
      assert.ok(isSikkerKeyError(err, code), `${from}: ${String(err)}`);
      return true;
    });
    assert.equal(existsSync(dataDir), false, 'a refused restore leaves nothing behind');
  }
  await assert.rejects(checkBackup({ file: garbage }, undefined), (err: unknown) => isSikkerKeyError(err, 'SK_ERR_STORE'));
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.check-')), [], 'no scratch copy left behind');
});
