/**
 * The roster of operators and their keys: list, add (a public key given), set-role, disable,
 * enable, remove; each operator's keys: list, revoke, rotate. Invitations are in
 * operator-invitations.ts; who may do what in operator-roles.ts.
 *
 * Every change is one write transaction with its audit event; a change that could leave the
 * vault without an owner holds the owner rows and checks the invariant before it commits.
 */
import { randomUUID } from 'node:crypto';
import { SikkerKeyError } from '../../../protocol/errors.js';
import { keyIdFromPublicKey, parsePublicKey, publicKeyObject } from '../../../protocol/keys.js';
import { ed25519Verify, rotationProofMessage } from '../../../protocol/signing.js';
import type { Caller, OperatorRole } from '../../http/authenticate.js';
import { writeTx } from '../../context.js';
import type { Tx, VaultContext } from '../../context.js';
import { isUniqueViolation } from '../../store/locks.js';
import { throttledRecorder } from '../../store/throttled-recorder.js';
import { keyOwner } from '../../store/identity-keys.js';
import type { IdentityStatus } from '../../store/database.js';
import { assertAnOwnerRemains, guarded, lockOwners, mayGrant, requireOwner } from './operator-roles.js';

export interface OperatorView {
  id: string;
  name: string;
  role: OperatorRole;
  status: IdentityStatus;
  /** Unrevoked keys. */
  keys: number;
  lastUsedAt: number | null;
  createdAt: number;
}

export interface OperatorKeyView {
  keyId: string;
  label: string;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

const LABEL_MAX = 64;

export function checkLabel(label: string | undefined, fallback: string): string {
  const value = label ?? fallback;
  if (!/^[\x20-\x7e]{1,64}$/.test(value)) throw new SikkerKeyError('SK_ERR_VALIDATION', `a key label is 1–${LABEL_MAX} printable ASCII characters`);
  return value;
}

/** The operator named (or with this id), or 404. */
export async function requireOperator(trx: Tx, nameOrId: string) {
  const row = await trx.selectFrom('operators').selectAll().where((eb) => eb.or([eb('name', '=', nameOrId), eb('id', '=', nameOrId)])).executeTakeFirst();
  if (!row) throw new SikkerKeyError('SK_ERR_NOT_FOUND', `no operator named ${JSON.stringify(nameOrId)}`);
  return row;
}

/** Inserts a key for an operator; a key any identity holds already (even revoked) is refused. */
export async function insertOperatorKey(trx: Tx, req: { operatorId: string; publicKey: Uint8Array; label: string; now: number; createdBy: string }): Promise<string> {
  const keyId = keyIdFromPublicKey(req.publicKey);
  const owner = await keyOwner(trx, keyId);
  if (owner) throw new SikkerKeyError('SK_ERR_CONFLICT', 'this public key is registered already (keys are never reused, even revoked ones); generate a new key');
  await trx.insertInto('operator_keys').values({
    key_id: keyId, operator_id: req.operatorId, public_key: Buffer.from(req.publicKey), label: req.label,
    created_at: req.now, created_by: req.createdBy, last_used_at: null, revoked_at: null, revoked_by: null,
  }).execute();
  return keyId;
}

export async function listOperators(ctx: VaultContext): Promise<OperatorView[]> {
  const operators = await ctx.store.db.selectFrom('operators').selectAll().orderBy('name').execute();
  const keys = await ctx.store.db.selectFrom('operator_keys').select(['operator_id', 'last_used_at', 'revoked_at']).execute();
  return operators.map((o) => {
    const mine = keys.filter((k) => k.operator_id === o.id);
    const used = mine.map((k) => k.last_used_at).filter((t): t is number => t !== null).map(Number);
    return {
      id: o.id, name: o.name, role: o.role, status: o.status, keys: mine.filter((k) => k.revoked_at === null).length,
      lastUsedAt: used.length ? Math.max(...used) : null, createdAt: Number(o.created_at),
    };
  });
}

/** `operator add NAME --public-key KEY --role R`: for scripted setups, the key made elsewhere. */
export async function addOperator(ctx: VaultContext, caller: Caller, req: { name: string; publicKey: string; role: OperatorRole; label?: string }): Promise<{ id: string; name: string; role: OperatorRole; keyId: string }> {
  const raw = parsePublicKey(req.publicKey);
  const label = checkLabel(req.label, 'initial');
  return guarded(ctx, caller, 'operator.add', `operator:${req.name}`, async () => {
    mayGrant(caller, req.role);
    const id = randomUUID();
    try {
      return await writeTx(ctx, async (trx, audit) => {
        const now = ctx.now();
        await trx.insertInto('operators').values({ id, name: req.name, role: req.role, status: 'active', created_at: now, created_by: `${caller.kind}:${caller.id}` }).execute();
        const keyId = await insertOperatorKey(trx, { operatorId: id, publicKey: raw, label, now, createdBy: `${caller.kind}:${caller.id}` });
        await audit({ action: 'operator.add', target: `operator:${req.name}`, outcome: 'success', details: { operatorId: id, role: req.role, keyId, label } }, caller);
        return { id, name: req.name, role: req.role, keyId };
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new SikkerKeyError('SK_ERR_CONFLICT', `an operator named ${JSON.stringify(req.name)} exists already`);
      throw err;
    }
  });
}

export async function setOperatorRole(ctx: VaultContext, caller: Caller, nameOrId: string, role: OperatorRole): Promise<OperatorView> {
  return guarded(ctx, caller, 'operator.set_role', `operator:${nameOrId}`, async () => {
    requireOwner(caller, 'change an operator\'s role');
    await writeTx(ctx, async (trx, audit) => {
      await lockOwners(ctx, trx);
      const op = await requireOperator(trx, nameOrId);
      if (op.role === role) return;
      await trx.updateTable('operators').set({ role }).where('id', '=', op.id).execute();
      await assertAnOwnerRemains(trx);
      await audit({ action: 'operator.set_role', target: `operator:${op.name}`, outcome: 'success', details: { operatorId: op.id, from: op.role, to: role } }, caller);
    });
    return viewOf(ctx, nameOrId);
  });
}

export async function setOperatorStatus(ctx: VaultContext, caller: Caller, nameOrId: string, status: IdentityStatus): Promise<OperatorView> {
  const action = status === 'active' ? 'operator.enable' : 'operator.disable';
  return guarded(ctx, caller, action, `operator:${nameOrId}`, async () => {
    requireOwner(caller, `${status === 'active' ? 'enable' : 'disable'} an operator`);
    await writeTx(ctx, async (trx, audit) => {
      await lockOwners(ctx, trx);
      const op = await requireOperator(trx, nameOrId);
      if (op.status === status) return;
      await trx.updateTable('operators').set({ status }).where('id', '=', op.id).execute();
      await assertAnOwnerRemains(trx);
      await audit({ action, target: `operator:${op.name}`, outcome: 'success', details: { operatorId: op.id } }, caller);
    });
    return viewOf(ctx, nameOrId);
  });
}

/**
 * Removes an operator: the row goes, its keys stay as revoked rows (a key is never registered
 * again, to anyone), its pending invitations are revoked. Audit events keep its id.
 */
export async function removeOperator(ctx: VaultContext, caller: Caller, nameOrId: string): Promise<{ removed: string }> {
  return guarded(ctx, caller, 'operator.remove', `operator:${nameOrId}`, async () => {
    requireOwner(caller, 'remove an operator');
    return writeTx(ctx, async (trx, audit) => {
      await lockOwners(ctx, trx);
      const op = await requireOperator(trx, nameOrId);
      const now = ctx.now();
      await trx.deleteFrom('operators').where('id', '=', op.id).execute();
      const revoked = await trx.updateTable('operator_keys').set({ revoked_at: now, revoked_by: `${caller.kind}:${caller.id}` })
        .where('operator_id', '=', op.id).where('revoked_at', 'is', null).executeTakeFirst();
      await trx.updateTable('operator_invitations').set({ revoked_at: now })
        .where('operator_id', '=', op.id).where('accepted_at', 'is', null).where('revoked_at', 'is', null).execute();
      await assertAnOwnerRemains(trx);
      await audit({ action: 'operator.remove', target: `operator:${op.name}`, outcome: 'success', details: { operatorId: op.id, role: op.role, keysRevoked: Number(revoked.numUpdatedRows) } }, caller);
      return { removed: op.name };
    });
  });
}

/** An operator's keys: their own, or anyone's for an admin or owner. */
export async function listOperatorKeys(ctx: VaultContext, caller: Caller, nameOrId: string): Promise<{ operator: string; keys: OperatorKeyView[] }> {
  const op = await requireOperator(ctx.store.db, nameOrId);
  if (op.id !== caller.id && caller.role === 'viewer') throw new SikkerKeyError('SK_ERR_FORBIDDEN', 'a viewer may list only their own keys');
  const rows = await ctx.store.db.selectFrom('operator_keys').selectAll().where('operator_id', '=', op.id).orderBy('created_at').execute();
  return { operator: op.name, keys: rows.map(keyView) };
}

function keyView(k: { key_id: string; label: string; created_at: number; last_used_at: number | null; revoked_at: number | null }): OperatorKeyView {
  return {
    keyId: k.key_id, label: k.label, createdAt: Number(k.created_at),
    lastUsedAt: k.last_used_at === null ? null : Number(k.last_used_at), revokedAt: k.revoked_at === null ? null : Number(k.revoked_at),
  };
}

/** Revokes one key at once: an owner any key, an operator their own. Refused if no usable owner would remain. */
export async function revokeOperatorKey(ctx: VaultContext, caller: Caller, nameOrId: string, keyId: string): Promise<OperatorKeyView> {
  return guarded(ctx, caller, 'operator.key.revoke', `operator:${nameOrId}`, () => writeTx(ctx, async (trx, audit) => {
      await lockOwners(ctx, trx);
      const op = await requireOperator(trx, nameOrId);
      if (op.id !== caller.id && caller.role !== 'owner') throw new SikkerKeyError('SK_ERR_FORBIDDEN', 'only an owner may revoke another operator\'s keys');
      const key = await trx.selectFrom('operator_keys').select(['key_id', 'label', 'created_at', 'last_used_at', 'revoked_at'])
        .where('operator_id', '=', op.id).where('key_id', '=', keyId).executeTakeFirst();
      if (!key) throw new SikkerKeyError('SK_ERR_NOT_FOUND', `operator ${op.name} holds no key ${JSON.stringify(keyId)}`);
      if (key.revoked_at !== null) return keyView(key);
      const revokedAt = ctx.now();
      await trx.updateTable('operator_keys').set({ revoked_at: revokedAt, revoked_by: `${caller.kind}:${caller.id}` }).where('key_id', '=', keyId).execute();
      await assertAnOwnerRemains(trx);
      await audit({ action: 'operator.key.revoke', target: `operator:${op.name}`, outcome: 'success', details: { operatorId: op.id, keyId } }, caller);
      return keyView({ ...key, revoked_at: revokedAt });
    }));
}

/**
 * `operator rotate-key`: the request is signed with the old key (the caller's), and `proof` is
 * the new key's Ed25519 signature over rotationProofMessage(old, new). In one transaction the new
 * key is added (with the old one's label unless another is given) and the old one revoked.
 */
export async function rotateOperatorKey(ctx: VaultContext, caller: Caller, req: { publicKey: string; proof: string; label?: string }): Promise<{ operator: string; oldKeyId: string; keyId: string }> {
  const raw = parsePublicKey(req.publicKey);
  const keyId = keyIdFromPublicKey(raw);
  const proof = Buffer.from(req.proof, 'base64');
  if (proof.length !== 64 || !ed25519Verify(publicKeyObject(raw), rotationProofMessage(caller.keyId, keyId), proof)) {
    throw new SikkerKeyError('SK_ERR_SIGNATURE_INVALID', 'the proof is not the new key\'s signature over the rotation message');
  }
  return writeTx(ctx, async (trx, audit) => {
    const old = await trx.selectFrom('operator_keys').select(['label', 'revoked_at']).where('key_id', '=', caller.keyId).executeTakeFirst();
    if (!old || old.revoked_at !== null) throw new SikkerKeyError('SK_ERR_KEY_REVOKED', 'the signing key was revoked meanwhile');
    const now = ctx.now();
    const label = checkLabel(req.label, old.label);
    await insertOperatorKey(trx, { operatorId: caller.id, publicKey: raw, label, now, createdBy: `${caller.kind}:${caller.id}` });
    await trx.updateTable('operator_keys').set({ revoked_at: now, revoked_by: `${caller.kind}:${caller.id}` }).where('key_id', '=', caller.keyId).execute();
    await audit({ action: 'operator.key.rotate', target: `operator:${caller.name}`, outcome: 'success', details: { operatorId: caller.id, oldKeyId: caller.keyId, keyId, label } }, caller);
    return { operator: caller.name, oldKeyId: caller.keyId, keyId };
  });
}

async function viewOf(ctx: VaultContext, nameOrId: string): Promise<OperatorView> {
  const view = (await listOperators(ctx)).find((o) => o.name === nameOrId || o.id === nameOrId);
  if (!view) throw new SikkerKeyError('SK_ERR_NOT_FOUND', `no operator named ${JSON.stringify(nameOrId)}`);
  return view;
}

/** Records an operator key's use at most once a minute per key (it does not move the change counter). */
export function keyUseRecorder(ctx: VaultContext, intervalMs = 60_000): (keyId: string) => void {
  return throttledRecorder(ctx, intervalMs, 'an operator key\'s last use',
    (keyId, now) => ctx.store.db.updateTable('operator_keys').set({ last_used_at: now }).where('key_id', '=', keyId).execute());
}
