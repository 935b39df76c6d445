/**
 * `sikkerkey audit verify --checkpoint FILE`, the part after the vault's own verify: the
 * checkpoint's signature must verify with its public key, that key must be the one the vault
 * signs with now, and the event at the checkpoint's seq must still have the checkpoint's hash
 * (and time). A rewrite or rewind past the checkpoint fails the last check even when whoever did
 * it held the audit MAC key; a vault whose audit keys were replaced fails the second. A rewind
 * that an audited restore explains is reported as such (`restore`), apart from one nobody explains.
 */
import { SikkerKeyError } from '../../protocol/errors.js';
import { verifyCheckpointSignature } from '../../protocol/audit-checkpoint.js';
import type { AuditCheckpoint } from '../../protocol/audit-checkpoint.js';

/** GET a vault path as the operator and return the JSON body. */
export type OperatorGet = <T>(path: string) => Promise<T>;

export interface CheckpointResult {
  ok: boolean;
  seq: number;
  reason?: string;
  /**
   * The history past the checkpoint was replaced by an audited restore (`sikkerkey-vault
   * restore`): the `vault.restored` event, written after the checkpoint, carries the backup's head
   * signed with this vault's audit key, and the log still holds that head. The rewind is explained,
   * not hidden: the events after the backup's head up to the checkpoint are gone from this log.
   */
  restore?: { restoredSeq: number; restoredAt: number; backupHeadSeq: number };
}

interface RestoredEvent { seq: number; at: number; details: { backupHead?: AuditCheckpoint } }

/** An audited restore that explains a rewind past `cp`, if there is one (see CheckpointResult.restore). */
async function explainingRestore(get: OperatorGet, cp: AuditCheckpoint): Promise<CheckpointResult['restore']> {
  const { events } = await get<{ events: RestoredEvent[] }>('/v1/audit?action=vault.restored&order=asc&limit=1000');
  for (const e of events) {
    const b = e.details.backupHead;
    if (!b || b.seq >= cp.seq || e.at < cp.at || b.publicKey !== cp.publicKey) continue;
    try {
      verifyCheckpointSignature(b);
    } catch {
      continue;
    }
    if (b.seq > 0) {
      const held = (await get<{ events: Array<{ seq: number; hash: string }> }>(`/v1/audit?after=${b.seq - 1}&order=asc&limit=1`)).events[0];
      if (held?.seq !== b.seq || held.hash !== b.hash) continue;
    }
    return { restoredSeq: e.seq, restoredAt: e.at, backupHeadSeq: b.seq };
  }
  return undefined;
}

function restored(cp: AuditCheckpoint, r: NonNullable<CheckpointResult['restore']>): CheckpointResult {
  return {
    ok: true, seq: cp.seq, restore: r,
    reason: `the history past event ${r.backupHeadSeq} was replaced by an audited restore (vault.restored, event ${r.restoredSeq}, ${new Date(r.restoredAt).toISOString()}): events ${r.backupHeadSeq + 1}..${cp.seq} of the checkpoint's history are not in this log`,
  };
}

export async function checkCheckpoint(get: OperatorGet, cp: AuditCheckpoint): Promise<CheckpointResult> {
  verifyCheckpointSignature(cp);
  const head = await get<{ seq: number; publicKey: string }>('/v1/audit/head');
  if (head.publicKey !== cp.publicKey) {
    throw new SikkerKeyError('SK_ERR_AUDIT_CHECKPOINT',
      `the checkpoint was signed by audit key ${cp.publicKey}, but this vault signs with ${head.publicKey}: another vault's checkpoint, or this vault's audit keys were replaced`);
  }
  if (cp.seq === 0) return { ok: true, seq: 0 };
  const { events } = await get<{ events: Array<{ seq: number; hash: string; at: number }> }>(`/v1/audit?after=${cp.seq - 1}&order=asc&limit=1`);
  const event = events[0];
  if (!event || event.seq !== cp.seq) {
    const verify = await get<{ pruned?: { lastSeq: number; prunedAt: number } }>('/v1/audit/verify');
    if (verify.pruned && cp.seq <= verify.pruned.lastSeq) {
      return { ok: false, seq: cp.seq, reason: `event ${cp.seq} of the checkpoint was pruned by retention (events through ${verify.pruned.lastSeq}, at ${new Date(verify.pruned.prunedAt).toISOString()}): a checkpoint older than the retention cannot be checked against the vault; check it against an export with \`audit verify --file\`` };
    }
    const restore = await explainingRestore(get, cp);
    if (restore) return restored(cp, restore);
    return { ok: false, seq: cp.seq, reason: `the log no longer holds event ${cp.seq} of the checkpoint (it ends at ${head.seq}): history was truncated or rewound, and no audited restore explains it` };
  }
  if (event.hash !== cp.hash || event.at !== cp.at) {
    const restore = await explainingRestore(get, cp);
    if (restore) return restored(cp, restore);
    return { ok: false, seq: cp.seq, reason: `event ${cp.seq} no longer has the checkpoint's hash: the history up to it was rewritten, and no audited restore explains it` };
  }
  return { ok: true, seq: cp.seq };
}
