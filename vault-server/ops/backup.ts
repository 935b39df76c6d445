/**
 * Backups of the embedded SQLite store, and restores from them (issue "Operating the vault server").
 *
 * - `backup`: SQLite's online backup API on a separate read-only connection, so the copy is
 *   consistent while a vault serves from the same directory (WAL: readers never block the writer).
 *   The file holds what the store holds: values sealed under per-version data keys, those under
 *   project keys, those under the root key — which is never in the store. A backup is useless
 *   without the root key, and the root key alone is useless without a backup.
 * - `check-backup`: the file is an intact SQLite database, its schema one this version knows, a
 *   vault in it; with the root key also that the key opens it and the audit chain verifies.
 * - `restore`: into an empty directory only; the file is read through SQLite (intact, and with the
 *   commits of a `-wal` beside it, as check-backup reads it); the backup is checked with the root key before the
 *   restored store is kept (a wrong key leaves nothing behind), migrated if it is older, its audit
 *   chain verified, and a `vault.restored` event appended carrying the backup's head as a signed
 *   checkpoint — so the rewind a restore is can be told apart from one nobody explains. The same
 *   transaction records when the restore finished (`vault_meta.restored_at`): the nonces used
 *   since the backup are not in the restored store, so a request signed for the old vault and
 *   captured could be replayed within its validity window; the restored vault refuses every
 *   signature made before that moment instead (http/authenticate.ts, `signedAfter`). A restore
 *   writes only a new directory, so no vault serves it yet: each one loads the moment at start-up.
 *
 * PostgreSQL stores are backed up with PostgreSQL's own tools (pg_dump, base backups, PITR);
 * docs/operations.md "Backups" says how to check one with `check-backup --database-url`.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, chmodSync } from 'node:fs';
import { basename, join } from 'node:path';
import { sign } from 'node:crypto';
import SqliteDatabase from 'better-sqlite3';
import { SikkerKeyError } from '../../protocol/errors.js';
import { checkpointMessage } from '../../protocol/audit-checkpoint.js';
import type { AuditCheckpoint } from '../../protocol/audit-checkpoint.js';
import { openStore, SQLITE_FILE_NAME, SQLITE_BUSY_TIMEOUT_MS } from '../store/open-store.js';
import type { Store } from '../store/open-store.js';
import { withPrivateUmask } from '../store/file-modes.js';
import { transaction } from '../store/locks.js';
import { openVaultWithAudit, RESTORED_AT_KEY } from '../vault-state.js';
import { appendAudit, GENESIS_HASH, verifyAuditChain } from '../modules/audit/audit-store.js';
import type { AuditKeys } from '../modules/audit/audit-store.js';

export interface BackupHead { seq: number; hash: string; at: number }

/** `sikkerkey-vault backup --data-dir DIR --out FILE`: an online, consistent copy; refuses to overwrite. */
export async function backupSqlite(dataDir: string, out: string): Promise<{ out: string; bytes: number; head: BackupHead }> {
  const source = join(dataDir, SQLITE_FILE_NAME);
  if (!existsSync(source)) throw new SikkerKeyError('SK_ERR_USAGE', `${dataDir} holds no SikkerKey store (no ${SQLITE_FILE_NAME})`);
  if (existsSync(out)) throw new SikkerKeyError('SK_ERR_USAGE', `${out} exists: a backup never overwrites a file; choose a new name`);
  const db = new SqliteDatabase(source, { readonly: true, fileMustExist: true, timeout: SQLITE_BUSY_TIMEOUT_MS });
  try {
    await withPrivateUmask(() => db.backup(out));
    // The copy carries the journal mode; it is a plain file until a vault opens it.
  } finally {
    db.close();
  }
  chmodSync(out, 0o600);
  return { out, bytes: statSync(out).size, head: headOfFile(out) };
}

function headOfFile(file: string, name = file): BackupHead {
  const db = new SqliteDatabase(file, { readonly: true, fileMustExist: true });
  try {
    const tables = db.prepare("select count(*) as n from sqlite_master where type = 'table' and name in ('vault_meta', 'audit_head', 'audit_events')").get() as { n: number };
    if (Number(tables.n) !== 3) throw new SikkerKeyError('SK_ERR_STORE_NOT_INITIALIZED', `${name} holds no vault: not a SikkerKey backup`);
    const head = db.prepare('select seq, hash from audit_head where id = 1').get() as { seq: number; hash: string } | undefined;
    const seq = head ? Number(head.seq) : 0;
    const at = seq > 0 ? Number((db.prepare('select at from audit_events where seq = ?').get(seq) as { at: number } | undefined)?.at ?? 0) : 0;
    return { seq, hash: head?.hash ?? GENESIS_HASH, at };
  } finally {
    db.close();
  }
}

export interface BackupCheck {
  ok: boolean;
  head: BackupHead;
  /** Checked only with the root key: it opens the vault, and the audit chain verifies. */
  rootKey: 'opens' | 'unchecked';
  chain: { ok: boolean; events: number; firstBad?: { seq: number; reason: string } } | 'unchecked';
}

/** `sikkerkey-vault check-backup`: a backup file (SQLite) or a restored PostgreSQL database. */
export async function checkBackup(from: { file: string } | { databaseUrl: string }, rootKey: Buffer | undefined): Promise<BackupCheck> {
  if ('file' in from && !existsSync(from.file)) throw new SikkerKeyError('SK_ERR_USAGE', `${from.file}: no such file`);
  // Checked in a scratch copy: opening migrates an older schema, and the backup stays as it was.
  const scratch = 'file' in from ? await scratchCopy(from.file) : undefined;
  try {
    const store = scratch !== undefined ? await openStore({ dataDir: scratch }) : await openStore({ databaseUrl: (from as { databaseUrl: string }).databaseUrl }, { migrate: false });
    try {
      return await checkOpenStore(store, rootKey);
    } finally {
      await store.close();
    }
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}

async function scratchCopy(file: string): Promise<string> {
  const dir = `${file}.check-${process.pid}`;
  mkdirSync(dir, { mode: 0o700 });
  try {
    await copyBackupFile(file, join(dir, SQLITE_FILE_NAME));
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return dir;
}

/**
 * Copies a backup file through SQLite rather than byte for byte: checked intact first
 * (`integrity_check`), then copied with the online backup API on a read-only connection, so what
 * is copied is what SQLite reads from FILE — a FILE with a `-wal` beside it (a data directory's
 * `vault.db` copied from a stopped or crashed vault) is copied with the commits in its WAL,
 * which a plain file copy would drop. Anything but an intact SQLite database is SK_ERR_STORE.
 */
async function copyBackupFile(file: string, to: string): Promise<void> {
  const notABackup = (err: unknown): SikkerKeyError => (err instanceof SikkerKeyError ? err
    : new SikkerKeyError('SK_ERR_STORE', `${file} is not a SikkerKey backup (an SQLite database): ${err instanceof Error ? err.message : String(err)}`));
  let db: SqliteDatabase.Database;
  try {
    db = new SqliteDatabase(file, { readonly: true, fileMustExist: true, timeout: SQLITE_BUSY_TIMEOUT_MS });
  } catch (err) {
    throw notABackup(err);
  }
  try {
    const integrity = db.pragma('integrity_check', { simple: true });
    if (integrity !== 'ok') throw new SikkerKeyError('SK_ERR_STORE', `${file} is damaged: integrity_check says ${String(integrity)}`);
  } catch (err) {
    db.close();
    throw notABackup(err);
  }
  try {
    await withPrivateUmask(() => db.backup(to));
  } catch (err) {
    throw new SikkerKeyError('SK_ERR_STORE', `could not copy ${file} to ${to}: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    db.close();
  }
  chmodSync(to, 0o600);
}

async function checkOpenStore(store: Store, rootKey: Buffer | undefined): Promise<BackupCheck> {
  const head = await storeHead(store);
  const vault = await store.db.selectFrom('vault_meta').select('key').where('key', '=', 'root_key_check').executeTakeFirst();
  if (!vault) throw new SikkerKeyError('SK_ERR_STORE_NOT_INITIALIZED', 'the backup holds no vault');
  if (rootKey === undefined) return { ok: true, head, rootKey: 'unchecked', chain: 'unchecked' };
  const { auditKeys } = await openVaultWithAudit(store, rootKey);
  const report = await verifyAuditChain(store.db, auditKeys);
  const chain = { ok: report.ok, events: report.events, ...(report.firstBad ? { firstBad: { seq: report.firstBad.seq, reason: report.firstBad.reason } } : {}) };
  return { ok: report.ok, head, rootKey: 'opens', chain };
}

async function storeHead(store: Pick<Store, 'db'>): Promise<BackupHead> {
  const head = await store.db.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirst();
  const seq = head ? Number(head.seq) : 0;
  const event = seq > 0 ? await store.db.selectFrom('audit_events').select('at').where('seq', '=', seq).executeTakeFirst() : undefined;
  return { seq, hash: head?.hash ?? GENESIS_HASH, at: event ? Number(event.at) : 0 };
}

/**
 * `sikkerkey-vault restore --from FILE --data-dir NEWDIR`: refuses a NEWDIR that is not empty; on
 * any refusal (wrong root key, a broken chain) removes what it wrote.
 */
export async function restoreSqlite(req: { from: string; dataDir: string; rootKey: Buffer; now?: number }): Promise<{ dataDir: string; backupHead: AuditCheckpoint; restoredSeq: number; restoredAt: number }> {
  if (!existsSync(req.from)) throw new SikkerKeyError('SK_ERR_USAGE', `${req.from}: no such file`);
  const existed = existsSync(req.dataDir);
  if (existed && readdirSync(req.dataDir).length > 0) {
    throw new SikkerKeyError('SK_ERR_USAGE', `${req.dataDir} is not empty: a restore goes into a new (or empty) directory and never over a store`);
  }
  const removeWritten = (): void => {
    if (existed) for (const f of readdirSync(req.dataDir)) rmSync(join(req.dataDir, f), { recursive: true, force: true });
    else rmSync(req.dataDir, { recursive: true, force: true });
  };
  try {
    mkdirSync(req.dataDir, { recursive: true, mode: 0o700 });
    chmodSync(req.dataDir, 0o700);
    const restoredFile = join(req.dataDir, SQLITE_FILE_NAME);
    await copyBackupFile(req.from, restoredFile);
    // The head of exactly what was copied (before any migration): the checkpoint signed below
    // names no event the restored store does not hold.
    const backupHead = headOfFile(restoredFile, req.from);
    const store = await openStore({ dataDir: req.dataDir });
    try {
      const { auditKeys } = await openVaultWithAudit(store, req.rootKey);
      const report = await verifyAuditChain(store.db, auditKeys);
      if (!report.ok) {
        throw new SikkerKeyError('SK_ERR_AUDIT_CHAIN', `the backup's audit chain does not verify (event ${report.firstBad?.seq ?? '?'}: ${report.firstBad?.reason ?? 'broken'}): not restored`);
      }
      const checkpoint = signedHead(backupHead, auditKeys);
      const restoredAt = req.now ?? Date.now();
      const event = await transaction(store, async (trx) => {
        // Replaces the moment of an earlier restore the backup may carry.
        const at = Buffer.from(String(restoredAt), 'utf8');
        await trx.insertInto('vault_meta').values({ key: RESTORED_AT_KEY, value: at, updated_at: restoredAt })
          .onConflict((oc) => oc.column('key').doUpdateSet({ value: at, updated_at: restoredAt })).execute();
        return appendAudit(trx, store.dialect, {
          actorKind: 'system', actorId: null, action: 'vault.restored', target: 'vault', outcome: 'success',
          details: { from: basename(req.from), backupHead: checkpoint },
        }, restoredAt, auditKeys);
      }, { write: true });
      return { dataDir: req.dataDir, backupHead: checkpoint, restoredSeq: event.seq, restoredAt };
    } finally {
      await store.close();
    }
  } catch (err) {
    removeWritten();
    throw err;
  }
}

function signedHead(head: BackupHead, keys: AuditKeys): AuditCheckpoint {
  const signature = sign(null, checkpointMessage(head.seq, head.hash, head.at), keys.signingKey).toString('base64');
  return { ...head, signature, publicKey: keys.publicKey.toString('base64') };
}

