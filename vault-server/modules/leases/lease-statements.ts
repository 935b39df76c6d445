/**
 * The statements every lease runs — its intent, its job's claim and confirm, the machine's answer —
 * in one place. On SQLite each is one statement prepared once on the connection and run
 * synchronously (store/sqlite-hot.ts), as the read path's are: inside a write transaction through
 * the batch's connection, outside one only while no transaction is open on it. On PostgreSQL the
 * same statement goes through Kysely, with the row locks SQLite does not need (its writer lock is
 * the whole batch's).
 *
 * The service code (leases-service.ts, lease-jobs.ts, leases-routes.ts) keeps every rule; this
 * file only reads and writes rows.
 */
import { SikkerKeyError } from '../../../protocol/errors.js';
import type { Tx, VaultContext } from '../../context.js';
import { batchScopeOf } from '../../context.js';
import type { Row } from '../../store/database.js';
import type { HotSql } from '../../store/sqlite-hot.js';
import { forShare, forUpdate } from '../../store/locks.js';
import type { LeaseState } from '../../../protocol/api-types.js';
import { LIVE_LEASE_STATES } from './lease-rules.js';

type LeaseRow = Row<'leases'>;
type JobRow = Row<'lease_jobs'>;

/** The batch connection's hot statements when `trx` is a write transaction on SQLite. */
const hotOf = (trx: Tx): HotSql | undefined => batchScopeOf(trx)?.hot;

/** Every column of `T`, in the order given: a column added to the table and not listed here fails to compile. */
const allColumns = <T>() => <const C extends ReadonlyArray<keyof T>>(cols: C & ([Exclude<keyof T, C[number]>] extends [never] ? unknown : { missing: Exclude<keyof T, C[number]> })): C => cols;

const LEASE_COLUMNS = allColumns<LeaseRow>()(['id', 'role_id', 'project_id', 'machine_id', 'username', 'password_ciphertext', 'password_wrapped_key',
  'project_key_version', 'state', 'end_reason', 'created_at', 'active_at', 'expires_at', 'max_expires_at', 'ended_at']);
const JOB_COLUMNS = allColumns<JobRow>()(['id', 'lease_id', 'kind', 'state', 'fence', 'claimed_by', 'lease_until', 'attempts', 'not_before', 'renew_to',
  'error_code', 'error', 'created_at', 'finished_at']);
const insertSql = (table: string, columns: readonly string[]): string => `insert into ${table} (${columns.join(', ')}) values (${columns.map(() => '?').join(', ')})`;

const INSERT_LEASE = insertSql('leases', LEASE_COLUMNS);
const INSERT_JOB = insertSql('lease_jobs', JOB_COLUMNS);
const SELECT_LEASE = 'select * from leases where id = ?';
const SELECT_JOB = 'select * from lease_jobs where id = ?';
const LIVE = LIVE_LEASE_STATES.map(() => '?').join(', ');
const COUNT_MACHINE = `select count(*) as n from leases where role_id = ? and state in (${LIVE}) and machine_id = ?`;
const COUNT_ROLE = `select count(*) as n, coalesce(sum(case when machine_id = ? then 1 else 0 end), 0) as mine from leases where role_id = ? and state in (${LIVE})`;
const PROJECT_LOCK = 'select locked_at from projects where id = ?';
const PROJECT_FOR_CLAIM = 'select id, locked_at, name, key_version, master_key_wrapped from projects where id = ?';
const CLAIM_JOB = 'update lease_jobs set state = \'claimed\', fence = ?, claimed_by = ?, lease_until = ?, attempts = ? where id = ?';
const FINISH_JOB = 'update lease_jobs set state = \'done\', finished_at = ?, lease_until = null where id = ?';
const MOVE_LEASE_ACTIVE = 'update leases set state = \'active\', active_at = ? where id = ? and state = \'creating\'';

/** The lease's row, in the caller's transaction (no row lock: its transitions are conditional UPDATEs, see moveLease). */
export async function leaseRowIn(trx: Tx, id: string): Promise<LeaseRow | undefined> {
  const hot = hotOf(trx);
  if (hot) return hot.get<LeaseRow>(SELECT_LEASE, [id]);
  return trx.selectFrom('leases').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The lease's row as committed, outside any transaction (the machine's answer). */
export async function committedLeaseRow(ctx: Pick<VaultContext, 'store'>, id: string): Promise<LeaseRow | undefined> {
  const hot = ctx.store.hot;
  // Only while no batch holds the connection: its uncommitted rows must not be answered.
  if (hot && !hot.inTransaction) return hot.get<LeaseRow>(SELECT_LEASE, [id]);
  return ctx.store.db.selectFrom('leases').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The job's row, FOR UPDATE on PostgreSQL. */
export async function jobRowForUpdate(ctx: Pick<VaultContext, 'store'>, trx: Tx, id: string): Promise<JobRow | undefined> {
  const hot = hotOf(trx);
  if (hot) return hot.get<JobRow>(SELECT_JOB, [id]);
  return forUpdate(ctx.store.dialect, trx.selectFrom('lease_jobs').selectAll().where('id', '=', id)).executeTakeFirst();
}

export async function insertLease(trx: Tx, row: LeaseRow): Promise<void> {
  const hot = hotOf(trx);
  if (hot) hot.run(INSERT_LEASE, LEASE_COLUMNS.map((c) => row[c]));
  else await trx.insertInto('leases').values(row).execute();
}

export async function insertJob(trx: Tx, row: JobRow): Promise<void> {
  const hot = hotOf(trx);
  if (hot) hot.run(INSERT_JOB, JOB_COLUMNS.map((c) => row[c]));
  else await trx.insertInto('lease_jobs').values(row).execute();
}

/**
 * The role's live leases (when it has a `--max-leases`) and the machine's among them, in one
 * statement answered from the `leases_role_state_machine` index alone (migration 0019).
 */
export async function countLive(trx: Tx, roleId: string, machineId: string, wholeRole: boolean): Promise<{ role: number; machine: number }> {
  const hot = hotOf(trx);
  if (hot) {
    if (!wholeRole) return { role: 0, machine: Number(hot.get<{ n: number }>(COUNT_MACHINE, [roleId, ...LIVE_LEASE_STATES, machineId])?.n ?? 0) };
    const row = hot.get<{ n: number; mine: number }>(COUNT_ROLE, [machineId, roleId, ...LIVE_LEASE_STATES]);
    return { role: Number(row?.n ?? 0), machine: Number(row?.mine ?? 0) };
  }
  const live = trx.selectFrom('leases').where('role_id', '=', roleId).where('state', 'in', [...LIVE_LEASE_STATES]);
  if (!wholeRole) {
    const row = await live.where('machine_id', '=', machineId).select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirst();
    return { role: 0, machine: Number(row?.n ?? 0) };
  }
  const row = await live.select((eb) => [
    eb.fn.countAll<number | string>().as('n'),
    eb.fn.sum<number | string | null>(eb.case().when('machine_id', '=', machineId).then(eb.lit(1)).else(eb.lit(0)).end()).as('mine'),
  ]).executeTakeFirst();
  return { role: Number(row?.n ?? 0), machine: Number(row?.mine ?? 0) };
}

// A project deleted while a request of its leases ran (its leases and jobs go with it).
const projectGone = (): SikkerKeyError => new SikkerKeyError('SK_ERR_LEASE_NOT_FOUND', 'the project of this lease is gone');

/** The project's `locked_at`, with a shared lock on its row on PostgreSQL (a canary trip in progress is waited for). */
export async function projectLockedAt(ctx: Pick<VaultContext, 'store'>, trx: Tx, projectId: string): Promise<number | null> {
  const hot = hotOf(trx);
  const row = hot
    ? hot.get<{ locked_at: number | null }>(PROJECT_LOCK, [projectId])
    : await forShare(ctx.store.dialect, trx.selectFrom('projects').select('locked_at').where('id', '=', projectId)).executeTakeFirst();
  if (row === undefined) throw projectGone();
  return row.locked_at === null ? null : Number(row.locked_at);
}

export type ClaimProject = Pick<Row<'projects'>, 'id' | 'locked_at' | 'name' | 'key_version' | 'master_key_wrapped'>;

/** What a claim needs of the lease's project, shared-locked on PostgreSQL. */
export async function projectForClaim(ctx: Pick<VaultContext, 'store'>, trx: Tx, projectId: string): Promise<ClaimProject> {
  const hot = hotOf(trx);
  const row = hot
    ? hot.get<ClaimProject>(PROJECT_FOR_CLAIM, [projectId])
    : await forShare(ctx.store.dialect, trx.selectFrom('projects').select(['id', 'locked_at', 'name', 'key_version', 'master_key_wrapped']).where('id', '=', projectId)).executeTakeFirst();
  if (row === undefined) throw projectGone();
  return row;
}

export async function markJobClaimed(trx: Tx, id: string, set: { fence: number; claimedBy: string; leaseUntil: number; attempts: number }): Promise<void> {
  const hot = hotOf(trx);
  if (hot) hot.run(CLAIM_JOB, [set.fence, set.claimedBy, set.leaseUntil, set.attempts, id]);
  else await trx.updateTable('lease_jobs').set({ state: 'claimed', fence: set.fence, claimed_by: set.claimedBy, lease_until: set.leaseUntil, attempts: set.attempts }).where('id', '=', id).execute();
}

export async function markJobDone(trx: Tx, id: string, now: number): Promise<void> {
  const hot = hotOf(trx);
  if (hot) hot.run(FINISH_JOB, [now, id]);
  else await trx.updateTable('lease_jobs').set({ state: 'done', finished_at: now, lease_until: null }).where('id', '=', id).execute();
}

/**
 * Moves a lease out of state `from` in one conditional UPDATE; false when another transaction
 * moved it first (a revoke racing a confirm, the sweeper racing a revoke). On PostgreSQL the
 * UPDATE waits for a concurrent writer of the row and re-checks `from` against what it committed,
 * so of two racing transitions exactly one happens — without a lock taken earlier.
 */
export async function moveLease(trx: Tx, id: string, from: LeaseState, set: Partial<Omit<LeaseRow, 'id'>>): Promise<boolean> {
  const hot = hotOf(trx);
  // The confirm's move (creating → active) is the one every lease makes: prepared once.
  if (hot && from === 'creating' && set.state === 'active' && set.active_at !== undefined && Object.keys(set).length === 2) {
    return hot.run(MOVE_LEASE_ACTIVE, [set.active_at, id]) > 0;
  }
  const moved = await trx.updateTable('leases').set(set).where('id', '=', id).where('state', '=', from).executeTakeFirst();
  return Number(moved.numUpdatedRows) > 0;
}
