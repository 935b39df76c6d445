/**
 * Root-key rotation (`sikkerkey-vault rekey`, issue "Operating the vault server"): every box the
 * root key seals — each project key version, the audit MAC and signing keys, each webhook signing
 * secret (current and previous) — is opened with the old root key and sealed under the new one,
 * and the check value replaced, in ONE transaction that also appends `vault.rekeyed` (with both
 * keys' fingerprints; the audit keys themselves never change, so the chain goes on). A kill -9
 * anywhere leaves the store opening with exactly one of the two keys: before the commit the old,
 * after it the new; a re-run with the same two files finishes the job, or says it was done.
 *
 * Values, data keys and project keys are unchanged: only their wrapping under the root key moves.
 * A vault may serve the store meanwhile, given both keys (`serve --root-key-file OLD
 * --root-key-file NEW`): it opens every box with whichever key sealed it, and the transaction
 * here first takes the audit head — which each of the vault's write batches holds from its first
 * statement to COMMIT — so a batch that seals under the root key either commits before it (and its
 * boxes are re-sealed here) or reads the new check value after it and seals under the new key
 * (vault-state.ts `storeCheckValue`). Then SIGHUP with only the new key (docs/operations.md
 * "Rotating the root key").
 *
 * @example
 *   await rekeyStore(store, oldKey, newKey); // { result: 'rekeyed', projectKeys: 3, … }
 */
import { SikkerKeyError, isSikkerKeyError } from '../../protocol/errors.js';
import { faultPoint } from '../../protocol/fault-points.js';
import { Keyring } from '../crypto/keyring.js';
import type { Store } from '../store/open-store.js';
import { forUpdate, transaction } from '../store/locks.js';
import { CHECK_KEY, openVault, storeCheckValue } from '../vault-state.js';
import { AUDIT_MAC_KEY, AUDIT_SIGNING_KEY, loadAuditKeys } from '../modules/audit/audit-keys.js';
import { appendAudit } from '../modules/audit/audit-store.js';

export interface RekeyResult {
  result: 'rekeyed' | 'already-rekeyed';
  fingerprint: string;
  previousFingerprint: string;
  projectKeys: number;
  webhookSecrets: number;
}

/** The 4-byte version + box layout the audit keys are stored in (modules/audit/audit-keys.ts). */
function rewrapVersioned(value: Buffer, rewrap: (version: number, box: Buffer) => Buffer): Buffer {
  const version = value.readUInt32BE(0);
  return Buffer.concat([value.subarray(0, 4), rewrap(version, value.subarray(4))]);
}

export async function rekeyStore(store: Store, oldKey: Buffer, newKey: Buffer, now = Date.now()): Promise<RekeyResult> {
  if (oldKey.equals(newKey)) throw new SikkerKeyError('SK_ERR_USAGE', 'the new root key is the old one: generate a new one (sikkerkey-vault rekey --generate-new-key)');
  const to = new Keyring(newKey);
  const from = new Keyring(oldKey);
  try {
    await openVault(store, newKey);
    // The new key opens it already: an earlier run committed. Nothing to do.
    return { result: 'already-rekeyed', fingerprint: to.fingerprint(), previousFingerprint: from.fingerprint(), projectKeys: 0, webhookSecrets: 0 };
  } catch (err) {
    if (!isSikkerKeyError(err, 'SK_ERR_ROOT_KEY_WRONG')) throw err;
  }
  await openVault(store, oldKey); // SK_ERR_ROOT_KEY_WRONG when neither key opens it
  const auditKeys = await loadAuditKeys(store.db, from);
  if (!auditKeys) throw new SikkerKeyError('SK_ERR_AUDIT_KEYS_MISSING', 'this store has no audit keys yet: serve it once with the old key, then rekey');
  await faultPoint('rekey-after-open');
  const counts = await transaction(store, async (trx) => {
    // First: the lock every write batch of a serving vault holds (see above). On SQLite the
    // writer lock (BEGIN IMMEDIATE) already excludes them.
    await forUpdate(store.dialect, trx.selectFrom('audit_head').select('seq').where('id', '=', 1)).executeTakeFirst();
    // Another rekey may have committed since the check above: the old key must still be the one.
    from.verifyCheckValue(await storeCheckValue(trx));
    const projectKeys = await trx.selectFrom('project_keys').select(['project_id', 'key_version', 'wrapped']).execute();
    for (const k of projectKeys) {
      await trx.updateTable('project_keys').set({ wrapped: from.rewrapProjectKey(to, k.project_id, k.key_version, k.wrapped) })
        .where('project_id', '=', k.project_id).where('key_version', '=', k.key_version).execute();
    }
    const projects = await trx.selectFrom('projects').select(['id', 'key_version', 'master_key_wrapped']).execute();
    for (const p of projects) {
      await trx.updateTable('projects').set({ master_key_wrapped: from.rewrapProjectKey(to, p.id, p.key_version, p.master_key_wrapped) }).where('id', '=', p.id).execute();
    }
    const meta = await trx.selectFrom('vault_meta').select(['key', 'value']).where('key', 'in', [AUDIT_MAC_KEY, AUDIT_SIGNING_KEY]).execute();
    for (const m of meta) {
      const kind = m.key === AUDIT_MAC_KEY ? 'mac' as const : 'signing' as const;
      await trx.updateTable('vault_meta').set({ value: rewrapVersioned(m.value, (v, box) => from.rewrapAuditKey(to, kind, v, box)), updated_at: now }).where('key', '=', m.key).execute();
    }
    const hooks = await trx.selectFrom('webhooks').select(['id', 'secret_version', 'secret_sealed', 'secret_previous_sealed']).execute();
    for (const h of hooks) {
      await trx.updateTable('webhooks').set({
        secret_sealed: from.rewrapWebhookSecret(to, h.id, h.secret_version, h.secret_sealed),
        secret_previous_sealed: h.secret_previous_sealed === null ? null : from.rewrapWebhookSecret(to, h.id, h.secret_version - 1, h.secret_previous_sealed),
      }).where('id', '=', h.id).execute();
    }
    await trx.updateTable('vault_meta').set({ value: to.checkValue(), updated_at: now }).where('key', '=', CHECK_KEY).execute();
    await appendAudit(trx, store.dialect, {
      actorKind: 'system', actorId: null, action: 'vault.rekeyed', target: 'vault', outcome: 'success',
      details: { fingerprint: to.fingerprint(), previousFingerprint: from.fingerprint(), projectKeys: projectKeys.length + projects.length, webhookSecrets: hooks.length },
    }, now, auditKeys);
    await faultPoint('rekey-before-commit');
    return { projectKeys: projectKeys.length + projects.length, webhookSecrets: hooks.length };
  }, { write: true });
  await faultPoint('rekey-after-commit');
  return { result: 'rekeyed', fingerprint: to.fingerprint(), previousFingerprint: from.fingerprint(), ...counts };
}
