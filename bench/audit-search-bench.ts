// Audit search on a million events (issue 25: "indexed so a query over a million events answers in
// < 200 ms on SQLite"). Fills a fresh SQLite store (migrated like a vault's) with `--events`
// synthetic events, then times each `GET /v1/audit` filter through `searchAudit`, the function the
// route calls (first page, the route's default limit, newest first), `--reps` times each.
//
// The fill is NOT the vault's write path: rows go in with one prepared INSERT in transactions of
// 50,000 (better-sqlite3, synchronous off, the secondary indexes built after the fill), and hash, prev_hash and mac are random hex of the real
// length, not a chain (searching never checks them; `audit verify` on this store would fail). The
// mix of actions, actors, targets, outcomes and addresses is a fleet's: 500 machines reading
// (most events), operators and AI agents writing, rotations, rare critical events.
//
// It also measures what the search indexes cost the write path: `appendAudit` (the real appender)
// in transactions of 100 events, on the filled store, with the indexes of migration 0015 and
// without them (dropped and re-created between rounds, which alternate which goes first).
//
//   npm run bench -- audit-search [--events 1000000] [--reps 15] [--insert-events 2000] [--insert-rounds 4] [--json]
//
// The last stdout line is one JSON object (docs/benchmarks.md lists its fields).
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import SqliteDatabase from 'better-sqlite3';
import { sql } from 'kysely';
import { openStore, SQLITE_FILE_NAME } from '../vault-server/store/open-store.js';
import type { Store } from '../vault-server/store/open-store.js';
import { parseActor, searchAudit } from '../vault-server/modules/audit/audit-search.js';
import type { AuditSearch } from '../vault-server/modules/audit/audit-search.js';
import { appendAudit, timeOrderedUuid } from '../vault-server/modules/audit/audit-store.js';
import { transaction } from '../vault-server/store/locks.js';
import { AUDIT_SEARCH_INDEXES } from '../vault-server/store/migrations/0015-audit-retention-indexes.js';
import { machineInfo } from './support/machine-info.js';
import { flag, median, quantile, round } from './stats.js';

const GOAL_MS = 200;
const DAY = 86_400_000;
const MACHINES = 500;
const PROJECTS = 50;
const SECRETS = 40;

/** A small deterministic generator (mulberry32): the same store on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (n: number): string => randomBytes(n / 2).toString('hex');

interface Row {
  action: string; actorKind: string; actorId: string | null; actorName: string | null; projectId: string | null;
  target: string; outcome: string; ip: string | null;
}

/** One event of the mix (fractions are of all events). */
function event(r: () => number, projectIds: string[]): Row {
  const x = r();
  const p = Math.floor(r() * PROJECTS);
  const s = Math.floor(r() * SECRETS);
  const m = Math.floor(r() * MACHINES);
  const machine = { actorKind: 'machine', actorId: `mid-${m}`, actorName: `m-${String(m).padStart(3, '0')}`, ip: `10.0.${m >> 8}.${m & 255}` };
  const op = Math.floor(r() * 10);
  const operator = { actorKind: 'operator', actorId: `oid-${op}`, actorName: `op-${op}`, ip: `192.168.0.${op + 10}` };
  const secret = { projectId: projectIds[p]!, target: `secret:p${String(p).padStart(2, '0')}/s${String(s).padStart(2, '0')}` };
  const fail = (rate: number, bad: string): string => (r() < rate ? bad : 'success');
  if (x < 0.85) return { action: 'secret.read', ...machine, ...secret, outcome: fail(0.03, 'denied') };
  if (x < 0.90) return { action: 'secret.write', ...(r() < 0.8 ? operator : { actorKind: 'ai_agent', actorId: 'aid-1', actorName: 'bot', ip: '192.168.1.5' }), ...secret, outcome: fail(0.01, 'denied') };
  if (x < 0.93) {
    const a = ['rotation.claim', 'rotation.applied', 'rotation.succeeded', 'rotation.failed'][Math.floor(r() * 4)]!;
    return { action: a, ...machine, ...secret, outcome: a === 'rotation.failed' ? 'failure' : 'success' };
  }
  if (x < 0.95) return { action: r() < 0.5 ? 'grant.add' : 'grant.remove', ...operator, ...secret, outcome: 'success' };
  if (x < 0.97) return { action: 'machine.enroll', ...machine, projectId: null, target: `machine:${machine.actorName}`, outcome: fail(0.05, 'failure') };
  if (x < 0.99) return { action: 'operator.key.use', ...operator, projectId: null, target: `operator:${operator.actorName}`, outcome: 'success' };
  if (x < 0.99998) return { action: 'rotation.no_agent', actorKind: 'system', actorId: null, actorName: null, ip: null, ...secret, outcome: 'success' };
  return { action: r() < 0.5 ? 'canary.tripped' : 'rotation.stuck', ...machine, ...secret, outcome: 'success' };
}

/** Fills the store's file directly: see the file comment (not the vault's write path). */
function fill(file: string, n: number, base: number, spanMs: number, projectIds: string[]): void {
  const db = new SqliteDatabase(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  // The secondary indexes are dropped for the fill and built again after it (a sort each, much
  // faster than a million random B-tree inserts): the same indexes the migrations made.
  const indexes = db.prepare("select name, sql from sqlite_master where type = 'index' and tbl_name = 'audit_events' and sql is not null").all() as Array<{ name: string; sql: string }>;
  for (const { name } of indexes) db.exec(`drop index "${name}"`);
  const insert = db.prepare(`insert into audit_events (seq, id, at, actor_kind, actor_id, action, project_id, target, outcome, source_ip, details, prev_hash, hash, mac, actor_name)
    values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const r = rng(25);
  const chunk = 50_000;
  let prev = '0'.repeat(64);
  for (let from = 1; from <= n; from += chunk) {
    db.transaction(() => {
      for (let seq = from; seq < Math.min(from + chunk, n + 1); seq++) {
        const e = event(r, projectIds);
        const hash = hex(64);
        insert.run(seq, timeOrderedUuid(base + seq), base + Math.floor(((seq - 1) * spanMs) / n), e.actorKind, e.actorId, e.action, e.projectId, e.target, e.outcome, e.ip,
          JSON.stringify({ keyId: hex(16), version: seq % 17 }), prev, hash, hex(64), e.actorName);
        prev = hash;
      }
    })();
    if (from % 200_000 === 1) process.stderr.write(`  filled ${Math.min(from + chunk - 1, n)} of ${n}\n`);
  }
  db.prepare('update audit_head set seq = ?, hash = ? where id = 1').run(n, prev);
  process.stderr.write(`  building ${indexes.length} indexes\n`);
  for (const { sql: ddl } of indexes) db.exec(ddl);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

interface QueryResult { name: string; query: Record<string, unknown>; events: number; has_more: boolean; p50_ms: number; p99_ms: number; met: boolean }

async function timeQuery(store: Store, name: string, query: Record<string, unknown>, search: () => AuditSearch, reps: number): Promise<QueryResult> {
  const samples: number[] = [];
  let events = 0;
  let hasMore = false;
  for (let i = 0; i < reps + 1; i++) {
    const t0 = performance.now();
    const page = await searchAudit(store.db, 'sqlite', search());
    const ms = performance.now() - t0;
    if (i > 0) samples.push(ms); // the first run warms the page cache
    events = page.events.length;
    hasMore = page.hasMore;
  }
  const p99 = quantile(samples, 0.99);
  return { name, query, events, has_more: hasMore, p50_ms: round(median(samples), 2), p99_ms: round(p99, 2), met: p99 < GOAL_MS };
}

/** µs per appended event (appendAudit, transactions of 100) over `n` events. */
async function insertCost(store: Store, n: number, at: number): Promise<number> {
  const t0 = performance.now();
  for (let done = 0; done < n; done += 100) {
    await transaction(store, async (trx) => {
      for (let i = 0; i < 100; i++) {
        await appendAudit(trx, 'sqlite', { actorKind: 'machine', actorId: 'mid-7', actorName: 'm-007', action: 'secret.read', projectId: null, target: 'secret:p01/s01', outcome: 'success', sourceIp: '10.0.0.7', details: { version: i } }, at);
      }
    });
  }
  return ((performance.now() - t0) * 1000) / n;
}

export async function run(args: string[]): Promise<void> {
  const json = args.includes('--json');
  const n = Number(flag(args, 'events', '1000000'));
  const reps = Number(flag(args, 'reps', '15'));
  const insertEvents = Number(flag(args, 'insert-events', '2000'));
  const insertRounds = Number(flag(args, 'insert-rounds', '4'));
  const log = (s: string): void => { process.stderr.write(`${s}\n`); };
  const dir = mkdtempSync(join(tmpdir(), 'sk-audit-bench-'));
  let store: Store | undefined;
  try {
    store = await openStore({ dataDir: dir });
    const projectIds: string[] = [];
    for (let p = 0; p < PROJECTS; p++) {
      const id = randomUUID();
      projectIds.push(id);
      await store.db.insertInto('projects').values({ id, name: `p${String(p).padStart(2, '0')}`, master_key_wrapped: randomBytes(60), key_version: 1, locked_at: null, locked_reason: null, created_at: 0 }).execute();
    }
    await store.close();
    store = undefined;
    const now = Date.now();
    const span = 400 * DAY;
    const base = now - span;
    const t0 = performance.now();
    fill(join(dir, SQLITE_FILE_NAME), n, base, span, projectIds);
    const fillSeconds = round((performance.now() - t0) / 1000, 1);
    log(`filled ${n} events in ${fillSeconds} s`);
    store = await openStore({ dataDir: dir });

    const project = async (name: string): Promise<string> => (await store!.db.selectFrom('projects').select('id').where('name', '=', name).executeTakeFirstOrThrow()).id;
    const p07 = await project('p07');
    const cases: Array<[string, Record<string, unknown>, AuditSearch]> = [
      ['newest first, no filter', {}, {}],
      ['action exact (secret.write)', { action: 'secret.write' }, { action: 'secret.write' }],
      ['action glob (rotation.*)', { action: 'rotation.*' }, { action: 'rotation.*' }],
      ['action glob, most events (secret.*)', { action: 'secret.*' }, { action: 'secret.*' }],
      ['action, rare (canary.tripped)', { action: 'canary.tripped' }, { action: 'canary.tripped' }],
      ['actor (machine:m-042)', { actor: 'machine:m-042' }, parseActor('machine:m-042')],
      ['actor (operator:op-3)', { actor: 'operator:op-3' }, parseActor('operator:op-3')],
      ['actor kind (ai_agent)', { actor: 'ai_agent' }, parseActor('ai_agent')],
      ['outcome (denied)', { outcome: 'denied' }, { outcome: 'denied' }],
      ['outcome (failure)', { outcome: 'failure' }, { outcome: 'failure' }],
      ['severity (warning)', { severity: 'warning' }, { severity: 'warning' }],
      ['severity (critical)', { severity: 'critical' }, { severity: 'critical' }],
      ['target (secret:p07/s03)', { target: 'secret:p07/s03' }, { target: 'secret:p07/s03' }],
      ['target glob (secret:p07/*)', { target: 'secret:p07/*' }, { target: 'secret:p07/*' }],
      ['ip (10.0.1.42)', { ip: '10.0.1.42' }, { ip: '10.0.1.42' }],
      ['project (p07)', { project: 'p07' }, { projectId: p07 }],
      ['since 1h', { since: '1h' }, { sinceMs: now - 3_600_000 }],
      ['one day, 200 days ago', { since: '200d', until: '199d' }, { sinceMs: now - 200 * DAY, untilMs: now - 199 * DAY }],
      ['until 300 days ago', { until: '300d' }, { untilMs: now - 300 * DAY }],
      ['combined (secret.* + machine:m-042 + success + p07)', { action: 'secret.*', actor: 'machine:m-042', outcome: 'success', project: 'p07' },
        { action: 'secret.*', ...parseActor('machine:m-042'), outcome: 'success', projectId: p07 }],
      ['combined (denied + ip + 30 days)', { outcome: 'denied', ip: '10.0.1.42', since: '30d' }, { outcome: 'denied', ip: '10.0.1.42', sinceMs: now - 30 * DAY }],
    ];
    const queries: QueryResult[] = [];
    for (const [name, query, search] of cases) {
      const r = await timeQuery(store, name, query, () => search, reps);
      log(`  ${name}: ${r.events} events${r.has_more ? ' (more)' : ''}, p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms`);
      queries.push(r);
    }
    // The second page of a broad filter: the cursor continues through the same index.
    const first = await searchAudit(store.db, 'sqlite', { outcome: 'denied' });
    const second = await timeQuery(store, 'outcome (denied), page 2 by cursor', { outcome: 'denied', cursor: 'page 2' }, () => ({ outcome: 'denied', cursor: first.nextCursor! }), reps);
    log(`  ${second.name}: ${second.events} events, p50 ${second.p50_ms} ms, p99 ${second.p99_ms} ms`);
    queries.push(second);

    // The write path: appendAudit with and without the 0015 indexes, interleaved rounds.
    const withIdx: number[] = [];
    const withoutIdx: number[] = [];
    const dropIndexes = async (): Promise<void> => { for (const [name] of AUDIT_SEARCH_INDEXES) await sql`drop index ${sql.ref(name)}`.execute(store!.db); };
    const createIndexes = async (): Promise<void> => {
      for (const [name, columns] of AUDIT_SEARCH_INDEXES) await store!.db.schema.createIndex(name).on('audit_events').columns([...columns]).execute();
    };
    for (let round_ = 0; round_ < insertRounds; round_++) {
      // Alternating which goes first, so neither always meets the warmer cache.
      if (round_ % 2 === 0) {
        withIdx.push(await insertCost(store, insertEvents, now));
        await dropIndexes();
        withoutIdx.push(await insertCost(store, insertEvents, now));
        await createIndexes();
      } else {
        await dropIndexes();
        withoutIdx.push(await insertCost(store, insertEvents, now));
        await createIndexes();
        withIdx.push(await insertCost(store, insertEvents, now));
      }
      log(`  insert round ${round_ + 1}: ${round(withIdx.at(-1)!, 1)} µs/event with the 0015 indexes, ${round(withoutIdx.at(-1)!, 1)} µs without`);
    }
    const insert = {
      events_per_round: insertEvents, rounds: insertRounds, events_per_transaction: 100,
      with_indexes_us_per_event: round(median(withIdx), 1), without_indexes_us_per_event: round(median(withoutIdx), 1),
      ratio: round(median(withIdx) / median(withoutIdx), 3),
    };

    const worst = Math.max(...queries.map((q) => q.p99_ms));
    const line = {
      bench: 'audit-search', store: 'sqlite', ...machineInfo(), events: n, fill_seconds: fillSeconds, reps, limit: 'default (1000)',
      goal_ms: GOAL_MS, queries, worst_p99_ms: worst, insert, met: queries.every((q) => q.met),
    };
    if (!json) {
      for (const q of queries) process.stdout.write(`audit-search: ${q.name}: p50 ${q.p50_ms} ms, p99 ${q.p99_ms} ms (${q.events} events${q.has_more ? ', more' : ''}) ${q.met ? 'met' : 'NOT MET'}\n`);
      process.stdout.write(`audit-search: appendAudit ${insert.with_indexes_us_per_event} µs/event with the 0015 indexes, ${insert.without_indexes_us_per_event} without (ratio ${insert.ratio})\n`);
      process.stdout.write(`audit-search: ${n} events, worst p99 ${worst} ms, goal < ${GOAL_MS} ms: ${line.met ? 'met' : 'not met'}\n`);
    }
    process.stdout.write(`${JSON.stringify(line)}\n`);
  } finally {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
