/**
 * SIGHUP re-reads the root key files (issue "Operating the vault server"): a rotation without
 * downtime ends with the operator leaving only the new key in the files and sending SIGHUP to
 * every vault process (each worker and each replica does this on its own).
 *
 * The files' keys replace the held ones only when one of them opens the store's check value as
 * the store records it now; otherwise the reload is refused — logged with its SK_ERR_ code and
 * audited as `vault.root_keys_reload_refused` — and the vault keeps serving with the keys it had.
 * A reload is audited as `vault.root_keys_reloaded` with the fingerprints held and dropped (a
 * fingerprint is a hash of a key, not the key).
 *
 * @example
 *   process.on('SIGHUP', () => void reloadRootKeys(ctx, config.rootKeyFiles));
 */
import { isSikkerKeyError } from '../../protocol/errors.js';
import { loadRootKeys } from '../crypto/root-key.js';
import { writeTx } from '../context.js';
import type { VaultContext } from '../context.js';
import { storeCheckValue } from '../vault-state.js';

export type RootKeyReload =
  | { result: 'reloaded'; fingerprints: string[]; dropped: string[]; added: string[] }
  | { result: 'refused'; code: string; fingerprints: string[] };

export async function reloadRootKeys(ctx: VaultContext, files: readonly string[]): Promise<RootKeyReload> {
  const held = ctx.keyring.fingerprints();
  try {
    const keys = await loadRootKeys({ files });
    ctx.keyring.replaceRootKeys(keys, await storeCheckValue(ctx.store.db));
  } catch (err) {
    const code = isSikkerKeyError(err) ? err.code : 'SK_ERR_STORE';
    // The message names files and codes, never a key.
    ctx.log.error({ code, err: err instanceof Error ? err.message : String(err), files, fingerprints: held },
      'SIGHUP: root keys NOT reloaded (no key in the files opens the store, or a file could not be read); still serving with the keys held');
    await record(ctx, { action: 'vault.root_keys_reload_refused', outcome: 'failure', details: { code, fingerprints: held, pid: process.pid } });
    return { result: 'refused', code, fingerprints: held };
  }
  const fingerprints = ctx.keyring.fingerprints();
  const dropped = held.filter((f) => !fingerprints.includes(f));
  const added = fingerprints.filter((f) => !held.includes(f));
  ctx.log.info({ fingerprints, dropped, added }, 'SIGHUP: root keys reloaded');
  await record(ctx, { action: 'vault.root_keys_reloaded', outcome: 'success', details: { fingerprints, dropped, added, pid: process.pid } });
  return { result: 'reloaded', fingerprints, dropped, added };
}

async function record(ctx: VaultContext, e: { action: string; outcome: 'success' | 'failure'; details: Record<string, unknown> }): Promise<void> {
  try {
    await writeTx(ctx, (_trx, audit) => audit({ actorKind: 'system', actorId: null, target: 'vault', ...e }));
  } catch (err) {
    ctx.log.warn({ err: err instanceof Error ? err.message : String(err), action: e.action }, 'could not record the root key reload in the audit log');
  }
}
