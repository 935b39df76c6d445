import { randomUUID } from 'node:crypto';
import { SikkerKeyError } from '../protocol/errors.js';
import { keyIdFromPublicKey, parsePublicKey } from '../protocol/keys.js';
import { Keyring } from './crypto/keyring.js';
import { generateRootKey } from './crypto/root-key.js';
import type { Store } from './store/open-store.js';
import { transaction } from './store/locks.js';
import { appendAudit } from './modules/audit/audit-store.js';

export const CHECK_KEY = 'root_key_check';

/**
 * Creates a vault in an empty store: a new root key (returned once, never stored), its check
 * value, and the first operator (owner) from a public key.
 */
export async function initVault(store: Store, req: { operatorPublicKey: string; operatorName?: string; now?: number }): Promise<{ rootKey: Buffer; operatorKeyId: string; vaultId: string }> {
  const raw = parsePublicKey(req.operatorPublicKey);
  const operatorKeyId = keyIdFromPublicKey(raw);
  const rootKey = generateRootKey();
  const keyring = new Keyring(rootKey);
  const now = req.now ?? Date.now();
  const vaultId = randomUUID();
  await transaction(store, async (trx) => {
    const existing = await trx.selectFrom('vault_meta').select('key').where('key', '=', CHECK_KEY).executeTakeFirst();
    if (existing) throw new SikkerKeyError('SK_ERR_STORE_ALREADY_INITIALIZED', 'this store already holds a vault; serve it with its root key');
    await trx.insertInto('vault_meta').values([
      { key: CHECK_KEY, value: keyring.checkValue(), updated_at: now },
      { key: 'vault_id', value: Buffer.from(vaultId, 'utf8'), updated_at: now },
    ]).execute();
    const operatorId = randomUUID();
    await trx.insertInto('operators').values({
      id: operatorId, name: req.operatorName ?? 'owner', role: 'owner', public_key: Buffer.from(raw), key_id: operatorKeyId, status: 'active', created_at: now,
    }).execute();
    await appendAudit(trx, store.dialect, {
      actorKind: 'system', actorId: null, action: 'vault.init', target: `operator:${req.operatorName ?? 'owner'}`, outcome: 'success',
      details: { operatorId, operatorKeyId, vaultId },
    }, now);
  }, { write: true });
  return { rootKey, operatorKeyId, vaultId };
}

/** Checks the root key against the stored check value before anything is served or written. */
export async function openVault(store: Store, rootKey: Buffer): Promise<Keyring> {
  const row = await store.db.selectFrom('vault_meta').select('value').where('key', '=', CHECK_KEY).executeTakeFirst();
  if (!row) throw new SikkerKeyError('SK_ERR_STORE_NOT_INITIALIZED', 'this store holds no vault: run sikkerkey-vault init first');
  const keyring = new Keyring(rootKey);
  keyring.verifyCheckValue(row.value);
  return keyring;
}
