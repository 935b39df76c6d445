/**
 * Searching and paging the audit log (issue 25). One query shape for listings, exports and the
 * sink: filters are ANDed, the answer is ordered by `seq` (newest first unless `order: 'asc'`) and
 * one row more than the page is fetched, so `hasMore` is known without a count. A page ends at a
 * sequence number; the opaque cursor carries it and the direction, so the next page starts
 * exactly after the last event shown, whatever is appended meanwhile (newest first: new events
 * land *before* the first page and never shift what follows).
 *
 * @example
 *   const page = await searchAudit(db, 'sqlite', { action: 'rotation.*', limit: 100 });
 *   if (page.hasMore) await searchAudit(db, 'sqlite', { action: 'rotation.*', cursor: page.nextCursor });
 */
import { sql } from 'kysely';
import type { Expression, ExpressionBuilder, Kysely, SqlBool } from 'kysely';
import { SikkerKeyError } from '../../../protocol/errors.js';
import type { Database } from '../../store/database.js';
import type { Dialect } from '../../store/open-store.js';
import { EVENT_CATALOG, SEVERITIES, severityRank } from '../webhooks/event-catalog.js';
import type { Severity } from '../webhooks/event-catalog.js';
import { fromAuditRow } from './audit-store.js';
import type { ActorKind, Outcome, StoredAuditEvent } from './audit-store.js';

export type AuditOrder = 'asc' | 'desc';
export const ACTOR_KINDS: readonly ActorKind[] = ['operator', 'machine', 'ai_agent', 'system'];
export const OUTCOMES: readonly Outcome[] = ['success', 'denied', 'failure'];

export interface AuditFilter {
  projectId?: string;
  /** A glob: `*` matches any run of characters, everything else itself (`rotation.*`). */
  action?: string;
  actorKind?: ActorKind;
  /** With actorKind: the name recorded at write time (or, for events older than 0014, the current name of their actor id). */
  actorName?: string;
  outcome?: Outcome;
  /** At least this severity (the webhooks catalog; actions outside it are `info`). */
  severity?: Severity;
  /** A glob, like action (`secret:shop/*`). */
  target?: string;
  ip?: string;
  /** Inclusive bounds, ms since the epoch. */
  sinceMs?: number;
  untilMs?: number;
}

export interface AuditSearch extends AuditFilter {
  order?: AuditOrder;
  /** From a previous page's nextCursor; its direction wins over `order`. */
  cursor?: string;
  /** Legacy `?after=N`: events with seq > N, oldest first. */
  afterSeq?: number;
  limit?: number;
}

/** An event as listings show it: the stored event plus its severity and the actor's name. */
export interface AuditEventView extends StoredAuditEvent {
  severity: Severity;
  /** false when actorName is the actor's current name, looked up because the event predates 0014. */
  actorNameRecorded: boolean;
}

export interface AuditPage {
  events: AuditEventView[];
  order: AuditOrder;
  hasMore: boolean;
  /** Present when hasMore: pass it back as `cursor` for the next page. */
  nextCursor?: string;
}

export const MAX_PAGE = 10_000;
export const DEFAULT_PAGE = 1000;

const badCursor = (): SikkerKeyError => new SikkerKeyError('SK_ERR_AUDIT_CURSOR', 'the cursor is not one this vault handed out: pass nextCursor back unchanged');

/** The opaque cursor: direction and the last seq shown, base64url so nobody is tempted to edit it. */
export function encodeCursor(order: AuditOrder, seq: number): string {
  return Buffer.from(`a1.${order === 'asc' ? 'a' : 'd'}.${seq}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): { order: AuditOrder; seq: number } {
  if (cursor.length > 64 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw badCursor();
  const m = /^a1\.([ad])\.(\d{1,16})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  const seq = m ? Number(m[2]) : NaN;
  if (!m || !Number.isSafeInteger(seq)) throw badCursor();
  return { order: m[1] === 'a' ? 'asc' : 'desc', seq };
}

/** The severity of an audit event: the webhooks catalog's, else info. */
export function severityOf(e: { action: string; outcome: string }): Severity {
  const entry = EVENT_CATALOG.find((c) => c.action === e.action && (!c.outcome || c.outcome === e.outcome));
  return entry?.severity ?? 'info';
}

/** `*` → any run; every other character literal, in each dialect's own pattern language. */
function globExpression(eb: ExpressionBuilder<Database, 'audit_events'>, dialect: Dialect, column: 'action' | 'target', glob: string): Expression<SqlBool> {
  if (!glob.includes('*')) return eb(column, '=', glob);
  if (dialect === 'sqlite') {
    // GLOB is case-sensitive like PostgreSQL's LIKE (SQLite's LIKE is not) and can use the index
    // for a literal prefix. `[` and `?` are special to it: brackets make them literal.
    const pattern = glob.replace(/[[?]/g, (c) => `[${c}]`);
    return sql<SqlBool>`${sql.ref(column)} glob ${pattern}`;
  }
  const pattern = glob.replace(/[\\%_]/g, (c) => `\\${c}`).replace(/\*/g, '%');
  return sql<SqlBool>`${sql.ref(column)} like ${pattern} escape '\\'`;
}

const IDENTITY_TABLE = { operator: 'operators', machine: 'machines', ai_agent: 'ai_agents' } as const;

function filterExpression(eb: ExpressionBuilder<Database, 'audit_events'>, dialect: Dialect, f: AuditFilter): Expression<SqlBool> {
  const parts: Array<Expression<SqlBool>> = [];
  if (f.projectId !== undefined) parts.push(eb('project_id', '=', f.projectId));
  if (f.action !== undefined) parts.push(globExpression(eb, dialect, 'action', f.action));
  if (f.target !== undefined) parts.push(globExpression(eb, dialect, 'target', f.target));
  if (f.outcome !== undefined) parts.push(eb('outcome', '=', f.outcome));
  if (f.ip !== undefined) parts.push(eb('source_ip', '=', f.ip));
  if (f.sinceMs !== undefined) parts.push(eb('at', '>=', f.sinceMs));
  if (f.untilMs !== undefined) parts.push(eb('at', '<=', f.untilMs));
  if (f.actorKind !== undefined) {
    parts.push(eb('actor_kind', '=', f.actorKind));
    if (f.actorName !== undefined && f.actorKind !== 'system') {
      const table = IDENTITY_TABLE[f.actorKind];
      // Events written since 0014 match on the recorded name only (a renamed actor's old events
      // keep its old name); older events have none and match on their actor's current name.
      parts.push(eb.or([
        eb('actor_name', '=', f.actorName),
        eb.and([eb('actor_name', 'is', null), eb('actor_id', 'in', eb.selectFrom(table).select('id').where('name', '=', f.actorName))]),
      ]));
    }
  }
  if (f.severity !== undefined && severityRank(f.severity) > 0) {
    const entries = EVENT_CATALOG.filter((c) => severityRank(c.severity) >= severityRank(f.severity!));
    parts.push(eb.or(entries.map((c) => c.outcome ? eb.and([eb('action', '=', c.action), eb('outcome', '=', c.outcome)]) : eb('action', '=', c.action))));
  }
  return eb.and(parts);
}

/** One page of events matching the filter. */
export async function searchAudit(db: Kysely<Database>, dialect: Dialect, q: AuditSearch = {}): Promise<AuditPage> {
  let order: AuditOrder = q.order ?? (q.afterSeq !== undefined ? 'asc' : 'desc');
  let bound: number | undefined = q.afterSeq;
  if (q.cursor !== undefined) {
    const c = decodeCursor(q.cursor);
    order = c.order;
    bound = c.seq;
  }
  const limit = Math.min(Math.max(1, q.limit ?? DEFAULT_PAGE), MAX_PAGE);
  let query = db.selectFrom('audit_events').selectAll().where((eb) => filterExpression(eb, dialect, q));
  if (bound !== undefined) query = query.where('seq', order === 'asc' ? '>' : '<', bound);
  const rows = await query.orderBy('seq', order).limit(limit + 1).execute();
  const hasMore = rows.length > limit;
  const events = await withNames(db, rows.slice(0, limit).map(fromAuditRow));
  const last = events.at(-1);
  return { events, order, hasMore, ...(hasMore && last ? { nextCursor: encodeCursor(order, last.seq) } : {}) };
}

/** Adds severity and, for events written before actor names were recorded, the actor's current name. */
async function withNames(db: Kysely<Database>, events: StoredAuditEvent[]): Promise<AuditEventView[]> {
  const missing = new Map<keyof typeof IDENTITY_TABLE, Set<string>>();
  for (const e of events) {
    if (e.actorName === null && e.actorId !== null && e.actorKind !== 'system') {
      const kind = e.actorKind as keyof typeof IDENTITY_TABLE;
      if (!(kind in IDENTITY_TABLE)) continue;
      (missing.get(kind) ?? missing.set(kind, new Set()).get(kind)!).add(e.actorId);
    }
  }
  const current = new Map<string, string>();
  for (const [kind, ids] of missing) {
    const rows = await db.selectFrom(IDENTITY_TABLE[kind]).select(['id', 'name']).where('id', 'in', [...ids]).execute();
    for (const r of rows) current.set(`${kind}:${r.id}`, r.name);
  }
  return events.map((e) => {
    const recorded = e.actorName !== null;
    const name = recorded ? e.actorName : (e.actorId !== null ? current.get(`${e.actorKind}:${e.actorId}`) ?? null : null);
    return { ...e, actorName: name, actorNameRecorded: recorded, severity: severityOf(e) };
  });
}

/** Parses `KIND` or `KIND:NAME` (the CLI's and the API's `actor`). */
export function parseActor(text: string, code: 'SK_ERR_USAGE' | 'SK_ERR_VALIDATION' = 'SK_ERR_VALIDATION'): { actorKind: ActorKind; actorName?: string } {
  const i = text.indexOf(':');
  const kind = (i < 0 ? text : text.slice(0, i)) as ActorKind;
  const name = i < 0 ? undefined : text.slice(i + 1);
  if (!ACTOR_KINDS.includes(kind) || name === '') {
    throw new SikkerKeyError(code, `actor ${JSON.stringify(text)}: give KIND or KIND:NAME, KIND one of ${ACTOR_KINDS.join(', ')}`);
  }
  return { actorKind: kind, ...(name !== undefined ? { actorName: name } : {}) };
}

export { SEVERITIES };
