/**
 * The canary tripwire, inside a machine read's own transaction (DESIGN §5, §8).
 *
 * A read that targets a canary the machine may read takes, BEFORE any other lock, every project
 * row the trip will lock — the canary's project, plus with `lockMachineProjects` every project the
 * machine holds a grant on — `FOR UPDATE`, in id order; rows that are only read are taken
 * `FOR SHARE` in the same id-ordered pass (on PostgreSQL behind advisory locks that queue
 * fairly: see {@link lockProjectsInOrder}). Only then are the rows changed and audit events
 * appended (the audit head is always the last lock). So:
 * - two trips at once, or a trip and a batch read, never wait on each other in a cycle;
 * - a real read of a tripped project that starts before the trip commits waits for it on
 *   PostgreSQL (its `FOR SHARE` conflicts with the trip's `FOR UPDATE`) and then sees the lock;
 *   on SQLite the one writer (`BEGIN IMMEDIATE`) orders every read before or after the trip.
 *
 * This file imports nothing from the secrets service (only its cache-backed lookups,
 * secrets/read-lookups.ts): the secrets read path calls it, and the canaries service
 * (create/list) builds on the secrets module, so the two never import in a cycle.
 *
 * @example
 *   await writeTx(ctx, async (trx, audit) => {
 *     const { canaries, plan } = await lockForReads(ctx, trx, caller, [{ project: 'shop', name: 'db-backup' }], await readLookups(ctx, trx));
 *     for (const c of canaries) await tripCanary(ctx, trx, audit, caller, c, plan);
 *   });
 */
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { Caller } from '../../http/authenticate.js';
import type { Tx, VaultContext } from '../../context.js';
import { batchScopeOf } from '../../context.js';
import type { BatchScope } from '../../store/group-commit.js';
import { forShare, forUpdate } from '../../store/locks.js';
import type { ReadLookups } from '../secrets/read-lookups.js';
import { allLabelGrantsOf } from '../grants/label-grants.js';
import { revokeLeasesWhere } from '../leases/leases-service.js';

type AuditFn = (e: { action: string; projectId?: string | null; target: string; outcome: 'success' | 'denied' | 'failure'; details?: Record<string, unknown> }, caller?: Caller) => Promise<void>;

/** A canary that a read names and that the reading machine holds a grant on. */
export interface CanaryTarget {
  secretId: string;
  name: string;
  projectId: string;
  project: string;
  lockMachineProjects: boolean;
}

/** What one trip did; `afterTripCommitted` reports it once the transaction has committed. */
export interface CanaryTrip {
  canary: CanaryTarget;
  machine: { id: string; name: string };
  sourceIp: string;
  lockedProjects: string[];
  machineDisabled: boolean;
}

/**
 * The canaries among `items` that `caller` may read (a project-wide grant or a grant on that very
 * secret), found without any lock. A canary the machine holds no grant for is NOT returned: its
 * read is refused like any ungranted read and trips nothing, so a stray key cannot lock projects
 * it has no business in.
 */
export async function findReadableCanaries(look: ReadLookups, caller: Caller, items: ReadonlyArray<{ project: string; name: string }>): Promise<CanaryTarget[]> {
  const found = new Map<string, CanaryTarget>();
  for (const item of items) {
    const project = await look.project(item.project);
    if (!project) continue;
    const secret = await look.secret(project.id, item.name);
    if (!secret || secret.is_canary !== 1 || found.has(secret.id)) continue;
    const grants = await look.grants(caller.id, project.id);
    if (!grants.some((g) => g.secret_id === null || g.secret_id === secret.id)) continue;
    found.set(secret.id, { secretId: secret.id, name: secret.name, projectId: project.id, project: project.name, lockMachineProjects: secret.canary_lock_machine_projects === 1 });
  }
  return [...found.values()].sort((a, b) => (a.secretId < b.secretId ? -1 : a.secretId > b.secretId ? 1 : 0));
}

/** Which project rows the trips of some canaries lock, decided once, before any lock is taken. */
export interface TripPlan {
  /** Every project row to take `FOR UPDATE`. */
  exclusive: Set<string>;
  /** The projects the reading machine holds a grant on (locked too by a `lockMachineProjects` canary). */
  machineProjectIds: string[];
}

/**
 * Plans the trips of these canaries: each canary's project and, for a canary created with
 * `--lock-machine-projects`, every project the reading machine holds any grant on. Decided now,
 * before locking, so the locks can be taken in id order; a grant added in the instants between is
 * not covered (an operator would have to add it during the trip; the canary's own project is
 * locked regardless).
 */
export async function planTrips(trx: Tx, caller: Caller, canaries: readonly CanaryTarget[]): Promise<TripPlan> {
  const exclusive = new Set(canaries.map((c) => c.projectId));
  let machineProjectIds: string[] = [];
  if (canaries.some((c) => c.lockMachineProjects)) {
    const own = (await trx.selectFrom('grants').select('project_id').distinct().where('machine_id', '=', caller.id).execute()).map((g) => g.project_id);
    // The projects its labels are granted read too (label-grants.ts; the reader is active, or it would not be here).
    const labelled = [...new Set((await allLabelGrantsOf(trx, caller.id)).map((g) => g.project_id))];
    machineProjectIds = [...new Set([...own, ...labelled])];
    for (const id of machineProjectIds) exclusive.add(id);
  }
  return { exclusive, machineProjectIds };
}

/** Namespace of the vault's PostgreSQL advisory locks on projects (`pg_advisory_xact_lock(class, key)`). */
const PROJECT_LOCK_CLASS = 0x534b0001;

/** A project's advisory-lock key: 32 bits of SHA-256 of its id (a collision only means some extra waiting). */
function projectLockKey(id: string): number {
  return createHash('sha256').update(id).digest().readInt32BE(0);
}

/**
 * Takes the project rows a read needs: `exclusive` ones `FOR UPDATE`, the others `FOR SHARE`, in
 * id order, one statement per row so the order is the order of the calls (not whatever order a
 * multi-row scan happens to lock in). On SQLite both are plain selects: the transaction already
 * holds the one writer.
 *
 * On PostgreSQL an advisory transaction lock per project comes first (shared, or exclusive for
 * the rows a trip locks), all of them in key order, then the rows in id order. Why: row locks
 * have no fair queue — a new `FOR SHARE` joins the current share holders even while a
 * `FOR UPDATE` waits — so under a steady stream of reads a canary trip could be put off for as
 * long as the stream lasts (measured in canary-race.test: without them the trip waited until all
 * 200 reads had been served).
 * PostgreSQL's heavyweight lock manager does queue: a shared advisory request waits behind a
 * waiting exclusive one. The two phases (every advisory lock, in key order, before any row)
 * keep this deadlock-free even if two projects' keys collide.
 */
export async function lockProjectsInOrder(ctx: VaultContext, trx: Tx, sets: { exclusive: ReadonlySet<string>; shared: Iterable<string> }): Promise<boolean> {
  const held = heldProjectLocks(trx);
  // What an earlier job of this batch took is held by the transaction already: taking it again
  // would change nothing but cost a round trip per lock on PostgreSQL (two per read).
  const mode = (id: string): 'shared' | 'exclusive' => (sets.exclusive.has(id) ? 'exclusive' : 'shared');
  const holds = (id: string): boolean => held?.map.get(id) === 'exclusive' || held?.map.get(id) === mode(id);
  const all = [...new Set([...sets.exclusive, ...sets.shared])].sort().filter((id) => !holds(id));
  if (all.length === 0) return false;
  if (ctx.store.dialect === 'postgres') {
    const keys = new Map<number, boolean>();
    for (const id of all) {
      const key = projectLockKey(id);
      keys.set(key, (keys.get(key) ?? false) || sets.exclusive.has(id));
    }
    for (const [key, exclusive] of [...keys].sort((a, b) => a[0] - b[0])) {
      await (exclusive
        ? sql`select pg_advisory_xact_lock(${PROJECT_LOCK_CLASS}::int4, ${key}::int4)`
        : sql`select pg_advisory_xact_lock_shared(${PROJECT_LOCK_CLASS}::int4, ${key}::int4)`).execute(trx);
    }
  }
  for (const id of all) {
    const q = trx.selectFrom('projects').select('id').where('id', '=', id);
    await (sets.exclusive.has(id) ? forUpdate(ctx.store.dialect, q) : forShare(ctx.store.dialect, q)).executeTakeFirst();
  }
  if (held) {
    const before = new Map(all.map((id) => [id, held.map.get(id)]));
    for (const id of all) held.map.set(id, mode(id));
    // Locks taken inside a savepoint are released when the job is rolled back to it.
    held.scope.onRollback(() => {
      for (const [id, mode] of before) {
        if (mode === undefined) held.map.delete(id);
        else held.map.set(id, mode);
      }
    });
  }
  return true;
}

const HELD_LOCKS = {};

/** The project locks (advisory and row, per project id) the batch's transaction holds; undefined outside a batch. */
function heldProjectLocks(trx: Tx): { map: Map<string, 'shared' | 'exclusive'>; scope: BatchScope } | undefined {
  const scope = batchScopeOf(trx);
  if (!scope) return undefined;
  let map = scope.state.get(HELD_LOCKS) as Map<string, 'shared' | 'exclusive'> | undefined;
  if (!map) {
    map = new Map();
    scope.state.set(HELD_LOCKS, map);
  }
  return { map, scope };
}

/**
 * Everything a machine read does before its first row lock: finds the canaries among `items` the
 * machine may read, plans their trips, and takes every project row the reads touch (exclusive
 * for the trips, shared for the rest) in one ordered pass.
 */
export async function lockForReads(ctx: VaultContext, trx: Tx, caller: Caller, items: ReadonlyArray<{ project: string; name: string }>, look: ReadLookups): Promise<{ canaries: CanaryTarget[]; plan: TripPlan; locked: boolean }> {
  const canaries = await findReadableCanaries(look, caller, items);
  const plan = await planTrips(trx, caller, canaries);
  // SQLite: the batch's transaction already holds the one writer; there is nothing to lock.
  if (ctx.store.dialect === 'sqlite') return { canaries, plan, locked: false };
  const named: string[] = [];
  for (const name of new Set(items.map((i) => i.project))) {
    const project = await look.project(name);
    if (project) named.push(project.id);
  }
  const locked = await lockProjectsInOrder(ctx, trx, { exclusive: plan.exclusive, shared: named });
  return { canaries, plan, locked };
}

/**
 * Trips one canary whose project rows this transaction already holds exclusively (`plan`, taken
 * with {@link lockProjectsInOrder}): sets `locked_at` on its project — and on the machine's other
 * projects when configured — disables the reading machine unless the vault runs with
 * `--no-canary-disable-machine`, and appends `canary.tripped` (critical), one `project.lock` per
 * newly locked project and `machine.disable`, all in the read's own transaction. Returns undefined when the
 * canary's project was locked already: that read is answered 423 like any read of a locked
 * project (the decoy must not behave differently), and the caller audits the attempt.
 *
 * Row changes come before the audit appends so the audit head stays the last lock taken
 * (an operator's `machine disable` takes the machine row, then the head).
 */
export async function tripCanary(ctx: VaultContext, trx: Tx, audit: AuditFn, caller: Caller, canary: CanaryTarget, plan: TripPlan): Promise<CanaryTrip | undefined> {
  const own = await trx.selectFrom('projects').select(['locked_at']).where('id', '=', canary.projectId).executeTakeFirst();
  if (!own || own.locked_at !== null) return undefined;

  // Only rows the plan locked up front: never a new row lock at this point.
  const targets = [canary.projectId, ...(canary.lockMachineProjects ? plan.machineProjectIds : [])].filter((id) => plan.exclusive.has(id));
  const rows = await trx.selectFrom('projects').select(['id', 'name', 'locked_at']).where('id', 'in', targets).orderBy('id').execute();
  const now = ctx.now();
  const newlyLocked: Array<{ id: string; name: string; reason: string }> = [];
  for (const p of rows) {
    if (p.locked_at !== null) continue; // keep the first reason and time a project was locked for
    const reason = p.id === canary.projectId
      ? `canary ${canary.name} read by machine ${caller.name}`
      : `canary ${canary.project}/${canary.name} read by machine ${caller.name}`;
    await trx.updateTable('projects').set({ locked_at: now, locked_reason: reason }).where('id', '=', p.id).where('locked_at', 'is', null).execute();
    newlyLocked.push({ id: p.id, name: p.name, reason });
  }

  let machineDisabled = false;
  if (ctx.canaryDisablesMachine) {
    const res = await trx.updateTable('machines').set({ status: 'disabled', disabled_at: now })
      .where('id', '=', caller.id).where('status', '!=', 'disabled').executeTakeFirst();
    machineDisabled = Number(res.numUpdatedRows) > 0;
  }

  const lockedProjects = newlyLocked.map((p) => p.name).sort();
  const target = `secret:${canary.project}/${canary.name}`;
  await audit({
    action: 'canary.tripped', projectId: canary.projectId, target, outcome: 'success',
    details: {
      severity: 'critical', machineId: caller.id, machine: caller.name, project: canary.project, secret: canary.name,
      sourceIp: caller.sourceIp, lockedProjects, machineDisabled,
    },
  }, caller);
  for (const p of newlyLocked) {
    await audit({ action: 'project.lock', projectId: p.id, target: `project:${p.name}`, outcome: 'success', details: { reason: p.reason, cause: 'canary.tripped', canary: `${canary.project}/${canary.name}` } }, caller);
  }
  if (machineDisabled) {
    // The same action an operator's `machine disable` records, so `machine enable` has its counterpart in the trail.
    await audit({ action: 'machine.disable', target: `machine:${caller.name}`, outcome: 'success', details: { machineId: caller.id, from: 'active', to: 'disabled', cause: 'canary.tripped', canary: `${canary.project}/${canary.name}` } }, caller);
  }
  // Leased logins end at once (docs/leases.md): those of every project the trip locked, and the reading machine's.
  for (const p of newlyLocked) await revokeLeasesWhere(ctx, trx, audit, { projectId: p.id }, 'canary', caller);
  if (machineDisabled) await revokeLeasesWhere(ctx, trx, audit, { machineId: caller.id }, 'machine_disabled', caller);
  return { canary, machine: { id: caller.id, name: caller.name }, sourceIp: caller.sourceIp, lockedProjects, machineDisabled };
}

/**
 * After the trip's transaction committed: the metric and one loud log line (names only; a
 * canary's decoy value is a secret like any other and never logged). Not inside the transaction,
 * so a rolled-back trip is never counted.
 */
export function afterTripCommitted(ctx: VaultContext, trips: readonly CanaryTrip[]): void {
  for (const t of trips) {
    ctx.metrics.canaryTrips.inc();
    ctx.log.error({
      event: 'canary.tripped', severity: 'critical', project: t.canary.project, secret: t.canary.name,
      machine: t.machine.name, machineId: t.machine.id, sourceIp: t.sourceIp, lockedProjects: t.lockedProjects, machineDisabled: t.machineDisabled,
    }, 'canary tripped: projects locked until an operator unlocks them');
  }
}
