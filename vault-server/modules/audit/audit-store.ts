import { createHmac, randomUUID, timingSafeEqual, verify } from 'node:crypto';
import { checkpointMessage, pruneBoundaryMessage } from '../../../protocol/audit-checkpoint.js';
import type { KeyObject } from 'node:crypto';
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Database, NewRow, Row } from '../../store/database.js';
import type { BatchScope } from '../../store/group-commit.js';
import type { Dialect } from '../../store/open-store.js';
import { forUpdate } from '../../store/locks.js';
import { GENESIS_HASH, canonicalEvent, chainHash, eventMac } from './audit-chain.js';
import type { ActorKind, AuditEvent, Outcome, StoredAuditEvent } from './audit-chain.js';

export { GENESIS_HASH, canonicalEvent, chainHash, eventMac } from './audit-chain.js';
export type { ActorKind, AuditEvent, Outcome, StoredAuditEvent } from './audit-chain.js';

/**
 * The audit keys, unwrapped (see audit-keys.ts): the HMAC key every event's hash is MAC'd with,
 * the Ed25519 key checkpoints are signed with, and the first event the MACs cover.
 */
export interface AuditKeys {
  version: number;
  macKey: Buffer;
  signingKey: KeyObject;
  /** The raw 32-byte public half of signingKey. */
  publicKey: Buffer;
  /** Events from this seq on carry a MAC (1 unless a broken chain was accepted when the keys were made). */
  keyedFrom: number;
}

/** The head's MAC, domain-separated from the events' so no event MAC can be copied onto the head. */
export function headMac(macKey: Buffer, seq: number, hash: string): string {
  return createHmac('sha256', macKey).update(`sk/audit-head/v1\n${seq}\n${hash}`).digest('hex');
}

function macEquals(a: string | null, b: string): boolean {
  if (a === null || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/**
 * A UUIDv7 (RFC 9562: 48-bit millisecond time, then random bits): events' ids sort by time, so the
 * unique index on `audit_events.id` grows at its end instead of touching a random page per event.
 */
export function timeOrderedUuid(nowMs: number): string {
  const time = Math.max(0, Math.floor(nowMs)).toString(16).padStart(12, '0').slice(-12);
  const random = randomUUID();
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${random.slice(15)}`;
}

/** The event as stored, its row, and the head it leaves (shared by both appenders below). */
function chainEvent(prev: { seq: number; hash: string }, event: AuditEvent, nowMs: number, keys: AuditKeys | undefined, withHeadMac = true): { stored: StoredAuditEvent; row: NewRow<'audit_events'>; headMacValue: string | null } {
  const content: Omit<StoredAuditEvent, 'hash' | 'prevHash' | 'mac'> = {
    seq: prev.seq + 1,
    id: timeOrderedUuid(nowMs),
    at: nowMs,
    actorKind: event.actorKind,
    actorId: event.actorId,
    action: event.action,
    projectId: event.projectId ?? null,
    target: event.target,
    outcome: event.outcome,
    sourceIp: event.sourceIp ?? null,
    details: event.details ?? {},
    actorName: event.actorName ?? null,
  };
  const hash = chainHash(prev.hash, canonicalEvent(content));
  const mac = keys ? eventMac(keys.macKey, hash) : null;
  const row: NewRow<'audit_events'> = {
    seq: content.seq, id: content.id, at: content.at, actor_kind: content.actorKind, actor_id: content.actorId,
    action: content.action, project_id: content.projectId, target: content.target, outcome: content.outcome,
    source_ip: content.sourceIp, details: JSON.stringify(content.details), prev_hash: prev.hash, hash,
    ...(content.actorName !== null ? { actor_name: content.actorName } : {}),
    // Without keys the mac column is not named at all (the unkeyed writer of a pre-0004 store).
    ...(keys ? { mac } : {}),
  };
  return { stored: { ...content, prevHash: prev.hash, hash, mac }, row, headMacValue: keys && withHeadMac ? headMac(keys.macKey, content.seq, hash) : null };
}

/**
 * Appends one event inside the caller's transaction. The chain head row is taken exclusively
 * (PostgreSQL FOR UPDATE; SQLite's write transactions already hold the one writer lock), always
 * after any project rows the caller locked, so chains never fork and lock orders never deadlock.
 * Inside a group-commit batch use {@link appendAuditInBatch}: the batch holds the head.
 */
export async function appendAudit(trx: Kysely<Database>, dialect: Dialect, event: AuditEvent, nowMs = Date.now(), keys?: AuditKeys): Promise<StoredAuditEvent> {
  const head = await forUpdate(dialect, trx.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1)).executeTakeFirst();
  const { stored, row, headMacValue } = chainEvent({ seq: head?.seq ?? 0, hash: head?.hash ?? GENESIS_HASH }, event, nowMs, keys);
  const hmac = keys ? { mac: headMacValue } : {};
  await trx.insertInto('audit_events').values(row).execute();
  if (head) {
    await trx.updateTable('audit_head').set({ seq: stored.seq, hash: stored.hash, ...hmac }).where('id', '=', 1).execute();
  } else {
    await trx.insertInto('audit_head').values({ id: 1, seq: stored.seq, hash: stored.hash, ...hmac }).execute();
  }
  return stored;
}

/** The chain head as a batch holds it (store/group-commit.ts). */
interface HeldHead {
  exists: boolean;
  loadedSeq: number;
  seq: number;
  hash: string;
  /** The keys the last event appended was MAC'd with (the head's MAC is computed once, before COMMIT). */
  keys: AuditKeys | undefined;
}

const HEAD_KEY = {};

const SELECT_HEAD = 'select seq, hash from audit_head where id = 1';
const UPDATE_HEAD = 'update audit_head set seq = ?, hash = ? where id = 1';
const UPDATE_HEAD_MAC = 'update audit_head set seq = ?, hash = ?, mac = ? where id = 1';
const INSERT_EVENT = `insert into audit_events (seq, id, at, actor_kind, actor_id, action, project_id, target, outcome, source_ip, details, prev_hash, hash, mac, actor_name)
  values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/**
 * The batch prologue: takes the chain head (FOR UPDATE on PostgreSQL, outside every job's
 * savepoint so a job's rollback cannot release it) and writes it back once, before COMMIT, if any
 * job appended. Every event of the batch chains in order onto the head held in memory.
 */
export async function holdAuditHead(trx: Kysely<Database>, dialect: Dialect, scope: BatchScope): Promise<void> {
  const hot = scope.hot;
  const head = hot
    ? hot.get<{ seq: number; hash: string }>(SELECT_HEAD)
    : await forUpdate(dialect, trx.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1)).executeTakeFirst();
  const held: HeldHead = { exists: head !== undefined, loadedSeq: Number(head?.seq ?? 0), seq: Number(head?.seq ?? 0), hash: head?.hash ?? GENESIS_HASH, keys: undefined };
  scope.state.set(HEAD_KEY, held);
  scope.beforeCommit(async () => {
    if (held.seq === held.loadedSeq) return;
    const mac = held.keys ? headMac(held.keys.macKey, held.seq, held.hash) : undefined;
    if (held.exists && hot) {
      hot.run(mac !== undefined ? UPDATE_HEAD_MAC : UPDATE_HEAD, mac !== undefined ? [held.seq, held.hash, mac] : [held.seq, held.hash]);
      return;
    }
    const hmac = mac !== undefined ? { mac } : {};
    if (held.exists) await trx.updateTable('audit_head').set({ seq: held.seq, hash: held.hash, ...hmac }).where('id', '=', 1).execute();
    else await trx.insertInto('audit_head').values({ id: 1, seq: held.seq, hash: held.hash, ...hmac }).execute();
  });
}

/** Appends one event in a batch whose prologue ran {@link holdAuditHead}; a job rollback takes it back out of the head. */
export async function appendAuditInBatch(trx: Kysely<Database>, scope: BatchScope, event: AuditEvent, nowMs = Date.now(), keys?: AuditKeys): Promise<StoredAuditEvent> {
  const held = scope.state.get(HEAD_KEY) as HeldHead | undefined;
  if (!held) throw new Error('appendAuditInBatch needs a batch that holds the audit head (holdAuditHead)');
  const { stored, row } = chainEvent(held, event, nowMs, keys, false);
  const params = [stored.seq, stored.id, stored.at, stored.actorKind, stored.actorId, stored.action, stored.projectId, stored.target, stored.outcome, stored.sourceIp,
    row.details, stored.prevHash, stored.hash, stored.mac, stored.actorName];
  if (scope.hot) scope.hot.run(INSERT_EVENT, params);
  // A fixed statement (no query building): every read appends one.
  else await sql`insert into audit_events (seq, id, at, actor_kind, actor_id, action, project_id, target, outcome, source_ip, details, prev_hash, hash, mac, actor_name)
    values (${stored.seq}, ${stored.id}, ${stored.at}, ${stored.actorKind}, ${stored.actorId}, ${stored.action}, ${stored.projectId}, ${stored.target}, ${stored.outcome}, ${stored.sourceIp}, ${row.details}, ${stored.prevHash}, ${stored.hash}, ${stored.mac}, ${stored.actorName})`.execute(trx);
  const before = { seq: held.seq, hash: held.hash, keys: held.keys };
  scope.onRollback(() => Object.assign(held, before));
  held.seq = stored.seq;
  held.hash = stored.hash;
  held.keys = keys;
  return stored;
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
  return rows.map(fromAuditRow);
}

export function fromAuditRow(r: Row<'audit_events'>): StoredAuditEvent {
  return {
    seq: Number(r.seq), id: r.id, at: Number(r.at), actorKind: r.actor_kind as ActorKind, actorId: r.actor_id,
    action: r.action, projectId: r.project_id, target: r.target, outcome: r.outcome as Outcome, sourceIp: r.source_ip,
    details: parseDetails(r.details), prevHash: r.prev_hash, hash: r.hash, mac: r.mac ?? null, actorName: r.actor_name ?? null,
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

/** A retention boundary as `audit_prunes` holds it (audit-retention.ts). */
export type PruneBoundary = Pick<Row<'audit_prunes'>, 'first_seq' | 'last_seq' | 'hash' | 'at' | 'signature' | 'public_key'>;

/**
 * Which message a retention boundary's signature verifies over with this vault's audit key:
 * 'v1', pruneBoundaryMessage (what every prune writes now); 'legacy', checkpointMessage(last_seq,
 * hash, at) (what prunes wrote before the boundary had its own domain); undefined, neither.
 *
 * A legacy signature proves nothing on its own: checkpointMessage is also what every head
 * checkpoint is signed over (`GET /v1/audit/head`, the backup head a restore stores in its
 * vault.restored event), so whoever can write the database could copy one into audit_prunes and
 * delete the events up to it. A boundary of either format is accepted only together with the
 * MAC'd audit.pruned event its prune appended ({@link recordsBoundary}); for a legacy one that
 * event is the only thing telling it from a copied head checkpoint.
 */
export function boundarySignature(row: PruneBoundary, keys: AuditKeys): 'v1' | 'legacy' | undefined {
  if (row.public_key !== keys.publicKey.toString('base64')) return undefined;
  const signed = (message: Buffer): boolean => {
    try {
      return verify(null, message, keys.signingKey, Buffer.from(row.signature, 'base64'));
    } catch {
      return false;
    }
  };
  if (signed(pruneBoundaryMessage(Number(row.first_seq), Number(row.last_seq), row.hash, Number(row.at)))) return 'v1';
  if (signed(checkpointMessage(Number(row.last_seq), row.hash, Number(row.at)))) return 'legacy';
  return undefined;
}

/** Whether `e` is the audit.pruned event the prune that wrote boundary `row` appended (the caller checks its hash and MAC). */
export function recordsBoundary(e: StoredAuditEvent, row: PruneBoundary): boolean {
  return e.action === 'audit.pruned' && e.actorKind === 'system' && e.outcome === 'success' && e.seq > Number(row.last_seq)
    && e.details.firstSeq === Number(row.first_seq) && e.details.lastSeq === Number(row.last_seq) && e.details.boundaryHash === row.hash;
}

/** One event on its own: its content matches its hash and its hash its MAC. */
function authentic(e: StoredAuditEvent, keys: AuditKeys): boolean {
  const { hash: _h, prevHash: _p, mac: _m, ...content } = e;
  return chainHash(e.prevHash, canonicalEvent(content)) === e.hash && macEquals(e.mac, eventMac(keys.macKey, e.hash));
}

/**
 * `vault_meta.audit_keyed_from` is not MAC'd: a value above 1 is believed only when event
 * `keyedFrom` (passed as `e`) is the authentic `audit.keys.created` event that names it. Without
 * that, whoever can write the database could raise it so the events below go unchecked (verify
 * skips them, retention prunes them unchecked). Undefined when it is; otherwise why not.
 */
export function keyedFromProblem(e: StoredAuditEvent | undefined, keys: AuditKeys): string | undefined {
  const keyedFrom = keys.keyedFrom;
  if (keyedFrom <= 1) return undefined;
  if (!e) return `event ${keyedFrom}, where the keyed chain starts (vault_meta.audit_keyed_from), is missing`;
  if (e.seq !== keyedFrom || e.action !== 'audit.keys.created' || e.details.keyedFrom !== keyedFrom || !authentic(e, keys)) {
    return `event ${keyedFrom} is not the MAC'd audit.keys.created event that started the keyed chain (vault_meta.audit_keyed_from was changed?)`;
  }
  return undefined;
}

/**
 * Retention's check of the boundary it is about to prune on from (the newest one): signed by this
 * vault ({@link boundarySignature}) and recorded by an authentic audit.pruned event after it
 * ({@link recordsBoundary}). Undefined when it holds; otherwise why not.
 */
export async function pruneBoundaryProblem(db: Kysely<Database>, keys: AuditKeys, row: PruneBoundary): Promise<string | undefined> {
  const last = Number(row.last_seq);
  if (!boundarySignature(row, keys)) return `the retention boundary at event ${last} is not signed by this vault's audit key (forged or edited)`;
  // audit_events_action_seq: only the sweeps whose audit.pruned events are still kept.
  const events = await db.selectFrom('audit_events').selectAll().where('action', '=', 'audit.pruned').where('seq', '>', last).orderBy('seq', 'asc').execute();
  if (!events.map(fromAuditRow).some((e) => recordsBoundary(e, row) && e.seq >= keys.keyedFrom && authentic(e, keys))) {
    return `no MAC'd audit.pruned event records the retention boundary at event ${last} (it was not written by a retention sweep)`;
  }
  return undefined;
}

export interface ChainReport {
  ok: boolean;
  events: number;
  /** How many events' MACs were checked (absent when verified without the keys). */
  macs?: number;
  /** Events before this seq predate the audit keys and a broken chain was accepted: not verified. */
  unverifiedBefore?: number;
  /** Events retention pruned (all sweeps): the chain was verified from the signed boundary after lastSeq. */
  pruned?: { firstSeq: number; lastSeq: number; prunedAt: number; events: number; sweeps: number };
  /** The first event that does not fit the chain, and why. */
  firstBad?: { seq: number; id: string | null; reason: string };
}

/**
 * Walks the whole chain in pages: sequence numbers must run 1, 2, 3… with no gap (deletion,
 * reordering), each prev_hash must be its predecessor's hash and each hash must match the event's
 * content (edits), and the head must name the last event (truncation).
 *
 * With the audit keys it also checks every event's MAC from `keys.keyedFrom` on, and the head's
 * MAC: an editor who deletes or edits events and re-hashes the rest cannot forge those without
 * the MAC key, which only the root key opens. When a broken chain was accepted as the keys were
 * made (keyedFrom > 1), the events before keyedFrom are not checked (reported as
 * `unverifiedBefore`), and the event at keyedFrom must be the MAC'd `audit.keys.created` event
 * that says so.
 *
 * After retention the chain is checked from the newest boundary in `audit_prunes`: its signature
 * must verify with the vault's audit key ({@link boundarySignature}) and the kept chain must hold
 * the (MAC'd) audit.pruned event its prune appended, naming the same range and hash
 * ({@link recordsBoundary}); a head checkpoint copied into audit_prunes has neither the boundary's
 * own signed message nor that event.
 */
export async function verifyAuditChain(db: Kysely<Database>, keys?: AuditKeys): Promise<ChainReport> {
  const keyedFrom = keys?.keyedFrom ?? 1;
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let count = 0;
  let macs = 0;
  let pruned: ChainReport['pruned'];
  let boundaryRecorded = false;
  const extra = (): Partial<ChainReport> => ({
    ...(keys ? { macs } : {}), ...(keyedFrom > 1 && !pruned ? { unverifiedBefore: keyedFrom } : {}), ...(pruned ? { pruned } : {}),
  });
  const fail = (seq: number, id: string | null, reason: string): ChainReport => ({ ok: false, events: count - (pruned?.lastSeq ?? 0), ...extra(), firstBad: { seq, id, reason } });
  // Retention (audit-retention.ts): the kept chain starts after the newest signed boundary.
  const boundary = await db.selectFrom('audit_prunes').selectAll().orderBy('last_seq', 'desc').limit(1).executeTakeFirst();
  if (boundary) {
    const last = Number(boundary.last_seq);
    const first = await db.selectFrom('audit_prunes').select((eb) => [eb.fn.min('first_seq').as('first'), eb.fn.countAll().as('sweeps'), eb.fn.sum('events').as('events')]).executeTakeFirstOrThrow();
    pruned = { firstSeq: Number(first.first), lastSeq: last, prunedAt: Number(boundary.pruned_at), events: Number(first.events), sweeps: Number(first.sweeps) };
    // Either signature format; a legacy one (checkpointMessage, the head checkpoints' message) is
    // accepted only because the audit.pruned event is required below as well.
    if (keys && !boundarySignature(boundary, keys)) {
      return fail(last, null, `the retention checkpoint at event ${last} is not signed by this vault's audit key (forged or edited)`);
    }
    expectedSeq = last + 1;
    prevHash = boundary.hash;
    count = last;
  }
  if (keyedFrom > 1 && expectedSeq < keyedFrom) {
    // Skip the accepted, unverifiable prefix: the chain is checked from the keys-created event on.
    const start = await db.selectFrom('audit_events').selectAll().where('seq', '=', keyedFrom).executeTakeFirst();
    const e = start ? fromAuditRow(start) : undefined;
    const problem = keyedFromProblem(e, keys!);
    if (problem || !e) return fail(keyedFrom, e?.id ?? null, problem ?? `event ${keyedFrom} is missing`);
    expectedSeq = keyedFrom;
    prevHash = e.prevHash;
    count = keyedFrom - 1;
  }
  for (;;) {
    const page = await db.selectFrom('audit_events').selectAll().where('seq', '>=', expectedSeq).orderBy('seq', 'asc').limit(2000).execute();
    if (page.length === 0) break;
    for (const row of page) {
      const e = fromAuditRow(row);
      if (e.seq !== expectedSeq) {
        return fail(expectedSeq, null, `event ${expectedSeq} is missing (next present is ${e.seq})`);
      }
      if (e.prevHash !== prevHash) {
        return fail(e.seq, e.id, 'prev_hash does not match the previous event\'s hash');
      }
      const { hash: _h, prevHash: _p, mac: _m, ...content } = e;
      if (chainHash(prevHash, canonicalEvent(content)) !== e.hash) {
        return fail(e.seq, e.id, 'the event\'s content does not match its hash (edited)');
      }
      if (keys && e.seq >= keyedFrom) {
        if (!macEquals(e.mac, eventMac(keys.macKey, e.hash))) {
          return fail(e.seq, e.id, e.mac === null
            ? 'the event has no MAC (written or rewritten without the audit key)'
            : 'the event\'s MAC does not match its hash (the chain was rewritten without the audit key)');
        }
        macs += 1;
      }
      // The boundary's own audit.pruned event (MAC'd, checked just above, when verified with the keys).
      if (boundary && !boundaryRecorded && recordsBoundary(e, boundary) && (!keys || e.seq >= keyedFrom)) boundaryRecorded = true;
      prevHash = e.hash;
      expectedSeq += 1;
      count += 1;
    }
  }
  const head = await db.selectFrom('audit_head').selectAll().where('id', '=', 1).executeTakeFirst();
  const headSeq = head ? Number(head.seq) : 0;
  const headHash = head?.hash ?? GENESIS_HASH;
  if (headSeq !== count || headHash !== prevHash) {
    return fail(count + 1, null, `the chain head names event ${headSeq} but the chain ends at ${count} (truncated or head edited)`);
  }
  if (keys && count >= keyedFrom && !macEquals(head?.mac ?? null, headMac(keys.macKey, headSeq, headHash))) {
    return fail(headSeq, null, 'the chain head\'s MAC is wrong (the head was moved without the audit key: truncation)');
  }
  if (boundary && !boundaryRecorded) {
    const last = Number(boundary.last_seq);
    return fail(last, null, `no MAC'd audit.pruned event in the kept chain records the retention checkpoint at event ${last} (it was not written by a retention sweep: a head checkpoint copied into audit_prunes?)`);
  }
  return { ok: true, events: count - (pruned?.lastSeq ?? 0), ...extra() };
}
