/**
 * `GET /v1/overview` (issue 29): the dashboard's first page in one answer — the vault's health,
 * rotations due / running / failing, the last canary trips, the rotation agents and when they were
 * last seen, and the machines waiting for approval. Counts and names only: never a value, never a
 * key. A fixed set of queries whatever the size of the vault (counts in SQL; the agent list and the
 * lists of names are bounded).
 *
 * @example
 *   const o = await overview(ctx);   // o.rotations.running, o.canaries.lastTrips[0]?.canary, …
 */
import { sql } from 'kysely';
import type { VaultContext } from '../../context.js';
import { readiness } from '../health/health-service.js';
import type { Readiness } from '../health/health-service.js';
import { packageVersion } from '../../http/openapi.js';

/** Trips, agents and pending machines listed at most (the counts are complete). */
export const OVERVIEW_LIST_LIMIT = { trips: 5, agents: 20, pending: 10 } as const;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** An agent seen within this long is `online` (its long-poll renews last-seen every minute or so). */
export const AGENT_ONLINE_MS = 5 * 60_000;

export interface Overview {
  generatedAt: number;
  health: { ready: boolean; version: string } & Readiness['checks'];
  rotations: {
    /** Rotation policies: all, and paused ones (enabled false). */
    policies: number;
    paused: number;
    /** Rotate/retire jobs pending and due now: waiting for an agent to claim them. */
    dueNow: number;
    /** Enabled policies whose schedule runs within the next 24 h. */
    dueNext24h: number;
    /** Jobs an agent holds (claimed or applied). */
    running: number;
    /** Jobs stuck: an operator must resolve them (`rotation resolve`). */
    stuck: number;
    /** Policies marked failing (consecutive failures, or an undo the database refused). */
    failing: number;
    /** Policies whose drift probe finds the live credential refused. */
    drifting: number;
    /** Rotate jobs that ended `failed` in the last 24 h. */
    failedLast24h: number;
  };
  canaries: {
    total: number;
    /** Projects locked now (a canary tripped and no operator unlocked them yet). */
    lockedProjects: number;
    /** The newest `canary.tripped` audit events, newest first. */
    lastTrips: Array<{ at: number; project: string; canary: string; machine: string | null; sourceIp: string | null }>;
  };
  agents: {
    /** Machines that are the agent of a rotation policy (by name, or by label). */
    total: number;
    /** Of them, seen within AGENT_ONLINE_MS. */
    online: number;
    /** Up to OVERVIEW_LIST_LIMIT.agents of them, most recently seen first (never seen: last). */
    list: Array<{ name: string; status: string; lastSeenAt: number | null }>;
  };
  machines: {
    total: number;
    active: number;
    pendingApproval: number;
    disabled: number;
    expired: number;
    /** Machines seen in the last 24 h. */
    seenLast24h: number;
    /** The machines waiting for an operator's approval, oldest first (up to OVERVIEW_LIST_LIMIT.pending). */
    pending: Array<{ name: string; createdAt: number; createdVia: string }>;
  };
}

const n = (v: unknown): number => Number(v ?? 0);

/** `secret:<project>/<name>` → its two parts (a canary's audit target). */
function splitTarget(target: string): { project: string; canary: string } {
  const rest = target.startsWith('secret:') ? target.slice('secret:'.length) : target;
  const slash = rest.indexOf('/');
  return slash < 0 ? { project: rest, canary: '' } : { project: rest.slice(0, slash), canary: rest.slice(slash + 1) };
}

export async function overview(ctx: VaultContext): Promise<Overview> {
  const db = ctx.store.db;
  const now = ctx.now();
  const ready = await readiness(ctx);

  const policies = await db.selectFrom('rotation_policies').select((eb) => [
    eb.fn.countAll().as('total'),
    eb.fn.sum(eb.case().when('enabled', '=', 0).then(1).else(0).end()).as('paused'),
    eb.fn.sum(eb.case().when('failing', '=', 1).then(1).else(0).end()).as('failing'),
    eb.fn.sum(eb.case().when('drift_failing_since', 'is not', null).then(1).else(0).end()).as('drifting'),
    eb.fn.sum(eb.case().when(eb.and([eb('enabled', '=', 1), eb('next_run_at', 'is not', null), eb('next_run_at', '<=', now + DAY_MS)])).then(1).else(0).end()).as('dueNext24h'),
  ]).executeTakeFirst();
  const jobs = await db.selectFrom('rotations').select((eb) => [
    eb.fn.sum(eb.case().when(eb.and([eb('state', '=', 'pending'), eb('kind', '!=', 'preflight'), eb.or([eb('not_before', 'is', null), eb('not_before', '<=', now)])])).then(1).else(0).end()).as('dueNow'),
    eb.fn.sum(eb.case().when('state', 'in', ['claimed', 'applied']).then(1).else(0).end()).as('running'),
    eb.fn.sum(eb.case().when('state', '=', 'stuck').then(1).else(0).end()).as('stuck'),
    eb.fn.sum(eb.case().when(eb.and([eb('state', '=', 'failed'), eb('kind', '=', 'rotate'), eb('finished_at', '>=', now - DAY_MS)])).then(1).else(0).end()).as('failedLast24h'),
  ]).where('state', 'in', ['pending', 'claimed', 'applied', 'stuck', 'failed']).executeTakeFirst();

  const canaryCount = await db.selectFrom('secrets').select((eb) => eb.fn.countAll().as('c')).where('is_canary', '=', 1).where('deleted_at', 'is', null).executeTakeFirst();
  const locked = await db.selectFrom('projects').select((eb) => eb.fn.countAll().as('c')).where('locked_at', 'is not', null).where('deleted_at', 'is', null).executeTakeFirst();
  const trips = await db.selectFrom('audit_events').select(['at', 'target', 'actor_name', 'source_ip'])
    .where('action', '=', 'canary.tripped').orderBy('seq', 'desc').limit(OVERVIEW_LIST_LIMIT.trips).execute();

  const machines = await db.selectFrom('machines').select((eb) => [
    eb.fn.countAll().as('total'),
    eb.fn.sum(eb.case().when('status', '=', 'active').then(1).else(0).end()).as('active'),
    eb.fn.sum(eb.case().when('status', '=', 'pending_approval').then(1).else(0).end()).as('pendingApproval'),
    eb.fn.sum(eb.case().when('status', '=', 'disabled').then(1).else(0).end()).as('disabled'),
    eb.fn.sum(eb.case().when('status', '=', 'expired').then(1).else(0).end()).as('expired'),
    eb.fn.sum(eb.case().when('last_seen_at', '>=', now - DAY_MS).then(1).else(0).end()).as('seenLast24h'),
  ]).executeTakeFirst();
  const pending = await db.selectFrom('machines').select(['name', 'created_at', 'created_via'])
    .where('status', '=', 'pending_approval').orderBy('created_at').limit(OVERVIEW_LIST_LIMIT.pending).execute();

  // The agents: machines named by a policy, and machines holding a label a policy names. Labels are
  // a JSON array: a LIKE on the quoted label narrows the rows, the parsed array decides.
  const named = await db.selectFrom('rotation_policies').innerJoin('machines', 'machines.id', 'rotation_policies.agent_machine_id')
    .select(['machines.id as id', 'machines.name as name', 'machines.status as status', 'machines.last_seen_at as lastSeenAt']).distinct().execute();
  const labels = (await db.selectFrom('rotation_policies').select('agent_label').distinct().where('agent_label', 'is not', null).execute())
    .map((r) => r.agent_label as string);
  const byId = new Map(named.map((m) => [m.id, { name: m.name, status: m.status as string, lastSeenAt: m.lastSeenAt }]));
  for (const label of labels) {
    const like = `%${JSON.stringify(label).replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const rows = await db.selectFrom('machines').select(['id', 'name', 'status', 'last_seen_at', 'labels'])
      .where(sql<boolean>`labels like ${like} escape '\\'`).execute();
    for (const m of rows) {
      if ((JSON.parse(m.labels) as string[]).includes(label)) byId.set(m.id, { name: m.name, status: m.status, lastSeenAt: m.last_seen_at });
    }
  }
  const agents = [...byId.values()].sort((a, b) => (b.lastSeenAt ?? -1) - (a.lastSeenAt ?? -1) || a.name.localeCompare(b.name));

  return {
    generatedAt: now,
    health: { ready: ready.ready, version: packageVersion(), ...ready.checks },
    rotations: {
      policies: n(policies?.total), paused: n(policies?.paused), dueNow: n(jobs?.dueNow), dueNext24h: n(policies?.dueNext24h),
      running: n(jobs?.running), stuck: n(jobs?.stuck), failing: n(policies?.failing), drifting: n(policies?.drifting), failedLast24h: n(jobs?.failedLast24h),
    },
    canaries: {
      total: n(canaryCount?.c), lockedProjects: n(locked?.c),
      lastTrips: trips.map((t) => ({ at: Number(t.at), ...splitTarget(t.target), machine: t.actor_name, sourceIp: t.source_ip })),
    },
    agents: {
      total: agents.length,
      online: agents.filter((a) => a.lastSeenAt !== null && a.lastSeenAt >= now - AGENT_ONLINE_MS).length,
      list: agents.slice(0, OVERVIEW_LIST_LIMIT.agents),
    },
    machines: {
      total: n(machines?.total), active: n(machines?.active), pendingApproval: n(machines?.pendingApproval), disabled: n(machines?.disabled),
      expired: n(machines?.expired), seenLast24h: n(machines?.seenLast24h),
      pending: pending.map((p) => ({ name: p.name, createdAt: Number(p.created_at), createdVia: p.created_via })),
    },
  };
}
