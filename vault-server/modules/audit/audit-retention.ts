/**
 * Audit retention (`serve --audit-retention 400d`, issue 25): events older than the retention are
 * pruned, but only as a prefix of the one global chain, and never without proof. Each prune, in
 * one transaction:
 *   1. verifies the chain from where it starts now (the previous prune's boundary, or event 1)
 *      through the last event to prune — hashes, links and MACs — so a tampered prefix is refused,
 *      never laundered by deleting it;
 *   2. writes a signed checkpoint of the boundary (the first and last pruned events' seqs, the
 *      last one's hash and time, Ed25519 with the audit signing key over pruneBoundaryMessage,
 *      its own domain: no head checkpoint can be replayed as a boundary) into `audit_prunes`,
 *      which is kept;
 *   3. deletes the events up to the boundary;
 *   4. appends an `audit.pruned` event naming the range.
 * A project may keep its events longer (`sikkerkey project set-audit-retention`, never shorter than
 * the vault's): since only a prefix of the one chain can go, the boundary then stops before the
 * oldest event of such a project that is still within the project's own retention. Events after
 * it stay too, whatever their age, until a later sweep passes them; events without a project
 * follow the vault's retention alone.
 * `audit verify` then starts from the newest boundary (its signature must verify with the vault's
 * key, and the kept chain must hold the MAC'd audit.pruned event naming it) and checks every kept
 * event as before: deleting a kept event, or a forged boundary, still fails. A sweep checks the
 * same of the boundary it starts from, and refuses to prune below `audit_keyed_from` (events the
 * MACs do not cover) unless the event there is the MAC'd audit.keys.created event naming it. At most {@link PRUNE_CHUNK} events go per transaction, so a first sweep over a large log
 * holds the chain head only briefly at a time.
 *
 * One sweep at a time across processes and replicas (a `sweeper_leases` row, like the machine and
 * trash sweepers): the leader prunes, the others skip.
 *
 * @example
 *   await pruneAudit(ctx, parseDuration('400d', '--audit-retention'));
 */
import { randomUUID, sign } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { SikkerKeyError } from '../../../protocol/errors.js';
import { pruneBoundaryMessage } from '../../../protocol/audit-checkpoint.js';
import type { VaultContext } from '../../context.js';
import { writeTx } from '../../context.js';
import type { Database } from '../../store/database.js';
import type { Kysely } from 'kysely';
import { acquireLease, releaseLease } from '../machines/machine-sweeper.js';
import { canonicalEvent, chainHash, eventMac, fromAuditRow, GENESIS_HASH, keyedFromProblem, pruneBoundaryProblem } from './audit-store.js';
import { startPeriodic } from '../../periodic.js';

export const AUDIT_RETENTION_LEASE = 'audit-retention';
const HOLDER = `audit-retention-${randomUUID()}`;
/** Events deleted per transaction. */
export const PRUNE_CHUNK = 5000;
/** Below this a retention would prune what an operator is still looking at. */
export const MIN_RETENTION_MS = 86_400_000;

export interface PruneResult {
  ran: boolean;
  pruned: number;
  firstSeq?: number;
  lastSeq?: number;
  /** The project whose longer retention stopped the boundary, and the event it stopped before. */
  heldBy?: RetentionHold;
}

/** A project whose own, longer retention keeps event `seq` (and so everything after it). */
export interface RetentionHold {
  project: string;
  retentionMs: number;
  seq: number;
}

/**
 * The first event from `fromSeq` on that a project with a retention longer than the vault's still
 * keeps, if any. Each such project's events are walked in seq order through
 * `audit_events_project_seq`, past the ones its own retention lets go. A project in the trash
 * keeps its setting until it is purged; a purged project's events follow the vault's retention.
 */
export async function projectRetentionHold(db: Kysely<Database>, fromSeq: number, retentionMs: number, now: number): Promise<RetentionHold | undefined> {
  const longer = await db.selectFrom('projects').select(['id', 'name', 'audit_retention_ms']).where('audit_retention_ms', '>', retentionMs).execute();
  let hold: RetentionHold | undefined;
  for (const p of longer) {
    const keepFrom = now - Number(p.audit_retention_ms);
    const first = await db.selectFrom('audit_events').select('seq').where('project_id', '=', p.id).where('seq', '>=', fromSeq).where('at', '>=', keepFrom)
      .orderBy('seq', 'asc').limit(1).executeTakeFirst();
    if (first && (!hold || Number(first.seq) < hold.seq)) hold = { project: p.name, retentionMs: Number(p.audit_retention_ms), seq: Number(first.seq) };
  }
  return hold;
}

/** Where the kept chain starts: after the newest boundary, or at 1 (the boundary unchecked: see pruneChunk). */
export async function chainStart(db: Kysely<Database>): Promise<{ seq: number; prevHash: string }> {
  const last = await db.selectFrom('audit_prunes').select(['last_seq', 'hash']).orderBy('last_seq', 'desc').limit(1).executeTakeFirst();
  return last ? { seq: Number(last.last_seq) + 1, prevHash: last.hash } : { seq: 1, prevHash: GENESIS_HASH };
}

const refused = (why: string): SikkerKeyError =>
  new SikkerKeyError('SK_ERR_AUDIT_CHAIN', `audit retention refused to prune: ${why}; run \`sikkerkey audit verify\` (nothing was deleted)`);

/**
 * Throws unless the chain may be pruned on from `startSeq`: the boundary it starts from (the
 * newest) must be one this vault's prune wrote, and below `audit_keyed_from` (unMAC'd events the
 * sweep cannot check) only when that value is the one the MAC'd audit.keys.created event names;
 * otherwise a database writer could raise it, backdate recent events and have a sweep delete them
 * behind a genuinely signed boundary.
 */
async function checkPruneStart(trx: Kysely<Database>, keys: VaultContext['auditKeys'], startSeq: number): Promise<void> {
  const boundary = await trx.selectFrom('audit_prunes').selectAll().orderBy('last_seq', 'desc').limit(1).executeTakeFirst();
  if (boundary) {
    const problem = await pruneBoundaryProblem(trx, keys, boundary);
    if (problem) throw refused(problem);
  }
  if (startSeq < keys.keyedFrom) {
    const row = await trx.selectFrom('audit_events').selectAll().where('seq', '=', keys.keyedFrom).executeTakeFirst();
    const problem = keyedFromProblem(row ? fromAuditRow(row) : undefined, keys);
    if (problem) throw refused(`events before ${keys.keyedFrom} carry no MACs and ${problem}`);
  }
}

/** Prunes one chunk; returns how many events went. */
async function pruneChunk(ctx: VaultContext, sweepAt: number, retentionMs: number): Promise<PruneResult> {
  const cutoff = sweepAt - retentionMs;
  return writeTx(ctx, async (trx, audit) => {
    const start = await chainStart(trx);
    // The prefix ends before the first event at or after the cutoff (events are appended in time
    // order; a clock step back cannot make an older-looking event inside the kept range go).
    const firstKept = await trx.selectFrom('audit_events').select('seq').where('seq', '>=', start.seq).where('at', '>=', cutoff)
      .orderBy('seq', 'asc').limit(1).executeTakeFirst();
    const head = await trx.selectFrom('audit_head').select('seq').where('id', '=', 1).executeTakeFirst();
    let endExclusive = firstKept ? Number(firstKept.seq) : Number(head?.seq ?? 0) + 1;
    const hold = await projectRetentionHold(trx, start.seq, retentionMs, sweepAt);
    const heldBy = hold && hold.seq < endExclusive ? hold : undefined;
    if (heldBy) endExclusive = heldBy.seq;
    const last = Math.min(endExclusive - 1, start.seq + PRUNE_CHUNK - 1);
    if (last < start.seq) return { ran: true, pruned: 0, ...(heldBy ? { heldBy } : {}) };
    await checkPruneStart(trx, ctx.auditKeys, start.seq);

    const rows = await trx.selectFrom('audit_events').selectAll().where('seq', '>=', start.seq).where('seq', '<=', last).orderBy('seq', 'asc').execute();
    let expected = start.seq;
    let prevHash = start.prevHash;
    let boundary: { hash: string; at: number } | undefined;
    for (const row of rows) {
      const e = fromAuditRow(row);
      const { hash: _h, prevHash: _p, mac: _m, ...content } = e;
      // Events before keyedFrom were accepted broken when the keys were made: not checkable.
      const checkable = e.seq >= ctx.auditKeys.keyedFrom;
      if (e.seq !== expected || (checkable && (e.prevHash !== prevHash || chainHash(prevHash, canonicalEvent(content)) !== e.hash
        || e.mac !== eventMac(ctx.auditKeys.macKey, e.hash)))) {
        throw refused(`the chain is broken at event ${expected}`);
      }
      prevHash = e.hash;
      expected += 1;
      boundary = { hash: e.hash, at: e.at };
    }
    if (!boundary || expected !== last + 1) {
      throw refused(`event ${expected} is missing`);
    }
    const keys = ctx.auditKeys;
    const now = ctx.now();
    await trx.insertInto('audit_prunes').values({
      last_seq: last, first_seq: start.seq, hash: boundary.hash, at: boundary.at,
      signature: sign(null, pruneBoundaryMessage(start.seq, last, boundary.hash, boundary.at), keys.signingKey).toString('base64'),
      public_key: keys.publicKey.toString('base64'), pruned_at: now, events: last - start.seq + 1,
    }).execute();
    await trx.deleteFrom('audit_events').where('seq', '>=', start.seq).where('seq', '<=', last).execute();
    await audit({
      actorKind: 'system', actorId: null, action: 'audit.pruned', target: 'audit', outcome: 'success',
      details: {
        firstSeq: start.seq, lastSeq: last, events: last - start.seq + 1, boundaryHash: boundary.hash, retentionMs, cutoff,
        ...(heldBy ? { heldBy: { project: heldBy.project, retentionMs: heldBy.retentionMs, seq: heldBy.seq } } : {}),
      },
    });
    return { ran: true, pruned: last - start.seq + 1, firstSeq: start.seq, lastSeq: last, ...(heldBy ? { heldBy } : {}) };
  });
}

/** Prunes every event older than `retentionMs` (a prefix of the chain, held by longer project retentions), if this process holds the sweep lease. */
export async function pruneAudit(ctx: VaultContext, retentionMs: number): Promise<PruneResult> {
  if (!await acquireLease(ctx, AUDIT_RETENTION_LEASE, HOLDER, 10 * 60_000)) return { ran: false, pruned: 0 };
  try {
    const now = ctx.now();
    const total: PruneResult = { ran: true, pruned: 0 };
    for (;;) {
      const r = await pruneChunk(ctx, now, retentionMs);
      if (r.heldBy) total.heldBy = r.heldBy;
      if (r.pruned === 0) return total;
      total.pruned += r.pruned;
      total.firstSeq ??= r.firstSeq;
      total.lastSeq = r.lastSeq;
      if (r.pruned < PRUNE_CHUNK) return total;
    }
  } finally {
    await releaseLease(ctx, AUDIT_RETENTION_LEASE, HOLDER).catch(() => undefined);
  }
}

/** Runs {@link pruneAudit} every `everyMs` (default an hour) and once shortly after start. */
export function startAuditRetention(app: FastifyInstance, ctx: VaultContext, opts: { retentionMs: number; everyMs?: number }): void {
  startPeriodic(app, ctx, {
    what: 'audit retention sweep', everyMs: opts.everyMs ?? 3_600_000, firstAfterMs: 5_000,
    run: async () => {
      const r = await pruneAudit(ctx, opts.retentionMs);
      if (r.pruned > 0) ctx.log.info({ pruned: r.pruned, firstSeq: r.firstSeq, lastSeq: r.lastSeq, ...(r.heldBy ? { heldBy: r.heldBy } : {}) }, 'audit retention pruned events');
    },
  });
}
