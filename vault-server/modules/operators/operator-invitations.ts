/**
 * Operator invitations: a single-use token (stored hashed, shown once) that lets its holder
 * register a key they made on their own machine — as a new operator with the role the invitation
 * names, or (`invite --existing NAME`) as one more key of an existing operator.
 *
 * Acceptance authenticates like `POST /v1/enroll`: the request is signed by the very key it
 * registers (proof of possession); see operators-routes.ts. Here: the token's checks and the rows,
 * in one transaction that holds the invitation row.
 *
 * @example
 *   const inv = await createInvitation(ctx, caller, { name: 'ana', role: 'admin', expiresInMs: 86_400_000 }, 'https://vault.example.com');
 *   // inv.token is shown once; inv.url = https://vault.example.com/ui/accept#token=…
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { SikkerKeyError } from '../../../protocol/errors.js';
import type { Caller, OperatorRole } from '../../http/authenticate.js';
import { writeTx } from '../../context.js';
import type { VaultContext } from '../../context.js';
import { forUpdate, isUniqueViolation } from '../../store/locks.js';
import { hashToken } from '../enrollment/enrollment-tokens.js';
import { checkLabel, insertOperatorKey, requireOperator } from './operators-service.js';
import { guarded, mayGrant } from './operator-roles.js';

export const INVITATION_PREFIX = 'skinv_';
export const DEFAULT_INVITATION_MS = 24 * 3600_000;
export const MAX_INVITATION_MS = 30 * 24 * 3600_000;

export interface InvitationView {
  id: string;
  name: string;
  /** The new operator's role; for an existing operator, its role now. */
  role: OperatorRole | null;
  existing: boolean;
  status: 'pending' | 'accepted' | 'revoked' | 'expired';
  expiresAt: number;
  createdAt: number;
  createdBy: string;
  acceptedAt: number | null;
  acceptedKeyId: string | null;
}

const invalid = (): SikkerKeyError => new SikkerKeyError('SK_ERR_INVITATION_INVALID', 'the invitation is unknown, used, revoked or expired; ask for a new one');

export async function createInvitation(
  ctx: VaultContext, caller: Caller,
  req: { name: string; role?: OperatorRole; existing?: boolean; expiresInMs?: number },
  baseUrl: string,
): Promise<{ id: string; name: string; role: OperatorRole; existing: boolean; token: string; expiresAt: number; url: string }> {
  const expiresInMs = req.expiresInMs ?? DEFAULT_INVITATION_MS;
  if (expiresInMs < 60_000 || expiresInMs > MAX_INVITATION_MS) throw new SikkerKeyError('SK_ERR_VALIDATION', 'an invitation lasts between 1m and 30d');
  if (req.existing && req.role) throw new SikkerKeyError('SK_ERR_VALIDATION', '--existing adds a key to an operator with the role it has; use set-role to change it');
  if (!req.existing && !req.role) throw new SikkerKeyError('SK_ERR_VALIDATION', 'a new operator needs a role (owner, admin, viewer)');
  const token = INVITATION_PREFIX + randomBytes(32).toString('base64url');
  const id = randomUUID();
  const result = await guarded(ctx, caller, 'operator.invite', `operator:${req.name}`, () => writeTx(ctx, async (trx, audit) => {
    const now = ctx.now();
    let role: OperatorRole;
    let operatorId: string | null = null;
    if (req.existing) {
      const op = await requireOperator(trx, req.name);
      role = op.role;
      operatorId = op.id;
    } else {
      role = req.role!;
      if (await trx.selectFrom('operators').select('id').where('name', '=', req.name).executeTakeFirst()) {
        throw new SikkerKeyError('SK_ERR_CONFLICT', `an operator named ${JSON.stringify(req.name)} exists already; to give them another key use --existing`);
      }
      const pending = await trx.selectFrom('operator_invitations').select('id').where('name', '=', req.name).where('operator_id', 'is', null)
        .where('accepted_at', 'is', null).where('revoked_at', 'is', null).where('expires_at', '>', now).executeTakeFirst();
      if (pending) throw new SikkerKeyError('SK_ERR_CONFLICT', `an invitation for ${JSON.stringify(req.name)} is pending (${pending.id}); revoke it first`);
    }
    mayGrant(caller, role);
    const expiresAt = now + expiresInMs;
    await trx.insertInto('operator_invitations').values({
      id, token_hash: hashToken(token), name: req.name, role: req.existing ? null : role, operator_id: operatorId,
      expires_at: expiresAt, created_at: now, created_by: `${caller.kind}:${caller.id}`, accepted_at: null, accepted_key_id: null, revoked_at: null,
    }).execute();
    await audit({ action: 'operator.invite', target: `operator:${req.name}`, outcome: 'success', details: { invitationId: id, role, existing: Boolean(req.existing), expiresAt } }, caller);
    return { role, expiresAt };
  }));
  return { id, name: req.name, role: result.role, existing: Boolean(req.existing), token, expiresAt: result.expiresAt, url: `${baseUrl}/ui/accept#token=${token}` };
}

export async function listInvitations(ctx: VaultContext): Promise<InvitationView[]> {
  const now = ctx.now();
  const rows = await ctx.store.db.selectFrom('operator_invitations').leftJoin('operators', 'operators.id', 'operator_invitations.operator_id')
    .selectAll('operator_invitations').select('operators.role as current_role').orderBy('operator_invitations.created_at', 'desc').execute();
  return rows.map((r) => ({
    id: r.id, name: r.name, role: r.role ?? r.current_role ?? null, existing: r.operator_id !== null,
    status: r.accepted_at !== null ? 'accepted' : r.revoked_at !== null ? 'revoked' : Number(r.expires_at) <= now ? 'expired' : 'pending',
    expiresAt: Number(r.expires_at), createdAt: Number(r.created_at), createdBy: r.created_by,
    acceptedAt: r.accepted_at === null ? null : Number(r.accepted_at), acceptedKeyId: r.accepted_key_id,
  }));
}

export async function revokeInvitation(ctx: VaultContext, caller: Caller, id: string): Promise<InvitationView> {
  await writeTx(ctx, async (trx, audit) => {
    const inv = await trx.selectFrom('operator_invitations').selectAll().where('id', '=', id).executeTakeFirst();
    if (!inv) throw new SikkerKeyError('SK_ERR_NOT_FOUND', 'no such invitation');
    if (inv.accepted_at !== null) throw new SikkerKeyError('SK_ERR_CONFLICT', 'the invitation was accepted already: revoke the key it registered instead (operator key revoke)');
    if (inv.revoked_at !== null) return;
    await trx.updateTable('operator_invitations').set({ revoked_at: ctx.now() }).where('id', '=', id).execute();
    await audit({ action: 'operator.invitation.revoke', target: `operator:${inv.name}`, outcome: 'success', details: { invitationId: id } }, caller);
  });
  const view = (await listInvitations(ctx)).find((i) => i.id === id);
  if (!view) throw new SikkerKeyError('SK_ERR_NOT_FOUND', 'no such invitation');
  return view;
}

/**
 * Uses an invitation: the key (already proven by the request's signature) becomes a new
 * operator's first key, or another key of the existing operator. Single use under a row lock.
 */
export async function acceptInvitation(
  ctx: VaultContext, req: { token: string; publicKey: Uint8Array; label?: string; sourceIp: string },
): Promise<{ operator: { id: string; name: string; role: OperatorRole }; keyId: string }> {
  if (!req.token.startsWith(INVITATION_PREFIX)) throw invalid();
  const label = checkLabel(req.label, 'accepted');
  try {
    return await writeTx(ctx, async (trx, audit) => {
      const now = ctx.now();
      const inv = await forUpdate(ctx.store.dialect, trx.selectFrom('operator_invitations').selectAll().where('token_hash', '=', hashToken(req.token))).executeTakeFirst();
      if (!inv || inv.accepted_at !== null || inv.revoked_at !== null || Number(inv.expires_at) <= now) throw invalid();
      let operator: { id: string; name: string; role: OperatorRole };
      if (inv.operator_id !== null) {
        const op = await trx.selectFrom('operators').select(['id', 'name', 'role']).where('id', '=', inv.operator_id).executeTakeFirst();
        if (!op) throw invalid();
        operator = op;
      } else {
        operator = { id: randomUUID(), name: inv.name, role: inv.role ?? 'viewer' };
        await trx.insertInto('operators').values({ id: operator.id, name: operator.name, role: operator.role, status: 'active', created_at: now, created_by: inv.created_by }).execute();
      }
      const keyId = await insertOperatorKey(trx, { operatorId: operator.id, publicKey: req.publicKey, label, now, createdBy: `invitation:${inv.id}` });
      await trx.updateTable('operator_invitations').set({ accepted_at: now, accepted_key_id: keyId }).where('id', '=', inv.id).execute();
      await audit({
        action: inv.operator_id === null ? 'operator.accept' : 'operator.key.add', actorKind: 'operator', actorId: operator.id, actorName: operator.name, sourceIp: req.sourceIp,
        target: `operator:${operator.name}`, outcome: 'success', details: { invitationId: inv.id, role: operator.role, keyId, label, invitedBy: inv.created_by },
      });
      return { operator, keyId };
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new SikkerKeyError('SK_ERR_CONFLICT', 'an operator with this name, or this key, exists already');
    throw err;
  }
}
