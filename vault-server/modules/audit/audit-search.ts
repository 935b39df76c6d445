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

/** A glob's literal text before its first `*`. */
function literalPrefix(glob: string): string {
  const i = glob.indexOf('*');
  return i < 0 ? glob : glob.slice(0, i);
}

/**
 * `*` → any run; every other character literal, in each dialect's own pattern language.
 * `indexable: false` (SQLite) writes the column as `+column`, which SQLite's planner cannot answer
 * from an index: a glob that is not the query's driving filter must not make SQLite walk (and then
 * sort) its whole prefix range when another filter's index gives the order for free.
 */
function globExpression(eb: ExpressionBuilder<Database, 'audit_events'>, dialect: Dialect, column: 'action' | 'target', glob: string, indexable: boolean): Expression<SqlBool> {
  if (!glob.includes('*')) return eb(column, '=', glob);
  if (dialect === 'sqlite') {
    // GLOB is case-sensitive like PostgreSQL's LIKE (SQLite's LIKE is not) and can use the index
    // for a literal prefix. `[` and `?` are special to it: brackets make them literal.
    const pattern = glob.replace(/[[?]/g, (c) => `[${c}]`);
    return indexable ? sql<SqlBool>`${sql.ref(column)} glob ${pattern}` : sql<SqlBool>`+${sql.ref(column)} glob ${pattern}`;
  }
  const pattern = glob.replace(/[\\%_]/g, (c) => `\\${c}`).replace(/\*/g, '%');
  return sql<SqlBool>`${sql.ref(column)} like ${pattern} escape '\\'`;
}

const IDENTITY_TABLE = { operator: 'operators', machine: 'machines', ai_agent: 'ai_agents' } as const;

type Condition = (eb: ExpressionBuilder<Database, 'audit_events'>) => Expression<SqlBool>;

/**
 * How a page is found. One filter *drives*: its index, `(column, seq)`, is walked in seq order and
 * the walk stops after a page; every other filter is checked on the rows walked. A filter that
 * matches several values (an actor's recorded and legacy names, an expanded glob, a severity's
 * actions) drives as one branch per value, and the branches' pages of sequence numbers are merged:
 * one query cannot both match several values of a column and walk its index in seq order. The
 * branches together match exactly what that filter matches.
 *
 * SQLite keeps no statistics here, so its planner cannot tell `source_ip = ?` (a few hundred
 * events) from `outcome = ?` (most of them): the plan names the driver, by how selective each kind
 * of filter is in a real log, and writes the others as `+column` (which SQLite does not answer from
 * an index). PostgreSQL's planner has statistics and gets the filters as written.
 * `orderBySeq: false`: the page is found through `audit_events_at` and sorted (see timeDriven).
 */
interface Plan {
  rest: Condition;
  branches?: Condition[];
  orderBySeq: boolean;
}

/** The drivers, most selective first. */
type Driver = 'actorName' | 'target' | 'ip' | 'action' | 'project' | 'severity' | 'actorKind' | 'outcome';
const DRIVERS: readonly Driver[] = ['actorName', 'target', 'ip', 'action', 'project', 'severity', 'actorKind', 'outcome'];

/** At most this many values of a glob are queried one by one; more and the glob is a plain filter. */
export const MAX_BRANCHES = 64;

/**
 * The distinct values of `column` that `glob` matches, SQLite only (its BINARY collation keeps
 * every value with the glob's literal prefix in one index range): a skip scan, one index seek per
 * value, so a glob over a million events costs as many seeks as it has distinct values.
 * Undefined past {@link MAX_BRANCHES} values.
 */
async function globValues(db: Kysely<Database>, column: 'action' | 'target', glob: string): Promise<string[] | undefined> {
  const prefix = literalPrefix(glob);
  const values: string[] = [];
  let after: string | undefined;
  for (let seeks = 0; seeks < MAX_BRANCHES * 4; seeks++) {
    const row = await db.selectFrom('audit_events').select(column).where(column, after === undefined ? '>=' : '>', after ?? prefix)
      .orderBy(column, 'asc').limit(1).executeTakeFirst();
    const value = row?.[column];
    if (value === undefined || !value.startsWith(prefix)) return values;
    if (globMatches(glob, value)) {
      values.push(value);
      if (values.length > MAX_BRANCHES) return undefined;
    }
    after = value;
  }
  return undefined;
}

/**
 * Whether `value` matches `glob`, whose only wildcard is `*` (any run of characters): the
 * two-pointer match, at most |glob|·|value| steps. A RegExp made of the glob (`.*` per star)
 * backtracks exponentially: `*********#` against a 48-character target took 90 s of the event loop.
 */
export function globMatches(glob: string, value: string): boolean {
  let g = 0;
  let v = 0;
  let star = -1;
  let resume = 0;
  while (v < value.length) {
    if (g < glob.length && glob[g] === '*') {
      star = g++;
      resume = v;
    } else if (g < glob.length && glob[g] === value[v]) {
      g++;
      v++;
    } else if (star !== -1) {
      g = star + 1;
      v = ++resume;
    } else {
      return false;
    }
  }
  while (g < glob.length && glob[g] === '*') g++;
  return g === glob.length;
}

/** A column reference; in SQLite, unless it drives, `+column`: the same value, never looked up through an index. */
function col(dialect: Dialect, column: 'action' | 'target' | 'outcome' | 'source_ip' | 'project_id' | 'actor_kind' | 'actor_name' | 'actor_id' | 'at', drives: boolean): Expression<unknown> {
  return dialect === 'sqlite' && !drives ? sql`+${sql.ref(column)}` : sql.ref(column);
}

/**
 * With only time bounds to go by (SQLite): walking the primary key newest first costs the events
 * newer than the window and a page (or, when the window holds less than a page, every event);
 * `audit_events_at` costs the events in it (then sorted by seq). Two index
 * seeks find the sequence numbers at the window's ends, which tell both sizes when clocks only go
 * forward; when they did not, the guess is off but the answer is the same.
 */
async function timeDriven(db: Kysely<Database>, f: AuditFilter, order: AuditOrder, limit: number): Promise<boolean> {
  const seqAt = async (op: '>=' | '<=', at: number): Promise<number | undefined> => {
    const row = await db.selectFrom('audit_events').select('seq').where('at', op, at).orderBy('at', op === '>=' ? 'asc' : 'desc').limit(1).executeTakeFirst();
    return row ? Number(row.seq) : undefined;
  };
  const head = Number((await db.selectFrom('audit_head').select('seq').where('id', '=', 1).executeTakeFirst())?.seq ?? 0);
  const first = f.sinceMs !== undefined ? await seqAt('>=', f.sinceMs) : 1;
  const last = f.untilMs !== undefined ? await seqAt('<=', f.untilMs) : head;
  if (first === undefined || last === undefined) return true; // an empty window: the index says so at once
  const window = Math.max(0, last - first + 1);
  const outside = order === 'desc' ? head - last : first - 1;
  // The key walk stops after a page only if the window holds one; otherwise it reads everything.
  const walk = window > limit ? outside + limit + 1 : head;
  return window < walk;
}

async function plan(db: Kysely<Database>, dialect: Dialect, f: AuditFilter, order: AuditOrder, limit: number): Promise<Plan> {
  // Each filter present: how it reads when it drives and when it does not; branches if several values.
  const filters = new Map<Driver, { cond: (drives: boolean) => Condition; branches?: () => Promise<Condition[] | undefined> }>();
  const eq = (column: Parameters<typeof col>[1], value: string) => (drives: boolean): Condition => (eb) => eb(col(dialect, column, drives), '=', value);
  if (f.projectId !== undefined) filters.set('project', { cond: eq('project_id', f.projectId) });
  if (f.outcome !== undefined) filters.set('outcome', { cond: eq('outcome', f.outcome) });
  if (f.ip !== undefined) filters.set('ip', { cond: eq('source_ip', f.ip) });
  if (f.actorKind !== undefined) {
    const kind = f.actorKind;
    filters.set('actorKind', { cond: eq('actor_kind', kind) });
    if (f.actorName !== undefined && kind !== 'system') {
      const name = f.actorName;
      // Events written since 0014 match on the recorded name only (a renamed actor's old events
      // keep its old name); older events have none and match on their actor's current name.
      const legacyIds = (await db.selectFrom(IDENTITY_TABLE[kind]).select('id').where('name', '=', name).execute()).map((r) => r.id);
      const branch = (drives: boolean): Condition[] => [
        (eb) => eb(col(dialect, 'actor_name', drives), '=', name),
        ...legacyIds.map((id): Condition => (eb) => eb.and([eb(col(dialect, 'actor_id', drives), '=', id), eb(col(dialect, 'actor_name', false), 'is', null)])),
      ];
      filters.set('actorName', { cond: (drives) => (eb) => eb.or(branch(drives).map((c) => c(eb))), branches: async () => branch(true) });
    }
  }
  for (const [driver, column, glob] of [['target', 'target', f.target], ['action', 'action', f.action]] as const) {
    if (glob === undefined) continue;
    if (!glob.includes('*')) {
      filters.set(driver, { cond: eq(column, glob) });
    } else {
      filters.set(driver, {
        cond: () => (eb) => globExpression(eb, dialect, column, glob, false),
        // Only SQLite's byte order keeps a prefix's values together (see globValues).
        ...(dialect === 'sqlite' ? { branches: async () => (await globValues(db, column, glob))?.map((v): Condition => (eb) => eb(column, '=', v)) } : {}),
      });
    }
  }
  if (f.severity !== undefined && severityRank(f.severity) > 0) {
    const entries = EVENT_CATALOG.filter((c) => severityRank(c.severity) >= severityRank(f.severity!));
    const each = (drives: boolean): Condition[] => entries.map((c): Condition => (eb) => (c.outcome
      ? eb.and([eb(col(dialect, 'action', drives), '=', c.action), eb(col(dialect, 'outcome', false), '=', c.outcome)])
      : eb(col(dialect, 'action', drives), '=', c.action)));
    filters.set('severity', { cond: (drives) => (eb) => eb.or(each(drives).map((c) => c(eb))), branches: async () => each(true) });
  }

  let driver: Driver | undefined;
  let branches: Condition[] | undefined;
  for (const d of DRIVERS) {
    const entry = filters.get(d);
    if (!entry) continue;
    if (entry.branches) {
      branches = await entry.branches();
      if (!branches) continue; // a glob of too many values: a plain filter
    }
    driver = d;
    break;
  }
  const time = f.sinceMs !== undefined || f.untilMs !== undefined;
  let byTime = dialect === 'sqlite' && driver === undefined && time && await timeDriven(db, f, order, limit);
  const parts: Condition[] = [];
  if (byTime) {
    // The window's events, counted from `audit_events_at` alone (no row is read): when they are
    // exactly the sequence numbers from the smallest to the largest (clocks went forward while
    // they were written, as they do), the window is that range of the primary key, walked in
    // order; otherwise the time index's events are sorted.
    let window = db.selectFrom('audit_events').select((eb) => [eb.fn.min('seq').as('first'), eb.fn.max('seq').as('last'), eb.fn.countAll().as('n')]);
    if (f.sinceMs !== undefined) window = window.where('at', '>=', f.sinceMs);
    if (f.untilMs !== undefined) window = window.where('at', '<=', f.untilMs);
    const w = await window.executeTakeFirst();
    const [first, last, n] = [Number(w?.first ?? 0), Number(w?.last ?? 0), Number(w?.n ?? 0)];
    if (n > 0 && last - first + 1 === n) {
      byTime = false;
      parts.push((eb) => eb.and([eb('seq', '>=', first), eb('seq', '<=', last)]));
    }
  }
  for (const [d, entry] of filters) if (d !== driver || !branches) parts.push(entry.cond(d === driver));
  if (f.sinceMs !== undefined) parts.push((eb) => eb(col(dialect, 'at', byTime), '>=', f.sinceMs!));
  if (f.untilMs !== undefined) parts.push((eb) => eb(col(dialect, 'at', byTime), '<=', f.untilMs!));
  const rest: Condition = (eb) => eb.and(parts.map((p) => p(eb)));
  return { rest, ...(driver && branches ? { branches } : {}), orderBySeq: !byTime };
}

/**
 * One page of events matching the filter. First the page's sequence numbers (each branch of the
 * plan walks an index in seq order and stops after a page; the pages are merged), then the rows.
 */
export async function searchAudit(db: Kysely<Database>, dialect: Dialect, q: AuditSearch = {}): Promise<AuditPage> {
  let order: AuditOrder = q.order ?? (q.afterSeq !== undefined ? 'asc' : 'desc');
  let bound: number | undefined = q.afterSeq;
  if (q.cursor !== undefined) {
    const c = decodeCursor(q.cursor);
    order = c.order;
    bound = c.seq;
  }
  const limit = Math.min(Math.max(1, q.limit ?? DEFAULT_PAGE), MAX_PAGE);
  const p = await plan(db, dialect, q, order, limit);
  const want = limit + 1;
  const fetch = async (branch: Condition | undefined, from: number | undefined, n: number): Promise<number[]> => {
    let query = db.selectFrom('audit_events').select('seq').where((eb) => (branch ? eb.and([branch(eb), p.rest(eb)]) : p.rest(eb)));
    if (from !== undefined) query = query.where('seq', order === 'asc' ? '>' : '<', from);
    // `+seq` (SQLite): the primary key's order cannot answer it, so the time index is used and sorted.
    const by = p.orderBySeq ? sql.ref('seq') : sql`+${sql.ref('seq')}`;
    return (await query.orderBy(by, order).limit(n).execute()).map((r) => Number(r.seq));
  };
  const before = (a: number, b: number): boolean => (order === 'asc' ? a < b : a > b);
  let seqs: number[];
  if (!p.branches) {
    seqs = await fetch(undefined, bound, want);
  } else {
    // A k-way merge fetched in chunks: a branch is asked for more only while its last fetched
    // event comes before the page's last candidate (what it has not fetched yet comes after its
    // last, so it cannot change the page otherwise). Branches of an even mix each give about
    // their share of a page instead of a page each.
    const chunk = Math.min(want, Math.max(32, Math.ceil((2 * want) / p.branches.length)));
    const state = p.branches.map((branch) => ({ branch, got: [] as number[], done: false }));
    let merged: number[] = [];
    for (;;) {
      const cut = merged.length >= want ? merged[want - 1]! : undefined;
      const needed = state.filter((b) => !b.done && (b.got.length === 0 || cut === undefined || before(b.got.at(-1)!, cut)));
      if (needed.length === 0) break;
      await Promise.all(needed.map(async (b) => {
        const rows = await fetch(b.branch, b.got.length > 0 ? b.got.at(-1) : bound, chunk);
        b.got.push(...rows);
        if (rows.length < chunk) b.done = true;
      }));
      merged = [...new Set(state.flatMap((b) => b.got))].sort((a, b) => (order === 'asc' ? a - b : b - a));
    }
    seqs = merged.slice(0, want);
  }
  const hasMore = seqs.length > limit;
  const shown = seqs.slice(0, limit);
  const rows = [];
  for (let i = 0; i < shown.length; i += 500) {
    rows.push(...await db.selectFrom('audit_events').selectAll().where('seq', 'in', shown.slice(i, i + 500)).orderBy('seq', order).execute());
  }
  rows.sort((a, b) => (order === 'asc' ? Number(a.seq) - Number(b.seq) : Number(b.seq) - Number(a.seq)));
  const events = await withNames(db, rows.map(fromAuditRow));
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
