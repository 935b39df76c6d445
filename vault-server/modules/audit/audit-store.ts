import { createHash, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, Row } from '../../store/database.js';
import type { Dialect } from '../../store/open-store.js';
import { forUpdate } from '../../store/locks.js';

export type ActorKind = 'operator' | 'machine' | 'ai_agent' | 'system';
export type Outcome = 'success' | 'denied' | 'failure';

/** What happened, by whom, to what. Never a secret value: details hold names, ids and codes only. */
export interface AuditEvent {
  actorKind: ActorKind;
  actorId: string | null;
  action: string;
  projectId?: string | null;
  target: string;
  outcome: Outcome;
  sourceIp?: string | null;
  details?: Record<string, unknown>;
}

export interface StoredAuditEvent extends Required<Omit<AuditEvent, 'details'>> {
  seq: number;
  id: string;
  at: number;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

/** The hash of "nothing before": the first event chains onto it. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * The canonical form an event's hash covers: a JSON array in a fixed field order (so no key
 * ordering question arises), details with their keys sorted.
 */
export function canonicalEvent(e: Omit<StoredAuditEvent, 'hash' | 'prevHash'>): string {
  return JSON.stringify([
    e.seq, e.id, e.at, e.actorKind, e.actorId, e.action, e.projectId, e.target, e.outcome, e.sourceIp,
    sortKeys(e.details),
  ]);
}

export function chainHash(prevHash: string, canonical: string): string {
  // prev_hash is always 64 hex characters, so plain concatenation cannot be ambiguous.
  return createHash('sha256').update(prevHash).update(canonical).digest('hex');
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]));
  }
  return value;
}

/**
 * Appends one event inside the caller's transaction. The chain head row is taken exclusively
 * (PostgreSQL FOR UPDATE; SQLite's write transactions already hold the one writer lock), always
 * after any project rows the caller locked, so chains never fork and lock orders never deadlock.
 */
export async function appendAudit(trx: Kysely<Database>, dialect: Dialect, event: AuditEvent, nowMs = Date.now()): Promise<StoredAuditEvent> {
  const head = await forUpdate(dialect, trx.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1)).executeTakeFirst();
  const prevSeq = head?.seq ?? 0;
  const prevHash = head?.hash ?? GENESIS_HASH;
  const stored: Omit<StoredAuditEvent, 'hash' | 'prevHash'> = {
    seq: prevSeq + 1,
    id: randomUUID(),
    at: nowMs,
    actorKind: event.actorKind,
    actorId: event.actorId,
    action: event.action,
    projectId: event.projectId ?? null,
    target: event.target,
    outcome: event.outcome,
    sourceIp: event.sourceIp ?? null,
    details: event.details ?? {},
  };
  const hash = chainHash(prevHash, canonicalEvent(stored));
  await trx.insertInto('audit_events').values({
    seq: stored.seq, id: stored.id, at: stored.at, actor_kind: stored.actorKind, actor_id: stored.actorId,
    action: stored.action, project_id: stored.projectId, target: stored.target, outcome: stored.outcome,
    source_ip: stored.sourceIp, details: JSON.stringify(stored.details), prev_hash: prevHash, hash,
  }).execute();
  if (head) {
    await trx.updateTable('audit_head').set({ seq: stored.seq, hash }).where('id', '=', 1).execute();
  } else {
    await trx.insertInto('audit_head').values({ id: 1, seq: stored.seq, hash }).execute();
  }
  return { ...stored, prevHash, hash };
}

export interface AuditQuery {
  projectId?: string;
  sinceMs?: number;
  afterSeq?: number;
  limit?: number;
}

export async function listAudit(db: Kysely<Database>, q: AuditQuery = {}): Promise<StoredAuditEvent[]> {
  let query = db.selectFrom('audit_events').selectAll().orderBy('seq', 'asc');
  if (q.projectId) query = query.where('project_id', '=', q.projectId);
  if (q.sinceMs !== undefined) query = query.where('at', '>=', q.sinceMs);
  if (q.afterSeq !== undefined) query = query.where('seq', '>', q.afterSeq);
  query = query.limit(Math.min(q.limit ?? 1000, 10_000));
  const rows = await query.execute();
  return rows.map(fromRow);
}

function fromRow(r: Row<'audit_events'>): StoredAuditEvent {
  return {
    seq: Number(r.seq), id: r.id, at: Number(r.at), actorKind: r.actor_kind as ActorKind, actorId: r.actor_id,
    action: r.action, projectId: r.project_id, target: r.target, outcome: r.outcome as Outcome, sourceIp: r.source_ip,
    details: parseDetails(r.details), prevHash: r.prev_hash, hash: r.hash,
  };
}

function parseDetails(raw: string): Record<string, unknown> {
  try {
    const v = JSON.parse(raw) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : { _unparsable: true };
  } catch {
    return { _unparsable: true };
  }
}

export interface ChainReport {
  ok: boolean;
  events: number;
  /** The first event that does not fit the chain, and why. */
  firstBad?: { seq: number; id: string | null; reason: string };
}

/**
 * Walks the whole chain in pages: sequence numbers must run 1, 2, 3… with no gap (deletion,
 * reordering), each prev_hash must be its predecessor's hash and each hash must match the event's
 * content (edits), and the head must name the last event (truncation).
 */
export async function verifyAuditChain(db: Kysely<Database>): Promise<ChainReport> {
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let count = 0;
  for (;;) {
    const page = await db.selectFrom('audit_events').selectAll().where('seq', '>=', expectedSeq).orderBy('seq', 'asc').limit(2000).execute();
    if (page.length === 0) break;
    for (const row of page) {
      const e = fromRow(row);
      if (e.seq !== expectedSeq) {
        return { ok: false, events: count, firstBad: { seq: expectedSeq, id: null, reason: `event ${expectedSeq} is missing (next present is ${e.seq})` } };
      }
      if (e.prevHash !== prevHash) {
        return { ok: false, events: count, firstBad: { seq: e.seq, id: e.id, reason: 'prev_hash does not match the previous event\'s hash' } };
      }
      const { hash: _h, prevHash: _p, ...content } = e;
      if (chainHash(prevHash, canonicalEvent(content)) !== e.hash) {
        return { ok: false, events: count, firstBad: { seq: e.seq, id: e.id, reason: 'the event\'s content does not match its hash (edited)' } };
      }
      prevHash = e.hash;
      expectedSeq += 1;
      count += 1;
    }
  }
  const head = await db.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirst();
  const headSeq = head?.seq ?? 0;
  const headHash = head?.hash ?? GENESIS_HASH;
  if (headSeq !== count || headHash !== prevHash) {
    return { ok: false, events: count, firstBad: { seq: count + 1, id: null, reason: `the chain head names event ${headSeq} but the chain ends at ${count} (truncated or head edited)` } };
  }
  return { ok: true, events: count };
}
