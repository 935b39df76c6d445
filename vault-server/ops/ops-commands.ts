/**
 * `sikkerkey-vault backup | check-backup | restore | rekey` (docs/operations.md "Backups and
 * restores", "Rotating the root key").
 * Every command prints one line a person reads, or with `--json` one document.
 */
import { SikkerKeyError } from '../../protocol/errors.js';
import { printResult } from '../../protocol/cli.js';
import { SIGNATURE_PROFILE } from '../../protocol/signing.js';
import { existsSync, writeFileSync } from 'node:fs';
import { generateRootKey, loadRootKey } from '../crypto/root-key.js';
import { openStore } from '../store/open-store.js';
import { storeLocation } from '../server-commands.js';
import { rekeyStore } from './rekey.js';
import { backupSqlite, checkBackup, restoreSqlite } from './backup.js';

const iso = (ms: number): string => (ms > 0 ? new Date(ms).toISOString() : '-');

export async function backupCommand(opts: { dataDir?: string; out: string; json?: boolean }): Promise<void> {
  if (!opts.dataDir) {
    throw new SikkerKeyError('SK_ERR_USAGE', 'backup takes --data-dir DIR (the SQLite store); back a PostgreSQL store up with pg_dump and check it with check-backup --database-url (docs/operations.md)');
  }
  const r = await backupSqlite(opts.dataDir, opts.out);
  printResult(Boolean(opts.json), r, () => `backup written to ${r.out} (${r.bytes} bytes, audit head ${r.head.seq} at ${iso(r.head.at)}); it is useless without the root key, which it does not hold`);
}

export async function checkBackupCommand(file: string | undefined, opts: { databaseUrl?: string; rootKeyFile?: string; rootKeyStdin?: boolean; json?: boolean }): Promise<void> {
  if ((file === undefined) === (opts.databaseUrl === undefined)) throw new SikkerKeyError('SK_ERR_USAGE', 'give a backup FILE or --database-url (a restored PostgreSQL database), one of them');
  const withKey = opts.rootKeyFile !== undefined || opts.rootKeyStdin === true;
  const rootKey = withKey ? await loadRootKey({ ...(opts.rootKeyFile ? { file: opts.rootKeyFile } : {}), stdin: Boolean(opts.rootKeyStdin), env: {} }) : undefined;
  const r = await checkBackup(file !== undefined ? { file } : { databaseUrl: opts.databaseUrl as string }, rootKey);
  printResult(Boolean(opts.json), r, () => [
    `${file ?? 'the database'}: ${r.ok ? 'ok' : 'NOT OK'} — audit head ${r.head.seq} at ${iso(r.head.at)}`,
    r.rootKey === 'unchecked' ? '  root key: not checked (give --root-key-file to check it opens the vault and the audit chain verifies)' : '  root key: opens the vault',
    ...(r.chain === 'unchecked' ? [] : [`  audit chain: ${r.chain.ok ? `verified (${r.chain.events} events)` : `BROKEN at event ${r.chain.firstBad?.seq ?? '?'}: ${r.chain.firstBad?.reason ?? ''}`}`]),
  ].join('\n'));
  if (!r.ok) process.exitCode = 3;
}

export async function restoreCommand(opts: { from: string; dataDir: string; rootKeyFile?: string; rootKeyStdin?: boolean; json?: boolean }): Promise<void> {
  const rootKey = await loadRootKey({ ...(opts.rootKeyFile ? { file: opts.rootKeyFile } : {}), stdin: Boolean(opts.rootKeyStdin), env: process.env });
  const r = await restoreSqlite({ from: opts.from, dataDir: opts.dataDir, rootKey });
  printResult(Boolean(opts.json), r, () => `restored into ${r.dataDir}: audit chain verified up to the backup's head (event ${r.backupHead.seq}); vault.restored recorded as event ${r.restoredSeq}. Serve it with --data-dir ${r.dataDir}; it refuses requests signed before ${new Date(r.restoredAt + SIGNATURE_PROFILE.maxSkewSeconds * 1000).toISOString()} (their nonces may have been used since the backup)`);
}

export async function rekeyCommand(opts: { dataDir?: string; databaseUrl?: string; rootKeyFile: string; newRootKeyFile: string; generate?: boolean; json?: boolean }): Promise<void> {
  if (opts.generate) {
    if (existsSync(opts.newRootKeyFile)) throw new SikkerKeyError('SK_ERR_USAGE', `${opts.newRootKeyFile} exists: --generate writes a new key file and never overwrites one`);
    writeFileSync(opts.newRootKeyFile, `${generateRootKey().toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  }
  const oldKey = await loadRootKey({ file: opts.rootKeyFile });
  const newKey = await loadRootKey({ file: opts.newRootKeyFile });
  const store = await openStore(storeLocation(opts), { migrate: false });
  try {
    const r = await rekeyStore(store, oldKey, newKey);
    printResult(Boolean(opts.json), r, () => (r.result === 'already-rekeyed'
      ? `the store already opens with the new root key (fingerprint ${r.fingerprint}): nothing to do`
      : `rekeyed: ${r.projectKeys} project keys, the audit keys and ${r.webhookSecrets} webhook secrets now sealed under the new root key (fingerprint ${r.fingerprint}, was ${r.previousFingerprint}). A vault serving with both keys keeps serving: leave only the new key in its key files and send it SIGHUP (or start it with --root-key-file ${opts.newRootKeyFile}); keep the old key until you no longer need backups made before now`));
  } finally {
    await store.close();
  }
}
