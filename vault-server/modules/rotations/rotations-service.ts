import { randomUUID } from 'node:crypto';
import { Cron } from 'croner';
import { SikkerKeyError, isSikkerKeyError } from '../../../protocol/errors.js';
import { ENGINES, STRATEGIES, SUCCEEDED_STATE } from '../../../protocol/api-types.js';
import type { DriftStatus, Engine, Flavour, RotationFailure, RotationKind, RotationState, RotationStatus, Strategy } from '../../../protocol/api-types.js';
import { isEngine } from '../../../protocol/engines.js';
import { parseDuration } from '../../../protocol/duration.js';
import type { Caller } from '../../http/authenticate.js';
import { writeTx } from '../../context.js';
import type { Tx, VaultContext } from '../../context.js';
import { requireProject } from '../projects/projects-service.js';
import { requireMachine } from '../machines/machines-service.js';
import { UNFINISHED_ROTATION_STATES } from '../../store/database.js';
import { adminGrantOf, awaitingApproval, cancelUnclaimed, createRotation, missingConnectionFields, noFieldGrantMessage, resolveRotation, secretFields } from './rotations-engine.js';
import { pausedReasonOf } from './policy-agents.js';
import type { PausedReason } from './policy-agents.js';
import { parsePasswordPolicy } from './password-generator.js';
import { assertDatabaseFields, assertStrategySupported } from './rotation-rules.js';
import { MIN_DRIFT_INTERVAL_MS, driftStatus } from './rotation-drift.js';
import { DEFAULT_DRIFT_INTERVAL_MS } from '../../store/migrations/0011-rotation-drift.js';
import { buildTimeline } from './rotation-timeline.js';

export interface PolicyInput {
  provider: string;
  strategy?: string;
  agent?: string;
  agentLabel?: string;
  adminSecret: string;
  schedule?: string;
  timezone?: string;
  grace?: string;
  passwordLength?: number;
  alternateUsername?: string;
  paused?: boolean;
  /** How often the agent probes the live credential (`rotation.drift`): a duration, or `off`; default 15m. */
  driftInterval?: string;
}

export interface PolicyView {
  project: string;
  secret: string;
  provider: Engine;
  strategy: Strategy;
  agent: string | null;
  agentLabel: string | null;
  adminSecret: string;
  schedule: string | null;
  timezone: string | null;
  graceMs: number;
  /** Seconds between drift probes of the live credential; 0 = off. */
  driftIntervalSeconds: number;
  enabled: boolean;
  /** Why it is paused (null while enabled): `operator`, or the deletion/removal that paused it. */
  pausedReason?: PausedReason | null;
  failing: boolean;
  nextRunAt: number | null;
  /** What the last preflight found the server to be, and its version (null before one reported it). */
  flavour?: Flavour | null;
  serverVersion?: string | null;
  /** The preflight job `rotation set` created (null when another job of the secret was running, or the policy awaits approval). */
  preflightId?: string | null;
  /** The AI agent whose change waits for an operator's `rotation approve` (null: nothing waits). */
  awaitingApprovalBy?: string | null;
}

async function secretInProject(trx: Tx, projectId: string, name: string): Promise<{ id: string; name: string; kind: string }> {
  const s = await trx.selectFrom('secrets').select(['id', 'name', 'kind']).where('project_id', '=', projectId).where('name', '=', name).where('deleted_at', 'is', null).executeTakeFirst();
  if (!s) throw new SikkerKeyError('SK_ERR_NOT_FOUND', `no secret ${JSON.stringify(name)} in that project`);
  return s;
}

/** The next instant a cron schedule fires after `after`, in its IANA time zone (croner handles DST). */
export function nextRun(schedule: string | null, timezone: string | null, after: number): number | null {
  if (!schedule) return null;
  try {
    const next = new Cron(schedule, { timezone: timezone ?? 'UTC', paused: true }).nextRun(new Date(after));
    return next ? next.getTime() : null;
  } catch (err) {
    throw new SikkerKeyError('SK_ERR_ROTATION_POLICY', `--schedule ${JSON.stringify(schedule)} / --timezone ${JSON.stringify(timezone ?? 'UTC')}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * `rotation set`: creates or replaces a secret's policy, and a preflight job to check it. The
 * strategy is checked against protocol/engines.ts twice: first for the engine (a strategy no
 * flavour of it runs), then, in the transaction, for the flavour and version the policy's last
 * preflight reported (MariaDB refuses `dual` at once). A new `--provider` forgets them.
 */
export async function setPolicy(ctx: VaultContext, caller: Caller, projectName: string, secretName: string, input: PolicyInput): Promise<PolicyView> {
  if (!isEngine(input.provider)) {
    throw new SikkerKeyError('SK_ERR_ROTATION_POLICY', `--provider must be one of ${ENGINES.join(', ')}`);
  }
  const engine = input.provider;
  const strategy = (input.strategy ?? 'single') as Strategy;
  if (!STRATEGIES.includes(strategy)) throw new SikkerKeyError('SK_ERR_ROTATION_POLICY', `--strategy must be one of ${STRATEGIES.join(', ')}`);
  assertStrategySupported({ engine }, strategy);
  if (Boolean(input.agent) === Boolean(input.agentLabel)) {
    throw new SikkerKeyError('SK_ERR_ROTATION_POLICY', 'name the agent: exactly one of --agent MACHINE or --agent-label L');
  }
  if (strategy === 'alternating' && !input.alternateUsername) {
    throw new SikkerKeyError('SK_ERR_ROTATION_POLICY', '--strategy alternating needs --alternate-username (the second user)');
  }
  const passwordPolicy = parsePasswordPolicy({ length: input.passwordLength });
  const graceMs = input.grace ? parseDuration(input.grace, '--grace', 'SK_ERR_VALIDATION') : 0;
  const driftIntervalMs = parseDriftInterval(input.driftInterval);
  const now = ctx.now();
  const nextRunAt = nextRun(input.schedule ?? null, input.timezone ?? null, now);

  // Harvest guard (issue 23): the agent that runs a policy logs in to its target's host with the
  // pending and live passwords, and with the admin secret's. A policy an AI agent creates or changes
  // (its admin secret, agent, provider…) is stored paused and hands nothing out until an operator
  // approves it (`rotation approve`); not even the preflight runs before that.
  const byAiAgent = caller.kind === 'ai_agent';
  return writeTx(ctx, async (trx, audit) => {
    const project = await requireProject(trx, projectName);
    const secret = await secretInProject(trx, project.id, secretName);
    const existing = await trx.selectFrom('rotation_policies').select(['id', 'provider', 'flavour', 'server_version', 'failing']).where('secret_id', '=', secret.id).executeTakeFirst();
    // What a preflight found about this engine's server stays known; another engine starts over.
    const known = existing && existing.provider === engine ? { flavour: existing.flavour, version: existing.server_version } : { flavour: null, version: null };
    assertStrategySupported({ engine, ...known }, strategy);
    const adminSecret = await secretInProject(trx, project.id, input.adminSecret);
    if (adminSecret.id === secret.id) throw new SikkerKeyError('SK_ERR_ROTATION_POLICY', 'the admin secret must be another secret than the one rotated');
    const ref = { id: secret.id, name: secret.name, kind: secret.kind, project };
    const liveFields = (await secretFields(ctx, trx, ref)).fields;
    assertDatabaseFields(liveFields, `secret ${secretName}`);
    if (strategy === 'alternating' && input.alternateUsername === liveFields.username) {
      throw new SikkerKeyError('SK_ERR_ROTATION_POLICY', '--alternate-username must name a second user, not the secret\'s own username');
    }
    const adminRef = { ...ref, id: adminSecret.id, name: adminSecret.name, kind: adminSecret.kind };
    const adminFields = (await secretFields(ctx, trx, adminRef)).fields;
    assertDatabaseFields(adminFields, `admin secret ${input.adminSecret}`);
    const agentId = input.agent ? (await requireMachine(trx, input.agent)).id : null;
    // An agent whose grant on the admin secret is limited to fields must get every connection
    // field the secret holds (the claim refuses it the same way). An agent with no grant yet is
    // let through: the claim answers SK_ERR_NO_GRANT until it is granted.
    const agents = agentId !== null
      ? [{ id: agentId, name: input.agent ?? '' }]
      : (await trx.selectFrom('machines').select(['id', 'name', 'labels']).execute()).filter((m) => (JSON.parse(m.labels) as string[]).includes(input.agentLabel ?? ''));
    for (const agent of agents) {
      const access = await adminGrantOf(trx, agent.id, adminRef);
      const missing = access === 'none' ? [] : missingConnectionFields(engine, adminFields, access);
      if (missing.length > 0) throw new SikkerKeyError('SK_ERR_NO_GRANT', noFieldGrantMessage(agent.name, adminRef, missing));
    }
    const values = {
      provider: engine, strategy, schedule: input.schedule ?? null, timezone: input.timezone ?? null,
      agent_machine_id: agentId, agent_label: input.agentLabel ?? null, admin_secret_id: adminSecret.id,
      password_policy: JSON.stringify(passwordPolicy), grace_ms: graceMs, enabled: input.paused || byAiAgent ? 0 as const : 1 as const,
      // An operator's `rotation set` ends a pause a deletion or a machine's removal made, and
      // settles an AI agent's change (the operator wrote the whole policy); an AI agent's waits.
      paused_reason: byAiAgent ? 'awaiting_approval' : null,
      awaiting_approval_by: byAiAgent ? caller.id : null,
      next_run_at: byAiAgent ? null : nextRunAt, alternate_username: input.alternateUsername ?? null, updated_at: now,
      primary_username: strategy === 'alternating' ? (liveFields.username ?? null) : null,
      flavour: known.flavour, server_version: known.version,
      // A new interval starts now: the first probe follows the preflight.
      drift_interval_ms: driftIntervalMs, drift_due_at: null,
    };
    if (existing) {
      await trx.updateTable('rotation_policies').set(values).where('id', '=', existing.id).execute();
    } else {
      await trx.insertInto('rotation_policies').values({ id: randomUUID(), secret_id: secret.id, created_at: now, failing: 0, ...values }).execute();
    }
    await trx.updateTable('secrets').set({ kind: 'database' }).where('id', '=', secret.id).execute();
    // A preflight job checks, without changing anything, that the admin can do what the policy
    // needs; `rotation set --wait` reports it. Skipped while another job of this secret runs.
    const saved = await trx.selectFrom('rotation_policies').selectAll().where('secret_id', '=', secret.id).executeTakeFirstOrThrow();
    const busy = await trx.selectFrom('rotations').select('id').where('secret_id', '=', secret.id).where('state', 'in', [...UNFINISHED_ROTATION_STATES]).executeTakeFirst();
    const preflightId = busy || byAiAgent ? null : (await createRotation(ctx, trx, { policy: saved, trigger: 'manual', kind: 'preflight', actor: caller }, audit)).id;
    await audit({
      action: existing ? 'rotation.policy_updated' : 'rotation.policy_created', projectId: project.id, target: `secret:${projectName}/${secretName}`, outcome: 'success',
      details: {
        provider: engine, strategy, agent: input.agent ?? null, agentLabel: input.agentLabel ?? null, adminSecret: input.adminSecret, schedule: input.schedule ?? null,
        enabled: values.enabled === 1, ...(byAiAgent ? { awaitingApproval: true, paused: input.paused === true } : {}),
      },
    }, caller);
    return {
      project: projectName, secret: secretName, provider: engine, strategy, agent: input.agent ?? null, agentLabel: input.agentLabel ?? null,
      adminSecret: input.adminSecret, schedule: values.schedule, timezone: values.timezone, graceMs, driftIntervalSeconds: driftIntervalMs / 1000, enabled: values.enabled === 1, failing: existing?.failing === 1,
      nextRunAt: values.next_run_at, flavour: known.flavour, serverVersion: known.version, preflightId,
      ...(byAiAgent ? { pausedReason: 'awaiting_approval' as const, awaitingApprovalBy: caller.name } : {}),
    };
  });
}

/** `--drift-interval`: a duration of at least 5 s, or `off` (0); 15 min when not given. */
function parseDriftInterval(value: string | undefined): number {
  if (value === undefined) return DEFAULT_DRIFT_INTERVAL_MS;
  if (value === 'off') return 0;
  const ms = parseDuration(value, '--drift-interval', 'SK_ERR_VALIDATION');
  if (ms < MIN_DRIFT_INTERVAL_MS) throw new SikkerKeyError('SK_ERR_VALIDATION', `--drift-interval must be at least ${MIN_DRIFT_INTERVAL_MS / 1000}s, or off`);
  return ms;
}

async function policyFor(trx: Tx, projectName: string, secretName: string) {
  const project = await requireProject(trx, projectName);
  const secret = await secretInProject(trx, project.id, secretName);
  const policy = await trx.selectFrom('rotation_policies').selectAll().where('secret_id', '=', secret.id).executeTakeFirst();
  if (!policy) throw new SikkerKeyError('SK_ERR_NOT_FOUND', `secret ${projectName}/${secretName} has no rotation policy: sikkerkey rotation set …`);
  return { project, secret, policy };
}

/** How long `rotation run` waits for a preflight that an agent is running (they take a second). */
const PREFLIGHT_WAIT_MS = 15_000;

/**
 * `rotation run`: a manual rotation now (also when the policy is paused: an operator asked).
 * A preflight an agent is busy with is waited for, briefly; any other unfinished job is a 409.
 */
export async function runRotation(ctx: VaultContext, caller: Caller, projectName: string, secretName: string): Promise<{ id: string }> {
  const deadline = Date.now() + PREFLIGHT_WAIT_MS;
  for (;;) {
    try {
      return await writeTx(ctx, async (trx, audit) => {
        const { policy } = await policyFor(trx, projectName, secretName);
        if (policy.awaiting_approval_by !== null) throw awaitingApproval(projectName, secretName);
        return createRotation(ctx, trx, { policy, trigger: 'manual', actor: caller }, audit);
      });
    } catch (err) {
      const runningId = isSikkerKeyError(err, 'SK_ERR_ROTATION_IN_PROGRESS') ? err.details?.['rotationId'] : undefined;
      if (typeof runningId !== 'string' || Date.now() > deadline) throw err;
      const running = await ctx.store.db.selectFrom('rotations').select('kind').where('id', '=', runningId).executeTakeFirst();
      if (running?.kind !== 'preflight') throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

export async function resolveStuck(ctx: VaultContext, caller: Caller, projectName: string, secretName: string, use: 'pending' | 'live') {
  const project = await requireProject(ctx.store.db, projectName);
  const secret = await secretInProject(ctx.store.db, project.id, secretName);
  return resolveRotation(ctx, caller, secret.id, use);
}

/** The states a job ends in when it succeeded (per kind); one clears earlier failures (`lastFailureOf`). */
const SUCCESS_STATES = Object.values(SUCCEEDED_STATE);
/** The states a job that failed can be in: ended, stuck, or back to pending (or claimed again) after an unproven failure. */
const FAILURE_STATES: RotationState[] = ['failed', 'stuck', 'pending', 'claimed', 'applied'];

/**
 * The latest failure of a secret's jobs that no later success cleared (`RotationStatus.lastError`).
 * A failure is cleared by a later success of its own kind, or by a later promoted rotation (which
 * proves everything a preflight or a retire job checks): a preflight that passes after a rotation
 * failed leaves that failure shown, since it does not prove the new password logs in.
 */
export async function lastFailureOf(db: Tx, secretId: string): Promise<RotationFailure | null> {
  const successes = await db.selectFrom('rotations').select(['kind', (eb) => eb.fn.max('finished_at').as('at')])
    .where('secret_id', '=', secretId).where('state', 'in', SUCCESS_STATES).groupBy('kind').execute();
  const lastSuccess = new Map(successes.map((r) => [r.kind, Number(r.at ?? 0)]));
  const cleared = (kind: RotationKind, at: number): boolean =>
    (lastSuccess.get(kind) ?? 0) >= at || (lastSuccess.get('rotate') ?? 0) >= at;
  // The 20 newest failed jobs: a failure still uncleared behind 20 newer ones is not worth a scan.
  const rows = await db.selectFrom('rotations')
    .select(['id', 'kind', 'state', 'attempt', 'error', 'error_code', 'error_at', 'error_attempt', 'error_max_attempts', 'finished_at', 'created_at'])
    .where('secret_id', '=', secretId).where('error_code', 'is not', null).where('state', 'in', FAILURE_STATES)
    .orderBy('created_at', 'desc').limit(20).execute();
  const failures = rows.map((r): RotationFailure => {
    const attempt = r.error_attempt ?? Math.max(1, r.attempt);
    return {
      code: r.error_code ?? 'SK_ERR_PROVIDER_FAILED', message: r.error ?? '', at: r.error_at ?? r.finished_at ?? r.created_at,
      attempt, maxAttempts: r.error_max_attempts ?? attempt, rotationId: r.id, kind: r.kind,
    };
  }).filter((f) => !cleared(f.kind, f.at)).sort((a, b) => b.at - a.at);
  return failures[0] ?? null;
}

/**
 * When the secret's next attempt is due (`RotationStatus.nextAttemptAt`): a pending rotate or
 * retire job's `not_before` (or, due already, when it was created); nothing while a job is stuck
 * (no agent retries it and the schedule skips the secret); else the schedule, while enabled.
 */
async function nextAttemptOf(db: Tx, secretId: string, policy: { enabled: number; next_run_at: number | null }): Promise<number | null> {
  const open = await db.selectFrom('rotations').select(['kind', 'state', 'not_before', 'created_at'])
    .where('secret_id', '=', secretId).where('state', 'in', [...UNFINISHED_ROTATION_STATES]).executeTakeFirst();
  if (open?.state === 'stuck') return null;
  if (open?.state === 'pending' && open.kind !== 'preflight') return open.not_before ?? open.created_at;
  return policy.enabled === 1 ? policy.next_run_at : null;
}

export async function rotationStatus(ctx: VaultContext, projectName: string, secretName: string, rotationId?: string): Promise<RotationStatus> {
  const db = ctx.store.db;
  const { secret, policy } = await policyFor(db, projectName, secretName);
  let latestQ = db.selectFrom('rotations').selectAll().where('secret_id', '=', secret.id).where('kind', '=', 'rotate');
  latestQ = rotationId ? latestQ.where('id', '=', rotationId) : latestQ.orderBy('created_at', 'desc');
  const latest = await latestQ.limit(1).executeTakeFirst();
  const lastSuccess = await db.selectFrom('rotations').select(['created_at', 'finished_at']).where('secret_id', '=', secret.id)
    .where('kind', '=', 'rotate').where('state', '=', SUCCEEDED_STATE.rotate).orderBy('finished_at', 'desc').limit(1).executeTakeFirst();
  const agentId = latest?.claimed_by ?? policy.agent_machine_id;
  const agent = agentId ? await db.selectFrom('machines').select(['name', 'last_seen_at']).where('id', '=', agentId).executeTakeFirst() : undefined;
  let version: number | null = null;
  if (latest?.pending_version_id) {
    version = (await db.selectFrom('secret_versions').select('version').where('id', '=', latest.pending_version_id).executeTakeFirst())?.version ?? null;
  }
  return {
    state: (latest?.state ?? 'none') as RotationState | 'none',
    rotationId: latest?.id ?? null,
    version,
    lastSuccessAt: lastSuccess?.finished_at ?? null,
    lastError: await lastFailureOf(db, secret.id),
    nextAttemptAt: await nextAttemptOf(db, secret.id, policy),
    nextRunAt: policy.enabled ? policy.next_run_at : null,
    enabled: policy.enabled === 1,
    pausedReason: pausedReasonOf(policy),
    latencyMs: latest?.state === SUCCEEDED_STATE.rotate && latest.finished_at ? latest.finished_at - latest.created_at : null,
    agent: { name: agent?.name ?? null, lastSeenAt: agent?.last_seen_at ?? null },
    drift: driftStatus(policy, ctx.now()),
    timeline: latest ? buildTimeline(latest) : [],
  };
}

/** A row of `rotation list`: the policy, its latest job's state, and whether its last attempt failed. */
export interface PolicyListView extends PolicyView {
  state: string;
  /** The secret's `lastError` (as `rotation status`) is set: its last attempt failed and no rotation succeeded since. */
  lastAttemptFailed: boolean;
  lastError: RotationFailure | null;
  nextAttemptAt: number | null;
  drift: DriftStatus;
}

export async function listPolicies(ctx: VaultContext): Promise<PolicyListView[]> {
  const db = ctx.store.db;
  const rows = await db.selectFrom('rotation_policies')
    .innerJoin('secrets', 'secrets.id', 'rotation_policies.secret_id')
    .innerJoin('projects', 'projects.id', 'secrets.project_id')
    .leftJoin('machines', 'machines.id', 'rotation_policies.agent_machine_id')
    .innerJoin('secrets as admin', 'admin.id', 'rotation_policies.admin_secret_id')
    .select(['projects.name as project', 'secrets.name as secret', 'secrets.id as secretId', 'rotation_policies.provider as provider', 'rotation_policies.strategy as strategy',
      'machines.name as agent', 'rotation_policies.agent_label as agentLabel', 'admin.name as adminSecret', 'rotation_policies.schedule as schedule',
      'rotation_policies.timezone as timezone', 'rotation_policies.grace_ms as graceMs', 'rotation_policies.enabled as enabled',
      'rotation_policies.failing as failing', 'rotation_policies.next_run_at as nextRunAt', 'rotation_policies.flavour as flavour',
      'rotation_policies.server_version as serverVersion', 'rotation_policies.paused_reason as paused_reason',
      'rotation_policies.drift_interval_ms as drift_interval_ms', 'rotation_policies.drift_due_at as drift_due_at', 'rotation_policies.drift_checked_at as drift_checked_at',
      'rotation_policies.drift_ok as drift_ok', 'rotation_policies.drift_code as drift_code', 'rotation_policies.drift_message as drift_message',
      'rotation_policies.drift_failing_since as drift_failing_since',
      'rotation_policies.awaiting_approval_by as awaiting_approval_by'])
    .orderBy('projects.name').orderBy('secrets.name').execute();
  const out: PolicyListView[] = [];
  for (const r of rows) {
    const latest = await db.selectFrom('rotations').select('state').where('secret_id', '=', r.secretId).orderBy('created_at', 'desc').limit(1).executeTakeFirst();
    const lastError = await lastFailureOf(db, r.secretId);
    out.push({
      project: r.project, secret: r.secret, provider: r.provider as Engine, strategy: r.strategy, agent: r.agent ?? null, agentLabel: r.agentLabel,
      adminSecret: r.adminSecret, schedule: r.schedule, timezone: r.timezone, graceMs: r.graceMs, driftIntervalSeconds: Math.round(Number(r.drift_interval_ms) / 1000),
      enabled: r.enabled === 1, pausedReason: pausedReasonOf(r), failing: r.failing === 1, drift: driftStatus(r, ctx.now()),
      awaitingApprovalBy: r.awaiting_approval_by === null ? null : await aiAgentName(db, r.awaiting_approval_by),
      nextRunAt: r.nextRunAt, flavour: r.flavour, serverVersion: r.serverVersion, state: latest?.state ?? 'none',
      lastAttemptFailed: lastError !== null, lastError,
      nextAttemptAt: await nextAttemptOf(db, r.secretId, { enabled: r.enabled, next_run_at: r.nextRunAt }),
    });
  }
  return out;
}

// -- lifecycle: pause / resume / delete (issue "A lifecycle for everything") -----------------

export interface PolicyLifecycleView {
  project: string;
  secret: string;
  enabled: boolean;
  pausedReason: PausedReason | null;
  nextRunAt: number | null;
}

const lifecycleView = (project: string, secret: string, p: { enabled: number; paused_reason: string | null; next_run_at: number | null; awaiting_approval_by?: string | null }): PolicyLifecycleView => ({
  project, secret, enabled: p.enabled === 1, pausedReason: pausedReasonOf(p), nextRunAt: p.enabled === 1 ? p.next_run_at : null,
});

/**
 * `rotation pause`: the scheduler stops creating rotations for the secret (`enabled` 0). A job
 * already created runs to its end, and `rotation run` still works: an operator asked. Pausing a
 * policy that a deletion or a machine's removal paused makes it the operator's pause (the reason
 * clears), so a later restore leaves it paused.
 */
export async function pausePolicy(ctx: VaultContext, caller: Caller, projectName: string, secretName: string): Promise<PolicyLifecycleView> {
  return writeTx(ctx, async (trx, audit) => {
    const { project, policy } = await policyFor(trx, projectName, secretName);
    // A policy awaiting approval is paused already, and stays so (and awaiting) until approved.
    if ((policy.enabled === 0 && policy.paused_reason === null) || policy.awaiting_approval_by !== null) return lifecycleView(projectName, secretName, policy);
    const now = ctx.now();
    await trx.updateTable('rotation_policies').set({ enabled: 0, paused_reason: null, updated_at: now }).where('id', '=', policy.id).execute();
    await audit({
      action: 'rotation.pause', projectId: project.id, target: `secret:${projectName}/${secretName}`, outcome: 'success',
      details: { reason: 'operator', wasEnabled: policy.enabled === 1, previousReason: pausedReasonOf(policy) },
    }, caller);
    return lifecycleView(projectName, secretName, { enabled: 0, paused_reason: null, next_run_at: null });
  });
}

/**
 * `rotation resume`: enabled again, whatever paused it, with the next run computed from the
 * schedule as `rotation set` computes it (a run missed while paused is not made up). Refused while
 * the policy has no agent (its machine was removed) and while its secret or project is in the trash.
 */
export async function resumePolicy(ctx: VaultContext, caller: Caller, projectName: string, secretName: string): Promise<PolicyLifecycleView> {
  return writeTx(ctx, async (trx, audit) => {
    const { project, secret, policy } = await policyFor(trx, projectName, secretName);
    if (policy.awaiting_approval_by !== null) throw awaitingApproval(projectName, secretName);
    if (policy.enabled === 1) return lifecycleView(projectName, secretName, policy);
    if (policy.agent_machine_id === null && policy.agent_label === null) {
      throw new SikkerKeyError('SK_ERR_ROTATION_POLICY', `the rotation policy of ${projectName}/${secretName} has no agent (its machine was removed): name one with \`rotation set … --agent MACHINE | --agent-label L\``);
    }
    const trashed = await trx.selectFrom('secrets').innerJoin('projects', 'projects.id', 'secrets.project_id')
      .select(['secrets.deleted_at as secretDeleted', 'projects.deleted_at as projectDeleted']).where('secrets.id', '=', secret.id).executeTakeFirst();
    if (trashed && (trashed.secretDeleted !== null || trashed.projectDeleted !== null)) {
      throw new SikkerKeyError('SK_ERR_CONFLICT', `${projectName}/${secretName} is in the trash: restore it first (a restore resumes the policies its deletion paused)`);
    }
    const now = ctx.now();
    const nextRunAt = nextRun(policy.schedule, policy.timezone, now);
    await trx.updateTable('rotation_policies').set({ enabled: 1, paused_reason: null, next_run_at: nextRunAt, updated_at: now }).where('id', '=', policy.id).execute();
    await audit({
      action: 'rotation.resume', projectId: project.id, target: `secret:${projectName}/${secretName}`, outcome: 'success',
      details: { previousReason: pausedReasonOf(policy), nextRunAt },
    }, caller);
    return lifecycleView(projectName, secretName, { enabled: 1, paused_reason: null, next_run_at: nextRunAt });
  });
}

/**
 * `rotation delete`: the policy goes (past rotations keep their rows, `policy_id` cleared). Refused
 * with SK_ERR_ROTATION_IN_PROGRESS while a job of the secret is unfinished; with `force` a job no
 * agent has claimed is cancelled first, and a claimed one is refused still (`cancelUnclaimed`).
 */
export async function deletePolicy(ctx: VaultContext, caller: Caller, projectName: string, secretName: string, req: { force?: boolean } = {}): Promise<{ project: string; secret: string; cancelledRotationId: string | null }> {
  return writeTx(ctx, async (trx, audit) => {
    const { project, secret, policy } = await policyFor(trx, projectName, secretName);
    let cancelled: { id: string; kind: string } | undefined;
    if (req.force) {
      cancelled = await cancelUnclaimed(ctx, trx, secret.id, 'cancelled: its rotation policy was deleted');
    } else {
      const open = await trx.selectFrom('rotations').select(['id', 'kind', 'state']).where('secret_id', '=', secret.id).where('state', 'in', [...UNFINISHED_ROTATION_STATES]).executeTakeFirst();
      if (open) {
        throw new SikkerKeyError('SK_ERR_ROTATION_IN_PROGRESS',
          `secret ${projectName}/${secretName} has an unfinished ${open.kind} job (${open.id}, ${open.state}); wait for it, or --force to cancel it if no agent has claimed it`,
          { details: { rotationId: open.id, state: open.state, kind: open.kind } });
      }
    }
    await trx.deleteFrom('rotation_policies').where('id', '=', policy.id).execute();
    await audit({
      action: 'rotation.policy.delete', projectId: project.id, target: `secret:${projectName}/${secretName}`, outcome: 'success',
      details: {
        policyId: policy.id, provider: policy.provider, strategy: policy.strategy, agentMachineId: policy.agent_machine_id, agentLabel: policy.agent_label,
        schedule: policy.schedule, enabled: policy.enabled === 1, force: Boolean(req.force), cancelledRotationId: cancelled?.id ?? null,
      },
    }, caller);
    return { project: projectName, secret: secretName, cancelledRotationId: cancelled?.id ?? null };
  });
}

/** An AI agent's name by id (the id itself if the agent is gone). */
async function aiAgentName(db: Tx, id: string): Promise<string> {
  return (await db.selectFrom('ai_agents').select('name').where('id', '=', id).executeTakeFirst())?.name ?? id;
}

/** Who wrote a secret's live version, in words: `operator:<name>`, `ai_agent:<name>`, `rotation:<id>`… */
async function liveWriter(db: Tx, secretId: string): Promise<string | null> {
  const v = await db.selectFrom('secret_versions').select('created_by').where('secret_id', '=', secretId).where('state', '=', 'live').executeTakeFirst();
  if (!v?.created_by) return null;
  const [kind, id] = v.created_by.split(':', 2) as [string, string | undefined];
  if (kind === 'ai_agent' && id) return `ai_agent:${await aiAgentName(db, id)}`;
  if (kind === 'operator' && id) return `operator:${(await db.selectFrom('operators').select('name').where('id', '=', id).executeTakeFirst())?.name ?? id}`;
  return v.created_by;
}

export interface ApprovalView extends PolicyLifecycleView {
  /** The AI agent whose change this approval lets run. */
  approvedChangeBy: string;
  /** Who wrote the live version of the rotated secret and of the admin secret (the fields the agent will log in with). */
  targetWrittenBy: string | null;
  adminSecret: string;
  adminWrittenBy: string | null;
  /** The preflight job created now (null while another job of the secret is unfinished). */
  preflightId: string | null;
}

/**
 * `rotation approve` (operators, admin or owner): lets a policy an AI agent set or changed run.
 * It is enabled with the next run computed from its schedule, and a preflight checks it as a
 * `rotation set` by an operator would; the answer names who last wrote the rotated and the admin
 * secret, so the operator sees when an AI agent wrote the fields the rotation agent will log in
 * with. Refused when nothing awaits approval, while the policy has no agent, and while its secret
 * or project is in the trash.
 */
export async function approvePolicy(ctx: VaultContext, caller: Caller, projectName: string, secretName: string): Promise<ApprovalView> {
  return writeTx(ctx, async (trx, audit) => {
    const { project, secret, policy } = await policyFor(trx, projectName, secretName);
    if (policy.awaiting_approval_by === null) {
      throw new SikkerKeyError('SK_ERR_CONFLICT', `the rotation policy of ${projectName}/${secretName} awaits no approval (only a policy an AI agent set or changed does)`);
    }
    if (policy.agent_machine_id === null && policy.agent_label === null) {
      throw new SikkerKeyError('SK_ERR_ROTATION_POLICY', `the rotation policy of ${projectName}/${secretName} has no agent (its machine was removed): set it again with \`rotation set … --agent MACHINE | --agent-label L\``);
    }
    const trashed = await trx.selectFrom('secrets').innerJoin('projects', 'projects.id', 'secrets.project_id')
      .select(['secrets.deleted_at as secretDeleted', 'projects.deleted_at as projectDeleted']).where('secrets.id', '=', secret.id).executeTakeFirst();
    if (trashed && (trashed.secretDeleted !== null || trashed.projectDeleted !== null)) {
      throw new SikkerKeyError('SK_ERR_CONFLICT', `${projectName}/${secretName} is in the trash: restore it first`);
    }
    const changeBy = await aiAgentName(trx, policy.awaiting_approval_by);
    const admin = await trx.selectFrom('secrets').select('name').where('id', '=', policy.admin_secret_id).executeTakeFirstOrThrow();
    const targetWrittenBy = await liveWriter(trx, secret.id);
    const adminWrittenBy = await liveWriter(trx, policy.admin_secret_id);
    const now = ctx.now();
    const nextRunAt = nextRun(policy.schedule, policy.timezone, now);
    await trx.updateTable('rotation_policies').set({ enabled: 1, paused_reason: null, awaiting_approval_by: null, next_run_at: nextRunAt, updated_at: now })
      .where('id', '=', policy.id).execute();
    const saved = await trx.selectFrom('rotation_policies').selectAll().where('id', '=', policy.id).executeTakeFirstOrThrow();
    const busy = await trx.selectFrom('rotations').select('id').where('secret_id', '=', secret.id).where('state', 'in', [...UNFINISHED_ROTATION_STATES]).executeTakeFirst();
    const preflightId = busy ? null : (await createRotation(ctx, trx, { policy: saved, trigger: 'manual', kind: 'preflight', actor: caller }, audit)).id;
    await audit({
      action: 'rotation.approve', projectId: project.id, target: `secret:${projectName}/${secretName}`, outcome: 'success',
      details: { aiAgentId: policy.awaiting_approval_by, changeBy, adminSecret: admin.name, targetWrittenBy, adminWrittenBy, nextRunAt, preflightId },
    }, caller);
    return {
      ...lifecycleView(projectName, secretName, { enabled: 1, paused_reason: null, next_run_at: nextRunAt }),
      approvedChangeBy: changeBy, targetWrittenBy, adminSecret: admin.name, adminWrittenBy, preflightId,
    };
  });
}
