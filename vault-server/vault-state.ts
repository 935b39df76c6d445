import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from './store/database.js';
import { SikkerKeyError } from '../protocol/errors.js';
import { keyIdFromPublicKey, parsePublicKey } from '../protocol/keys.js';
import { Keyring } from './crypto/keyring.js';
import { generateRootKey } from './crypto/root-key.js';
import type { Store } from './store/open-store.js';
import { transaction } from './store/locks.js';
import { appendAudit } from './modules/audit/audit-store.js';
import type { AuditKeys } from './modules/audit/audit-store.js';
import { ensureAuditKeys, newAuditKeys } from './modules/audit/audit-keys.js';
import type { EnsureAuditKeysOptions } from './modules/audit/audit-keys.js';

export const CHECK_KEY = 'root_key_check';

/**
 * `vault_meta` row a restore writes (ops/backup.ts): the moment it finished, in ms, as decimal
 * text. The nonces used after the backup are not in the restored store, so the vault refuses every
 * signature made before that moment (http/authenticate.ts, `signedAfter`) instead.
 */
export const RESTORED_AT_KEY = 'restored_at';

/** When this store was last restored from a backup (ms), or undefined if it never was. Read once at start-up: a restore only writes a new, not yet served directory. */
export async function storeRestoredAt(db: Kysely<Database>): Promise<number | undefined> {
  const row = await db.selectFrom('vault_meta').select('value').where('key', '=', RESTORED_AT_KEY).executeTakeFirst();
  if (!row) return undefined;
  const at = Number(row.value.toString('utf8'));
  // A value that does not parse refuses every request signed before now (fail closed).
  return Number.isSafeInteger(at) && at > 0 ? at : Date.now();
}

/**
 * Creates a vault in an empty store: a new root key (returned once, never stored), its check
 * value, the audit MAC and signing keys (wrapped under the root key; every event from the first
 * is MAC'd), and the first operator (owner) from a public key.
 */
export async function initVault(store: Store, req: { operatorPublicKey: string; operatorName?: string; now?: number }): Promise<{ rootKey: Buffer; operatorKeyId: string; vaultId: string; auditPublicKey: string }> {
  const raw = parsePublicKey(req.operatorPublicKey);
  const operatorKeyId = keyIdFromPublicKey(raw);
  const rootKey = generateRootKey();
  const keyring = new Keyring(rootKey);
  const now = req.now ?? Date.now();
  const vaultId = randomUUID();
  const audit = newAuditKeys(keyring, 1);
  const auditPublicKey = audit.keys.publicKey.toString('base64');
  await transaction(store, async (trx) => {
    const existing = await trx.selectFrom('vault_meta').select('key').where('key', '=', CHECK_KEY).executeTakeFirst();
    if (existing) throw new SikkerKeyError('SK_ERR_STORE_ALREADY_INITIALIZED', 'this store already holds a vault; serve it with its root key');
    await trx.insertInto('vault_meta').values([
      { key: CHECK_KEY, value: keyring.checkValue(), updated_at: now },
      { key: 'vault_id', value: Buffer.from(vaultId, 'utf8'), updated_at: now },
      ...audit.rows.map((r) => ({ ...r, updated_at: now })),
    ]).execute();
    const operatorId = randomUUID();
    await trx.insertInto('operators').values({ id: operatorId, name: req.operatorName ?? 'owner', role: 'owner', status: 'active', created_at: now, created_by: null }).execute();
    await trx.insertInto('operator_keys').values({
      key_id: operatorKeyId, operator_id: operatorId, public_key: Buffer.from(raw), label: 'initial', created_at: now, created_by: null,
      last_used_at: null, revoked_at: null, revoked_by: null,
    }).execute();
    await appendAudit(trx, store.dialect, {
      actorKind: 'system', actorId: null, action: 'vault.init', target: `operator:${req.operatorName ?? 'owner'}`, outcome: 'success',
      details: { operatorId, operatorKeyId, vaultId, auditPublicKey },
    }, now, audit.keys);
  }, { write: true });
  return { rootKey, operatorKeyId, vaultId, auditPublicKey };
}

/**
 * Checks the root key against the stored check value before anything is served or written. Two
 * keys (a rotation in progress): one of them must open it, and that one seals by default.
 */
export async function openVault(store: Store, rootKey: Buffer | readonly Buffer[]): Promise<Keyring> {
  const keyring = new Keyring(rootKey);
  keyring.verifyCheckValue(await storeCheckValue(store.db));
  return keyring;
}

/**
 * The check value the store records now: what a write that seals under the root key reads first,
 * inside its own transaction, and passes to the keyring (`storeCheck`). A `rekey` holds the audit
 * head — as every write batch of the vault does from its first statement — while it re-seals and
 * replaces the check value, so a transaction either ran wholly before the rekey (and its boxes are
 * re-sealed by it) or reads the new check value and seals under the new key.
 */
export async function storeCheckValue(db: Kysely<Database>): Promise<Buffer> {
  const row = await db.selectFrom('vault_meta').select('value').where('key', '=', CHECK_KEY).executeTakeFirst();
  if (!row) throw new SikkerKeyError('SK_ERR_STORE_NOT_INITIALIZED', 'this store holds no vault: run sikkerkey-vault init first');
  return row.value;
}

/**
 * openVault, then the audit keys: loaded, or made for a vault from before them (the existing
 * chain is verified first; see modules/audit/audit-keys.ts). What `serve` runs at start-up.
 */
export async function openVaultWithAudit(store: Store, rootKey: Buffer | readonly Buffer[], opts: EnsureAuditKeysOptions = {}): Promise<{ keyring: Keyring; auditKeys: AuditKeys }> {
  const keyring = await openVault(store, rootKey);
  return { keyring, auditKeys: await ensureAuditKeys(store, keyring, opts) };
}
