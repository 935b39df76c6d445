/**
 * Types on the wire between the vault, the agent and applications. The vault, the agent and the
 * providers all take these names from here, so they cannot drift apart.
 */

import type { Engine, Flavour, Strategy } from './engines.js';

export type { Engine, Flavour, Strategy } from './engines.js';
export { ENGINES, STRATEGIES } from './engines.js';

export type RotationKind = 'rotate' | 'retire' | 'preflight';
/**
 * Every state a rotation job can be in (DESIGN §6, docs/rotation-states.md):
 * - unfinished: `pending` (due or waiting for `not_before`), `claimed` (an agent holds the lease),
 *   `applied` (the agent reported the database may hold the pending credential), `stuck` (an
 *   operator must resolve it: neither credential proven, or an undo the database refused);
 * - finished: `promoted` (a rotate job: the pending credential is live), `retired` (a retire job:
 *   the old password was removed), `preflight_passed` (a preflight job found nothing to fix),
 *   `failed` (live kept, pending discarded; or a preflight that found problems), `cancelled`.
 */
export type RotationState = 'pending' | 'claimed' | 'applied' | 'promoted' | 'retired' | 'preflight_passed' | 'failed' | 'stuck' | 'cancelled';
export const ROTATION_STATES: readonly RotationState[] = ['pending', 'claimed', 'applied', 'promoted', 'retired', 'preflight_passed', 'failed', 'stuck', 'cancelled'];
/** The state a job of each kind ends in when it succeeded. */
export const SUCCEEDED_STATE: Readonly<Record<RotationKind, RotationState>> = { rotate: 'promoted', retire: 'retired', preflight: 'preflight_passed' };

/** `GET /v1/agent/rotations?wait=30` → 200 with this body (204 when nothing came due in the wait). */
export interface AgentJobList {
  jobs: Array<{ id: string; kind: RotationKind; project: string; secret: string }>;
  /** Lease jobs for this agent (docs/leases.md); omitted or [] when none. */
  leaseJobs?: LeaseJobSummary[];
}

/** What every claimed job carries, whatever its kind. */
interface JobBase {
  id: string;
  project: string;
  secret: string;
  engine: Engine;
  strategy: Strategy;
  /** What the last preflight found the server to be; null before any preflight passed. */
  flavour: Flavour | null;
  /** Increments with every claim; each report must carry it. */
  fence: number;
  /** Renew with a heartbeat well before this many seconds pass. */
  leaseSeconds: number;
  attempt: number;
  /** The admin secret's fields, to connect and change credentials. */
  admin: Record<string, string>;
}

/**
 * Apply `pendingPassword` to `username`, prove it with a fresh login, confirm. Under `alternating`
 * `username` is the user that is not live; the live user is `target.username`.
 */
export interface RotateJob extends JobBase {
  kind: 'rotate';
  /** True when an earlier claim may already have applied the pending credential: reconcile first. */
  maybeApplied: boolean;
  /** The user whose credential changes in this job. */
  username: string;
  /** The credential to apply. */
  pendingPassword: string;
  /** The credential applications read now; what to restore if the pending one fails. */
  livePassword: string;
  /** The rotated secret's fields as live (host, port, database, tls…), for verification. */
  target: Record<string, string>;
}

/** `dual`, after the grace period: remove the old password kept beside the live one. */
export interface RetireJob extends JobBase {
  kind: 'retire';
  username: string;
  /** The live credential, proven before and after the old one is removed. */
  livePassword: string;
  /** The old password to remove (Redis removes exactly it; MySQL 8 discards its retained one). */
  retirePassword: string;
  target: Record<string, string>;
}

/** Check, changing nothing, that the admin may do what the policy needs. Carries no user password. */
export interface PreflightJob extends JobBase {
  kind: 'preflight';
  /** Every user the policy will change. */
  usernames: string[];
  /** The rotated secret's fields without its password: where the users live. */
  target: Record<string, string>;
}

/**
 * `POST /v1/agent/rotations/{id}/claim` → 200, one of three kinds. The only message that carries
 * plaintext credentials (pending, live, admin); nothing of it is ever written to the agent's disk.
 */
export type ClaimResponse = RotateJob | RetireJob | PreflightJob;

export interface FenceBody { fence: number }

/** The steps of a job an agent times and reports with `confirm` and `fail` (docs/dashboard.md, "Rotation step timings"). */
export const AGENT_STEP_NAMES = ['claimed', 'connected', 'applied', 'verified', 'undone'] as const;
export type AgentStepName = typeof AGENT_STEP_NAMES[number];
/** At most this many step timings in one report (the vault refuses more: SK_ERR_VALIDATION). */
export const MAX_AGENT_STEPS = 32;

/**
 * One step as the agent timed it: `at` is when it ended (ms since the epoch, by the agent's
 * clock), `ms` how long it took. `claimed` is the moment the agent began the job (ms 0).
 */
export interface AgentStepTiming { step: AgentStepName; at: number; ms: number }

/** `POST /v1/agent/rotations/{id}/confirm`: the fence, and the agent's step timings (optional: older agents send none). */
export interface ConfirmBody { fence: number; steps?: AgentStepTiming[] }

/**
 * One entry of a job's `timeline` (`GET /v1/rotations/{id}`, `rotation status`). `source: 'vault'`:
 * a transition the vault recorded, `at` by the vault's clock — `created`, `claimed`, `applied`, and
 * the outcome of each report: `promoted` / `retired` / `preflight_passed` / `failed` / `stuck` /
 * `cancelled`, or `retry` (an unproven failure sent the job back to pending). `source: 'agent'`:
 * a step the agent timed (`at` by the agent's clock, `ms` its duration). `attempt`: the claim it
 * belongs to (absent on `created` and on an outcome no claim reported, e.g. a cancellation).
 * Entries are in the order the job went through them (per claim: the vault's `claimed`, the
 * agent's steps with the vault's `applied` after the agent's `applied`, then the outcome), not
 * sorted by `at`: the agent's clock and the vault's may differ a little.
 */
export type TimelineEntry =
  | { source: 'vault'; step: 'created' | 'claimed' | 'applied' | RotationState | 'retry'; at: number; attempt?: number }
  | { source: 'agent'; step: AgentStepName; at: number; ms: number; attempt: number };

export interface FailBody {
  fence: number;
  /** A registered error code describing what failed. */
  code: string;
  message: string;
  /** The agent proved the live credential logs in (restoring it first if needed). */
  liveVerified: boolean;
  /** Neither the pending nor the live credential logs in: the rotation is stuck. */
  neitherWorks?: boolean;
  /**
   * The database refused to undo a dual apply (e.g. MySQL's password-reuse policy): the live
   * password still works, but only as the retained one. The rotation is stuck and the policy
   * failing until an operator resolves it; another dual apply would drop the live password.
   */
  undoRefused?: boolean;
  /**
   * Nothing was changed by this claim and no earlier claim may have applied (e.g. the agent could
   * not load the engine's provider): the live credential is untouched, so the job can end `failed`.
   */
  untouched?: boolean;
  /** The agent's step timings for this attempt (optional: older agents send none). */
  steps?: AgentStepTiming[];
}

export interface PreflightResultBody {
  fence: number;
  ok: boolean;
  problems: string[];
  /** What the server turned out to be (absent when the admin could not even connect). */
  flavour?: Flavour;
  serverVersion?: string;
}

export interface RotationStepResponse {
  id: string;
  state: RotationState;
  version?: number;
}

/**
 * The latest failed attempt of a secret's jobs that no later success has cleared
 * (docs/rotation-states.md#what-status-says-after-a-failure). `message` is the agent's sanitized
 * message (never a credential). `attempt` of `maxAttempts`: for a proven failure of a rotation, the
 * policy's consecutive failures out of the retries it allows before it is marked failing; for an
 * unproven one, the job's own attempts before it is stuck; equal when nothing retries it.
 *
 * @example
 *   { code: 'SK_ERR_PROVIDER_AUTH_FAILED', message: 'the new password was refused', at: 1767000000000,
 *     attempt: 1, maxAttempts: 3, rotationId: '…', kind: 'rotate' }
 */
export interface RotationFailure {
  code: string;
  message: string;
  /** When the agent (or the vault, at claim) reported it, ms since the epoch. */
  at: number;
  attempt: number;
  maxAttempts: number;
  /** The job that failed (it may not be the job `rotationId` names: a retry follows a failure). */
  rotationId: string;
  kind: RotationKind;
}

/** `rotation status --json` (DESIGN §11). */
export interface RotationStatus {
  state: RotationState | 'none';
  rotationId: string | null;
  version: number | null;
  lastSuccessAt: number | null;
  /** Kept until a later rotation succeeds, through the retries that follow it; null since then. */
  lastError: RotationFailure | null;
  /**
   * When the next attempt is due: the pending job's `not_before` (a time in the past: due now,
   * waiting for an agent), else the schedule's next run while the policy is enabled; null while a
   * job is stuck, and when nothing is scheduled.
   */
  nextAttemptAt: number | null;
  /** The schedule's next run (null while paused or without a schedule). */
  nextRunAt: number | null;
  /**
   * False while the policy is paused; `pausedReason` then says by what (`operator`,
   * `secret_deleted`, `project_deleted`, `machine_removed`, or `awaiting_approval`: an AI agent set
   * or changed it and it waits for an operator's `rotation approve`).
   */
  enabled: boolean;
  pausedReason: 'operator' | 'secret_deleted' | 'project_deleted' | 'machine_removed' | 'awaiting_approval' | null;
  latencyMs: number | null;
  agent: { name: string | null; lastSeenAt: number | null };
  /** The agent's periodic probe of the live credential (`rotation.drift`). */
  drift: DriftStatus;
  /** The latest (or the asked-for) rotate job's steps, vault and agent (empty when there is none). */
  timeline: TimelineEntry[];
}

/** What the drift probes of a policy found (`rotation status`, `rotation list`). */
export interface DriftStatus {
  /** Seconds between probes; 0 = never probed (`rotation set --drift-interval off`). */
  intervalSeconds: number;
  /** When the next probe is due (null while probing is off). */
  nextProbeAt: number | null;
  /** The last probe an agent reported: when, whether the live credential logged in, and why not. */
  lastProbe: { at: number; ok: boolean; code: string | null; message: string | null } | null;
  /** Since when the database has refused the live credential; null while it logs in. */
  failingSince: number | null;
}

/**
 * A drift probe (`POST /v1/agent/drift-probes`): the live credential to log in with, the admin
 * credential the provider connects with, and the live version, which the result names so a
 * result about a credential rotated in the meantime is ignored.
 */
export interface DriftProbe {
  policyId: string;
  project: string;
  secret: string;
  engine: Engine;
  version: number;
  admin: Record<string, string>;
  target: Record<string, string>;
}
export interface DriftProbeList { probes: DriftProbe[]; leaseSeconds: number }

export interface DriftResultBody {
  version: number;
  ok: boolean;
  /** SK_ERR_PROVIDER_AUTH_FAILED: the database refused the live credential (drift); anything else: it could not tell. */
  code?: string;
  message?: string;
}
export interface DriftResultResponse {
  /** `recorded`; `stale` when the live version changed since the claim (the result is ignored). */
  result: 'recorded' | 'stale';
  drift: DriftStatus;
}

// ---------------------------------------------------------------------------------------------
// Leased credentials (issue #30, docs/leases.md): a database login per machine, minted by the
// agent on demand and dropped when the lease ends. Shared verbatim by the vault and the agent.
// ---------------------------------------------------------------------------------------------

/** What a leased login gets, per engine of its lease role. */
export type LeaseGrant =
  /** postgres/supabase: the login is `IN ROLE memberOf`; REASSIGN OWNED goes to it on drop. */
  | { memberOf: string }
  /** mysql/mariadb: `GRANT grantRole TO u` + `SET DEFAULT ROLE grantRole FOR u`. */
  | { grantRole: string }
  /** redis: space-separated ACL rules (`~app:* +@read`); no password/state rules. */
  | { acl: string }
  /** mongodb: roles given to the user. */
  | { roles: Array<{ role: string; db: string }> };

export type LeaseState = 'creating' | 'active' | 'revoking' | 'revoked' | 'expired' | 'failed';
export const LEASE_STATES: readonly LeaseState[] = ['creating', 'active', 'revoking', 'revoked', 'expired', 'failed'];
export type LeaseJobKind = 'create' | 'renew' | 'drop';

/** A lease job in the agent poll answer (`leaseJobs` next to `jobs` in `GET /v1/agent/rotations`). */
export interface LeaseJobSummary { id: string; kind: LeaseJobKind; leaseId: string; project: string; role: string }

/** `POST /v1/agent/lease-jobs/{id}/claim` → the job, leased to the claiming agent for the vault's --rotation-lease (default 30 s). */
export interface LeaseJobClaim {
  id: string;
  kind: LeaseJobKind;
  fence: number;
  leaseId: string;
  engine: Engine;
  /** The admin secret's fields. */
  admin: Record<string, string>;
  /** The admin secret's endpoint fields (host, port, database, tls, caFile…), no credential. */
  target: Record<string, string>;
  username: string;
  /** Create jobs only. */
  password?: string;
  grant: LeaseGrant;
  /** ms epoch: the lease's expiresAt. */
  validUntil: number;
}
/** The most jobs one batch claim or confirm carries (the agent poll hands out at most 100 lease jobs). */
export const LEASE_JOB_BATCH_MAX = 100;
/** A job a batch route did not take (the others of the batch went on), with the refusal's SK_ERR code. */
export interface LeaseJobRefusal { id: string; code: string; message: string }
/** `POST /v1/agent/lease-jobs/claim` body `{ ids }` (≤ 100) → the jobs claimed, and those refused. */
export interface LeaseJobClaimBatch { claims: LeaseJobClaim[]; refused: LeaseJobRefusal[] }
/** `POST /v1/agent/lease-jobs/confirm` body `{ jobs: [{ id, fence }] }` (≤ 100) → the ids confirmed, and those refused. */
export interface LeaseJobConfirmBatch { confirmed: string[]; refused: LeaseJobRefusal[] }
/** `POST /v1/agent/lease-jobs/{id}/confirm` body. */
export interface LeaseJobConfirmBody { fence: number }
/** `POST /v1/agent/lease-jobs/{id}/fail` body. */
export interface LeaseJobFailBody { fence: number; code: string; message: string }

/** `POST /v1/agent/lease-roles` → the lease roles this agent machine serves (for reconcile). */
export interface AgentLeaseRole {
  roleId: string;
  project: string;
  role: string;
  engine: Engine;
  admin: Record<string, string>;
  target: Record<string, string>;
  /** `sk<vaultId6>_`: the prefix of this vault's logins. */
  prefix: string;
  /**
   * The role's grant, as in its lease jobs: a reconcile drop reassigns what a PostgreSQL/Supabase
   * login owned to `memberOf`, as the drop job does. Absent from vaults that predate it.
   */
  grant?: LeaseGrant;
}
export interface AgentLeaseRoleList { roles: AgentLeaseRole[] }
/** `POST /v1/agent/lease-roles/{roleId}/reconcile` body: the engine's logins starting with `sk`. */
export interface LeaseReconcileBody { logins: string[] }
/** `drop`: this vault's logins whose lease is not live; `foreign`: other `sk` logins (never dropped). */
export interface LeaseReconcileResponse { drop: string[]; foreign: string[] }

/** `POST /v1/projects/{p}/leases/{role}?wait=S` body; `POST /v1/leases/{id}/renew` body. */
export interface LeaseRequestBody { ttl?: string }

/** A lease as its owning machine (with fields, while active) or an operator (never fields) sees it. */
export interface Lease {
  leaseId: string;
  project: string;
  role: string;
  state: LeaseState;
  /** ms epoch. */
  expiresAt: number;
  /** ms epoch: renewals never go past it. */
  maxExpiresAt: number;
  /** Only to the owning machine, only while active: host, port, username, password, database?, … */
  fields?: Record<string, string>;
}
/** 202 answer of a lease request / get while the agent has not confirmed yet. */
export interface LeasePending { leaseId: string; state: 'creating' }

/** A lease in the operator list (`GET /v1/leases`): never values. */
export interface LeaseSummary {
  leaseId: string;
  project: string;
  role: string;
  machine: string;
  username: string;
  state: LeaseState;
  createdAt: number;
  expiresAt: number;
  maxExpiresAt: number;
  endedAt: number | null;
}
export interface LeaseList { leases: LeaseSummary[] }

/** `PUT /v1/projects/{p}/lease-roles/{name}` body. */
export interface LeaseRoleBody {
  engine: Engine;
  agentMachine?: string;
  agentLabel?: string;
  adminSecret: string;
  /** Durations such as '1h'. */
  ttl: string;
  maxTtl: string;
  maxLeases?: number;
  /** Live leases one machine may hold of the role at once (429 beyond); default 10. */
  maxLeasesPerMachine?: number;
  grant: LeaseGrant;
}
/** A lease role as the vault stores and shows it. */
export interface LeaseRoleView {
  id: string;
  project: string;
  name: string;
  engine: Engine;
  agentMachine?: string;
  agentLabel?: string;
  adminSecret: string;
  ttlMs: number;
  maxTtlMs: number;
  maxLeases?: number;
  maxLeasesPerMachine: number;
  grant: LeaseGrant;
  createdAt: number;
  updatedAt: number;
}
export interface LeaseRoleList { roles: LeaseRoleView[] }
