import { randomUUID } from 'node:crypto';
import { SikkerKeyError } from '../../../protocol/errors.js';
import { keyIdFromPublicKey, parsePublicKey } from '../../../protocol/keys.js';
import type { Caller } from '../../http/authenticate.js';
import { writeTx } from '../../context.js';
import type { Tx, VaultContext } from '../../context.js';
import { isUniqueViolation } from '../../store/locks.js';

export type MachineStatus = 'pending_approval' | 'active' | 'disabled' | 'expired';

export interface MachineView {
  id: string;
  name: string;
  keyId: string;
  labels: string[];
  status: MachineStatus;
  expiresAt: number | null;
  lastSeenAt: number | null;
  createdVia: string;
  createdAt: number;
}

interface MachineRow {
  id: string; name: string; key_id: string; labels: string; status: string; expires_at: number | null;
  last_seen_at: number | null; created_via: string; created_at: number;
}

const toView = (r: MachineRow): MachineView => ({
  id: r.id, name: r.name, keyId: r.key_id, labels: JSON.parse(r.labels) as string[], status: r.status as MachineStatus,
  expiresAt: r.expires_at, lastSeenAt: r.last_seen_at, createdVia: r.created_via, createdAt: r.created_at,
});

const MACHINE_COLUMNS = ['id', 'name', 'key_id', 'labels', 'status', 'expires_at', 'last_seen_at', 'created_via', 'created_at'] as const;

/** A machine by name or by id (the CLI accepts either). */
export async function requireMachine(trx: Tx, nameOrId: string): Promise<MachineView> {
  const row = await trx.selectFrom('machines').select(MACHINE_COLUMNS)
    .where((eb) => eb.or([eb('name', '=', nameOrId), eb('id', '=', nameOrId)])).executeTakeFirst();
  if (!row) throw new SikkerKeyError('SK_ERR_NOT_FOUND', `no machine named ${JSON.stringify(nameOrId)}`);
  return toView(row);
}

export async function addMachine(ctx: VaultContext, caller: Caller, req: {
  name: string; publicKey: string; labels?: string[]; expiresInMs?: number;
}): Promise<{ id: string; name: string; keyId: string }> {
  const raw = parsePublicKey(req.publicKey);
  const keyId = keyIdFromPublicKey(raw);
  const id = randomUUID();
  const now = ctx.now();
  try {
    await writeTx(ctx, async (trx, audit) => {
      const takenByOther = await trx.selectFrom('operators').select('id').where('key_id', '=', keyId).executeTakeFirst()
        ?? await trx.selectFrom('ai_agents').select('id').where('key_id', '=', keyId).executeTakeFirst();
      // One key, one identity: an operator's key registered as a machine would let it read values.
      if (takenByOther) throw new SikkerKeyError('SK_ERR_CONFLICT', 'this public key already belongs to another identity');
      await trx.insertInto('machines').values({
        id, name: req.name, public_key: Buffer.from(raw), key_id: keyId, labels: JSON.stringify(req.labels ?? []),
        status: 'active', expires_at: req.expiresInMs ? now + req.expiresInMs : null, ip_allowlist: null,
        country_allowlist: null, time_window: null, constraints: null, created_via: 'operator', created_by: caller.id,
        last_seen_at: null, disabled_at: null, created_at: now,
      }).execute();
      await audit({ action: 'machine.add', target: `machine:${req.name}`, outcome: 'success', details: { machineId: id, keyId, labels: req.labels ?? [] } }, caller);
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new SikkerKeyError('SK_ERR_CONFLICT', `a machine with that name or key exists already`);
    throw err;
  }
  return { id, name: req.name, keyId };
}

export async function listMachines(ctx: VaultContext): Promise<MachineView[]> {
  const rows = await ctx.store.db.selectFrom('machines').select(MACHINE_COLUMNS).orderBy('name').execute();
  return rows.map(toView);
}

export async function setMachineStatus(ctx: VaultContext, caller: Caller, nameOrId: string, status: 'active' | 'disabled', action: string): Promise<MachineView> {
  return writeTx(ctx, async (trx, audit) => {
    const m = await requireMachine(trx, nameOrId);
    if (action === 'machine.approve' && m.status !== 'pending_approval' && m.status !== 'active') {
      throw new SikkerKeyError('SK_ERR_CONFLICT', `machine ${m.name} is ${m.status}; only a machine waiting for approval can be approved`);
    }
    await trx.updateTable('machines').set({ status, disabled_at: status === 'disabled' ? ctx.now() : null }).where('id', '=', m.id).execute();
    await audit({ action, target: `machine:${m.name}`, outcome: 'success', details: { machineId: m.id, from: m.status, to: status } }, caller);
    return { ...m, status };
  });
}

/** Liveness for `machine list` / `rotation status`: written at most once per interval per machine. */
export function lastSeenRecorder(ctx: VaultContext, intervalMs = 15_000): (machineId: string) => void {
  const written = new Map<string, number>();
  return (machineId) => {
    const now = ctx.now();
    if ((written.get(machineId) ?? 0) + intervalMs > now) return;
    written.set(machineId, now);
    ctx.store.db.updateTable('machines').set({ last_seen_at: now }).where('id', '=', machineId).execute()
      .catch((err: unknown) => ctx.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'could not record last_seen_at'));
  };
}
