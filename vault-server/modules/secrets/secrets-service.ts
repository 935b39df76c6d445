import { randomUUID } from 'node:crypto';
import { SikkerKeyError, isSikkerKeyError } from '../../../protocol/errors.js';
import type { Caller } from '../../http/authenticate.js';
import { auditDenied, writeTx } from '../../context.js';
import type { Tx, VaultContext } from '../../context.js';
import { forUpdate } from '../../store/locks.js';
import { findProject, requireProject } from '../projects/projects-service.js';
import type { ProjectRow } from '../projects/projects-service.js';
import { afterTripCommitted, lockForReads, tripCanary } from '../canaries/canaries-tripwire.js';
import type { CanaryTarget, CanaryTrip, TripPlan } from '../canaries/canaries-tripwire.js';
import { readLookups } from './read-lookups.js';
import { enforcePolicy } from '../access-policies/access-policy-enforce.js';
import type { PolicyPass } from '../access-policies/access-policy-enforce.js';
import { refusedAxis } from '../access-policies/access-policy-rules.js';
import type { CachedLiveVersion, ReadLookups } from './read-lookups.js';

export type SecretKind = 'plain' | 'structured' | 'database';

/** A value as written: plain text, or named string fields (structured and database secrets). */
export type SecretInput = { value: string } | { fields: Record<string, string> };

export interface SecretRead {
  project: string;
  name: string;
  version: number;
  value?: string;
  fields?: Record<string, string>;
  /**
   * Present (true) when the value must not be kept beyond this use — in particular never in the
   * agent's offline cache: a secret whose reads an access policy governs (docs/delivery.md).
   */
  noStore?: true;
}

export interface SecretView {
  name: string;
  kind: SecretKind;
  version: number | null;
  isCanary?: boolean;
  createdAt: number;
  /** The bound access policy, when one is. */
  policy?: string;
}

export interface VersionView {
  version: number;
  state: string;
  createdAt: number;
  promotedAt: number | null;
  projectKeyVersion: number;
}

interface SecretRow {
  id: string;
  name: string;
  kind: string;
  is_canary: number;
  current_version: number | null;
  deleted_at: number | null;
}

/** The secret row of that name, in the trash or not (callers decide). */
async function findSecret(trx: Tx, projectId: string, name: string): Promise<SecretRow | undefined> {
  return trx.selectFrom('secrets').select(['id', 'name', 'kind', 'is_canary', 'current_version', 'deleted_at'])
    .where('project_id', '=', projectId).where('name', '=', name).executeTakeFirst();
}

/** The secret of that name, unless it is in the trash. */
export async function requireSecret(trx: Tx, project: Pick<ProjectRow, 'id' | 'name'>, name: string): Promise<SecretRow> {
  const s = await findSecret(trx, project.id, name);
  if (!s || s.deleted_at !== null) throw new SikkerKeyError('SK_ERR_NOT_FOUND', `no secret ${JSON.stringify(name)} in project ${JSON.stringify(project.name)}`);
  return s;
}

export function encodeSecretInput(input: SecretInput): { kind: SecretKind; plaintext: Buffer } {
  if ('value' in input) return { kind: 'plain', plaintext: Buffer.from(input.value, 'utf8') };
  return { kind: 'structured', plaintext: Buffer.from(JSON.stringify(input.fields), 'utf8') };
}

export function decodeSecretPlaintext(kind: string, plaintext: Buffer): { value: string } | { fields: Record<string, string> } {
  const text = plaintext.toString('utf8');
  if (kind === 'plain') return { value: text };
  return { fields: JSON.parse(text) as Record<string, string> };
}

/** Refuses a manual write to a secret an enabled rotation policy manages (DESIGN §6). */
export async function assertNotRotationManaged(trx: Tx, secretId: string, name: string): Promise<void> {
  const policy = await trx.selectFrom('rotation_policies').select(['id']).where('secret_id', '=', secretId).where('enabled', '=', 1).executeTakeFirst();
  if (policy) {
    throw new SikkerKeyError('SK_ERR_ROTATION_MANAGED', `secret ${JSON.stringify(name)} is under an enabled rotation policy: pause it (rotation pause) or use rotation run`);
  }
}

/**
 * The harvest guard (issue 23): writing is not blind by itself. The rotation agent logs in to a
 * rotated secret's host with the pending and the live password, and to its admin secret's host with
 * the admin credential, so whoever may rewrite those fields (host, port, poolerHost, tls, caFile,
 * username…) could have the credentials sent to a host of theirs. An AI agent therefore writes or
 * rolls back no secret a rotation policy uses, as its target or its admin secret, whatever the
 * policy's state; an operator does. (Lease roles, when they exist, join this check.)
 */
export async function assertAiAgentMayWrite(trx: Tx, caller: Caller, secretId: string, name: string): Promise<void> {
  if (caller.kind !== 'ai_agent') return;
  const used = await trx.selectFrom('rotation_policies').select(['secret_id'])
    .where((eb) => eb.or([eb('secret_id', '=', secretId), eb('admin_secret_id', '=', secretId)])).executeTakeFirst();
  if (used) {
    throw new SikkerKeyError('SK_ERR_AI_AGENT_SECRET_IN_USE',
      `secret ${JSON.stringify(name)} is ${used.secret_id === secretId ? 'rotated by' : 'the admin secret of'} a rotation policy: an AI agent may not write it; an operator does`);
  }
}

/** Records an AI agent's refused write (its transaction rolled back) and passes the error on. */
export async function auditAiRefusal<T>(ctx: VaultContext, caller: Caller, e: { action: string; target: string }, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (isSikkerKeyError(err, 'SK_ERR_AI_AGENT_SECRET_IN_USE')) await auditDenied(ctx, caller, { ...e, details: { code: err.code } });
    throw err;
  }
}

/**
 * Takes a secret's row exclusively: every change to its versions (a write, a rollback, a
 * rotation's pending version or promotion) holds it, so version numbers and the one `live`
 * version never race. Lock order: secret row, then the audit head (always last).
 */
export async function lockSecret(ctx: VaultContext, trx: Tx, secretId: string): Promise<void> {
  await forUpdate(ctx.store.dialect, trx.selectFrom('secrets').select('id').where('id', '=', secretId)).executeTakeFirst();
}

/**
 * Inserts a new version of a secret with its own fresh data key. `state` is `live` for an
 * operator's write (the previous live becomes `previous`), `pending` for a rotation.
 */
export async function insertVersion(ctx: VaultContext, trx: Tx, req: {
  project: ProjectRow; secretId: string; plaintext: Buffer; state: 'live' | 'pending'; createdBy: string;
}): Promise<{ id: string; version: number }> {
  await lockSecret(ctx, trx, req.secretId);
  const last = await trx.selectFrom('secret_versions').select((eb) => eb.fn.max('version').as('v'))
    .where('secret_id', '=', req.secretId).executeTakeFirst();
  const version = Number(last?.v ?? 0) + 1;
  const { ciphertext, wrappedDataKey } = ctx.keyring.encryptValue({
    projectId: req.project.id, keyVersion: req.project.key_version, wrappedProjectKey: req.project.master_key_wrapped,
    secretId: req.secretId, version, plaintext: req.plaintext,
  });
  const id = randomUUID();
  const now = ctx.now();
  // A first version has nothing to demote (an import writes up to 1,000 of them in one transaction).
  if (req.state === 'live' && version > 1) await demoteLive(trx, req.secretId);
  await trx.insertInto('secret_versions').values({
    id, secret_id: req.secretId, version, state: req.state, ciphertext, wrapped_data_key: wrappedDataKey,
    project_key_version: req.project.key_version, created_at: now, promoted_at: req.state === 'live' ? now : null,
    created_by: req.createdBy,
  }).execute();
  if (req.state === 'live') await trx.updateTable('secrets').set({ current_version: version }).where('id', '=', req.secretId).execute();
  return { id, version };
}

/** The live version becomes `previous`; an older `previous` is `retired`. */
export async function demoteLive(trx: Tx, secretId: string): Promise<void> {
  await trx.updateTable('secret_versions').set({ state: 'retired' }).where('secret_id', '=', secretId).where('state', '=', 'previous').execute();
  await trx.updateTable('secret_versions').set({ state: 'previous' }).where('secret_id', '=', secretId).where('state', '=', 'live').execute();
}

/** Decrypts one version's own row: its data key, wrapped under the project key version it records. */
export async function decryptVersion(ctx: VaultContext, trx: Tx, project: Pick<ProjectRow, 'id' | 'key_version' | 'master_key_wrapped'>, secretId: string, row: {
  version: number; ciphertext: Buffer; wrapped_data_key: Buffer; project_key_version: number;
}): Promise<Buffer> {
  const key = row.project_key_version === project.key_version
    ? project.master_key_wrapped
    : (await trx.selectFrom('project_keys').select('wrapped').where('project_id', '=', project.id)
      .where('key_version', '=', row.project_key_version).executeTakeFirstOrThrow()).wrapped;
  return ctx.keyring.decryptValue({
    projectId: project.id, keyVersion: row.project_key_version, wrappedProjectKey: key, secretId,
    version: row.version, ciphertext: row.ciphertext, wrappedDataKey: row.wrapped_data_key,
  });
}

export async function setSecret(ctx: VaultContext, caller: Caller, req: { project: string; name: string; input: SecretInput; kind?: SecretKind }): Promise<{ project: string; name: string; version: number }> {
  return auditAiRefusal(ctx, caller, { action: 'secret.write', target: `secret:${req.project}/${req.name}` }, () =>
    writeTx(ctx, async (trx, audit) => writeSecret(ctx, trx, audit, caller, { project: await requireProject(trx, req.project), name: req.name, input: req.input, ...(req.kind ? { kind: req.kind } : {}) })));
}

/**
 * One operator write (a new live version, audited `secret.write`) inside the caller's write
 * transaction: `setSecret` runs it alone, an import runs it once per secret in one transaction
 * (a writeTx inside a writeTx would wait for its own group commit).
 */
export async function writeSecret(ctx: VaultContext, trx: Tx, audit: AuditFn, caller: Caller, req: { project: ProjectRow; name: string; input: SecretInput; kind?: SecretKind }): Promise<{ project: string; name: string; version: number }> {
  const encoded = encodeSecretInput(req.input);
  const kind = req.kind ?? encoded.kind;
  const project = req.project;
  // Two first writes of one name at once: one inserts, the other finds it (no unique-violation 500).
  await trx.insertInto('secrets').values({ id: randomUUID(), project_id: project.id, name: req.name, kind, is_canary: 0, current_version: null, created_at: ctx.now() })
    .onConflict((oc) => oc.columns(['project_id', 'name']).doNothing()).execute();
  const secret = await findSecret(trx, project.id, req.name);
  if (!secret) throw new SikkerKeyError('SK_ERR_INTERNAL', 'the secret row vanished during its write');
  if (secret.deleted_at !== null) throw new SikkerKeyError('SK_ERR_CONFLICT', `secret ${JSON.stringify(req.name)} is in the trash: restore it (secret restore) or purge it (trash purge) first`);
  await lockSecret(ctx, trx, secret.id);
  await assertAiAgentMayWrite(trx, caller, secret.id, req.name);
  await assertNotRotationManaged(trx, secret.id, req.name);
  if ((secret.kind === 'plain') !== (kind === 'plain')) {
    throw new SikkerKeyError('SK_ERR_CONFLICT', `secret ${JSON.stringify(req.name)} is ${secret.kind}: write it as ${secret.kind === 'plain' ? '--value' : '--fields-json'}`);
  }
  const { version } = await insertVersion(ctx, trx, { project, secretId: secret.id, plaintext: encoded.plaintext, state: 'live', createdBy: `${caller.kind}:${caller.id}` });
  await audit({ action: 'secret.write', projectId: project.id, target: `secret:${project.name}/${req.name}`, outcome: 'success', details: { version, kind } }, caller);
  return { project: project.name, name: req.name, version };
}

export async function listSecrets(ctx: VaultContext, projectName: string): Promise<SecretView[]> {
  const project = await requireProject(ctx.store.db, projectName);
  const rows = await ctx.store.db.selectFrom('secrets').leftJoin('access_policies', 'access_policies.id', 'secrets.policy_id')
    .select(['secrets.name as name', 'secrets.kind as kind', 'secrets.is_canary as is_canary', 'secrets.current_version as current_version', 'secrets.created_at as created_at', 'access_policies.name as policy'])
    .where('secrets.project_id', '=', project.id).where('secrets.deleted_at', 'is', null).orderBy('secrets.name').execute();
  return rows.map((r) => ({ name: r.name, kind: r.kind as SecretKind, version: r.current_version, isCanary: r.is_canary === 1, createdAt: r.created_at, ...(r.policy !== null ? { policy: r.policy } : {}) }));
}

export async function listVersions(ctx: VaultContext, projectName: string, name: string): Promise<VersionView[]> {
  const project = await requireProject(ctx.store.db, projectName);
  const secret = await requireSecret(ctx.store.db, project, name);
  const rows = await ctx.store.db.selectFrom('secret_versions').select(['version', 'state', 'created_at', 'promoted_at', 'project_key_version'])
    .where('secret_id', '=', secret.id).orderBy('version', 'desc').execute();
  return rows.map((r) => ({ version: r.version, state: r.state, createdAt: r.created_at, promotedAt: r.promoted_at, projectKeyVersion: r.project_key_version }));
}

/**
 * Makes version `to` live again. That version's own row is decrypted as it was written (its own
 * data key), so the check below proves it is readable before it becomes what machines get.
 */
export async function rollbackSecret(ctx: VaultContext, caller: Caller, req: { project: string; name: string; to: number }): Promise<{ project: string; name: string; version: number }> {
  return auditAiRefusal(ctx, caller, { action: 'secret.rollback', target: `secret:${req.project}/${req.name}` }, () => writeTx(ctx, async (trx, audit) => {
    const project = await requireProject(trx, req.project);
    const secret = await requireSecret(trx, project, req.name);
    await lockSecret(ctx, trx, secret.id);
    await assertAiAgentMayWrite(trx, caller, secret.id, req.name);
    await assertNotRotationManaged(trx, secret.id, req.name);
    const target = await trx.selectFrom('secret_versions').select(['id', 'version', 'state', 'ciphertext', 'wrapped_data_key', 'project_key_version'])
      .where('secret_id', '=', secret.id).where('version', '=', req.to).executeTakeFirst();
    if (!target) throw new SikkerKeyError('SK_ERR_NOT_FOUND', `secret ${JSON.stringify(req.name)} has no version ${req.to}`);
    if (target.state === 'pending' || target.state === 'discarded') {
      throw new SikkerKeyError('SK_ERR_CONFLICT', `version ${req.to} is ${target.state} and was never proven: it cannot be rolled back to`);
    }
    await decryptVersion(ctx, trx, project, secret.id, target);
    if (target.state !== 'live') {
      await demoteLive(trx, secret.id);
      await trx.updateTable('secret_versions').set({ state: 'live', promoted_at: ctx.now() }).where('id', '=', target.id).execute();
      await trx.updateTable('secrets').set({ current_version: req.to }).where('id', '=', secret.id).execute();
    }
    await audit({ action: 'secret.rollback', projectId: project.id, target: `secret:${req.project}/${req.name}`, outcome: 'success', details: { version: req.to } }, caller);
    return { project: req.project, name: req.name, version: req.to };
  }));
}

export type AuditFn = (e: { action: string; projectId?: string | null; target: string; outcome: 'success' | 'denied' | 'failure'; details?: Record<string, unknown> }, caller?: Caller) => Promise<void>;

/**
 * One machine read inside the caller's transaction (DESIGN §5): the project row is taken shared,
 * a locked project refuses, the grant is checked (project, secret or field level), the audit event
 * is written, and only then the live version is decrypted. A machine without any grant in the
 * project learns nothing about which secrets exist.
 *
 * `trippedProjectId`: the project a canary read locked a moment ago in this same transaction.
 * Only that read itself passes the lock it set (the decoy is answered exactly like a real
 * value); every other read of the project — in this batch or any later transaction — gets 423.
 */
async function readInTransaction(ctx: VaultContext, trx: Tx, audit: AuditFn, caller: Caller, look: ReadLookups, req: SecretReadRequest, opts: { trippedProjectId?: string; watchAfter?: number } = {}): Promise<SecretRead> {
  const target = `secret:${req.project}/${req.name}`;
  const project = await look.project(req.project);
  const grants = project ? await look.grants(caller.id, project.id) : [];
  if (!project || grants.length === 0) {
    if (!project && await projectGrantedInTrash(trx, caller.id, req.project)) throw notFound(req);
    throw noGrant();
  }
  if (project.locked_at !== null && project.id !== opts.trippedProjectId) throw projectLocked(req.project);
  const secret = await look.secret(project.id, req.name);
  const projectWide = grants.filter((g) => g.secret_id === null);
  const forSecret = secret ? grants.filter((g) => g.secret_id === secret.id) : [];
  if (projectWide.length === 0 && forSecret.length === 0) {
    // A grant on exactly this secret, now in the trash: the machine knew it, so it learns it is gone.
    if (!secret && await grantedInTrash(trx, project.id, req.name, grants)) throw notFound(req);
    throw noGrant();
  }
  if (!secret) throw notFound(req);
  // The live read stays on the cached lookups; a read of a given version asks the store directly.
  const live = req.version === undefined ? await look.liveVersion(secret.id) : await servableVersion(trx, secret.id, req.version);
  if (!live) {
    throw req.version === undefined
      ? new SikkerKeyError('SK_ERR_NOT_FOUND', `secret ${JSON.stringify(req.name)} has no live version yet`)
      : noSuchVersion(req.project, req.name, req.version);
  }
  const allowed = grantedFields([...projectWide, ...forSecret]);
  // A secret with no bound policy costs nothing more than the cached secret row it already took.
  let pass: PolicyPass | undefined;
  if (secret.policy_id !== null) {
    try {
      pass = await enforcePolicy(ctx, trx, audit, caller, { secretId: secret.id, projectId: project.id, target }, await look.policy(secret.policy_id));
    } catch (err) {
      const axis = refusedAxis(err);
      if (axis) ctx.metrics.policyRefusals.inc({ axis });
      throw err;
    }
  }
  await audit({ action: 'secret.read', projectId: project.id, target, outcome: 'success', details: { version: live.version, ...('state' in live ? { state: live.state } : {}), ...(allowed === 'all' ? {} : { fields: [...allowed] }), ...(opts.watchAfter !== undefined ? { watchAfter: opts.watchAfter } : {}), ...(pass ? { accessPolicy: pass.policy, ...(pass.cosignId ? { cosignId: pass.cosignId } : {}) } : {}) } }, caller);
  const decoded = decodeSecretPlaintext(secret.kind, await decryptVersion(ctx, trx, project, secret.id, live));
  // A policy counts, times or co-signs each read, which a copy served later would bypass. Canaries
  // are NOT marked: their answer stays byte for byte a real one's; the agent keeps a canary out of
  // its cache by asking once more before it stores (docs/delivery.md, "What is never cached").
  const noStore = secret.policy_id !== null ? { noStore: true as const } : {};
  if ('value' in decoded) return { project: req.project, name: req.name, version: live.version, value: decoded.value, ...noStore };
  const fields = allowed === 'all' ? decoded.fields : Object.fromEntries(Object.entries(decoded.fields).filter(([k]) => allowed.has(k)));
  return { project: req.project, name: req.name, version: live.version, fields, ...noStore };
}

/** What a machine asks for: the live version, or with `version` that version if it was ever live. */
export interface SecretReadRequest { project: string; name: string; version?: number }

/**
 * A version a machine may read by number: one that was live (`live`, `previous`, `retired`).
 * A `pending` version was never proven and a `discarded` one failed: they answer exactly like a
 * version that does not exist.
 */
async function servableVersion(trx: Tx, secretId: string, version: number): Promise<(CachedLiveVersion & { state: string }) | undefined> {
  return trx.selectFrom('secret_versions').select(['version', 'state', 'ciphertext', 'wrapped_data_key', 'project_key_version'])
    .where('secret_id', '=', secretId).where('version', '=', version).where('state', 'in', ['live', 'previous', 'retired']).executeTakeFirst();
}

/**
 * The machine's status, read again inside the transaction (through the change-counter-checked
 * cache): authentication checked it before the transaction began, and a canary trip may have
 * disabled the machine since.
 */
export async function assertMachineActive(look: ReadLookups, caller: Caller): Promise<void> {
  const status = await look.machineStatus(caller.id);
  if (status === 'expired') throw new SikkerKeyError('SK_ERR_MACHINE_EXPIRED', 'this machine\'s lifetime has ended');
  if (status !== 'active') throw new SikkerKeyError('SK_ERR_MACHINE_DISABLED', 'this machine is disabled');
}

/**
 * Takes the project rows the reads need (PostgreSQL; a no-op on SQLite, whose batch holds the one
 * writer) and returns lookups that reflect them: on PostgreSQL the change counter is read again
 * after the locks, since a canary trip may have committed while this read waited for them.
 */
async function lockAndLook(ctx: VaultContext, trx: Tx, caller: Caller, items: ReadonlyArray<{ project: string; name: string }>): Promise<{ look: ReadLookups; canaries: CanaryTarget[]; plan: TripPlan }> {
  const first = await readLookups(ctx, trx);
  await assertMachineActive(first, caller);
  const { canaries, plan, locked } = await lockForReads(ctx, trx, caller, items, first);
  // A lock just taken may have waited for a canary trip that committed meanwhile: look again.
  // Locks this batch held already (an earlier read's) let no trip commit since `first`.
  const look = locked ? await readLookups(ctx, trx) : first;
  return { look, canaries, plan };
}

const isRefusal = (err: unknown): err is SikkerKeyError =>
  err instanceof SikkerKeyError && (err.code === 'SK_ERR_NO_GRANT' || err.code === 'SK_ERR_PROJECT_LOCKED' || err.code === 'SK_ERR_MACHINE_DISABLED' || err.code === 'SK_ERR_MACHINE_EXPIRED'
    || err.code === 'SK_ERR_CONSTRAINT_UNKNOWN' || refusedAxis(err) !== undefined);

/** What a refusal's audit event says of it: its code, and the access-policy axis that refused (`details.policy`). */
function refusalDetails(err: SikkerKeyError): Record<string, unknown> {
  const axis = refusedAxis(err);
  return { code: err.code, ...(axis ? { policy: axis } : {}) };
}

/**
 * `GET /v1/projects/{p}/secrets/{s}`: one read, one transaction. A refusal is audited on its own.
 *
 * A canary is looked up first, without locks, so its read can take its project rows exclusively
 * before anything else (DESIGN §8); it then trips (lock, audit, machine disabled) and its decoy is
 * answered like any value — returned only once that transaction has committed, since writeTx
 * resolves after COMMIT. A real read takes its project shared first (`lockForReads`), so on
 * PostgreSQL it waits for a trip in progress and then sees the lock.
 */
export async function readSecret(ctx: VaultContext, caller: Caller, req: SecretReadRequest, opts: { watchAfter?: number } = {}): Promise<SecretRead> {
  const watch = opts.watchAfter !== undefined ? { watchAfter: opts.watchAfter } : {};
  const asked = req.version !== undefined ? { version: req.version } : {};
  let canaryAttempt = false;
  const trips: CanaryTrip[] = [];
  try {
    const read = await writeTx(ctx, async (trx, audit): Promise<SecretRead | SikkerKeyError> => {
      const { look, canaries: [canary], plan } = await lockAndLook(ctx, trx, caller, [req]);
      if (!canary) return readInTransaction(ctx, trx, audit, caller, look, req, watch);
      canaryAttempt = true;
      const trip = await tripCanary(ctx, trx, audit, caller, canary, plan);
      if (trip) trips.push(trip);
      // Not tripped: its project was locked already, and the read below answers 423 like any read there.
      // Tripped: the trip changed cached rows, so the lookups are taken again (the counter moved).
      try {
        return await readInTransaction(ctx, trx, audit, caller, trip ? await readLookups(ctx, trx) : look, req, trip ? { trippedProjectId: canary.projectId, ...watch } : watch);
      } catch (err) {
        // A canary read of a version it never had trips all the same: the trip commits, then 404.
        // So does one its access policy refuses: the attempt is the signal.
        if (trip && (isSikkerKeyError(err, 'SK_ERR_NOT_FOUND') || refusedAxis(err) !== undefined)) return err as SikkerKeyError;
        throw err;
      }
    }, { nonce: caller.nonce });
    afterTripCommitted(ctx, trips);
    if (read instanceof SikkerKeyError) throw read;
    return read;
  } catch (err) {
    if (isRefusal(err)) {
      await auditDenied(ctx, caller, {
        action: 'secret.read', projectId: (await findProject(ctx.store.db, req.project))?.id ?? null, target: `secret:${req.project}/${req.name}`,
        details: { ...refusalDetails(err), ...(canaryAttempt ? { canary: true, severity: 'critical' } : {}), ...asked, ...watch },
      });
    }
    throw err;
  }
}

/**
 * A watch (`?waitForVersionAfter=N`) refused before any value: audited as a denied read, exactly
 * like a read's refusal (no grant, locked project), so a watch is no unaudited probe.
 */
export async function auditWatchRefusal(ctx: VaultContext, caller: Caller, req: { project: string; name: string; after: number }, err: unknown): Promise<void> {
  if (!isRefusal(err)) return;
  await auditDenied(ctx, caller, {
    action: 'secret.read', projectId: (await findProject(ctx.store.db, req.project))?.id ?? null, target: `secret:${req.project}/${req.name}`,
    details: { ...refusalDetails(err), watchAfter: req.after },
  });
}

export type BatchItemResult =
  | ({ status: 200 } & SecretRead)
  | { project: string; name: string; status: number; error: { code: string; message: string } };

/**
 * `POST /v1/secrets:batchGet`: many reads under one signature, in one transaction, one audit event
 * per item (refusals included, in the same transaction since it commits either way).
 *
 * Every project row the batch touches is locked up front, in id order — exclusively those a
 * canary in the batch will lock, shared the rest — so the batch never takes a project row after
 * the audit head. Canaries the machine may read trip FIRST, before any item is served; then every
 * item of a now-locked project (the canary's own item included) answers 423, the others normally.
 */
export async function batchRead(ctx: VaultContext, caller: Caller, items: SecretReadRequest[]): Promise<BatchItemResult[]> {
  const trips: CanaryTrip[] = [];
  const results = await writeTx(ctx, async (trx, audit) => {
    const locked = await lockAndLook(ctx, trx, caller, items);
    const { canaries, plan } = locked;
    let look = locked.look;
    for (const canary of canaries) {
      const trip = await tripCanary(ctx, trx, audit, caller, canary, plan);
      if (trip) trips.push(trip);
    }
    if (trips.length > 0) look = await readLookups(ctx, trx);
    const canaryItems = new Set(canaries.map((c) => `${c.project}\u0000${c.name}`));
    const out: BatchItemResult[] = [];
    for (const item of items) {
      try {
        out.push({ status: 200, ...(await readInTransaction(ctx, trx, audit, caller, look, item)) });
      } catch (err) {
        if (!(err instanceof SikkerKeyError) || err.statusCode >= 500) throw err;
        if (isRefusal(err)) {
          const projectId = (await findProject(trx, item.project))?.id ?? null;
          const canary = canaryItems.has(`${item.project}\u0000${item.name}`);
          await audit({ action: 'secret.read', projectId, target: `secret:${item.project}/${item.name}`, outcome: 'denied', details: { ...refusalDetails(err), ...(item.version !== undefined ? { version: item.version } : {}), ...(canary ? { canary: true, severity: 'critical' } : {}) } }, caller);
        }
        out.push({ project: item.project, name: item.name, status: err.statusCode, error: { code: err.code, message: err.message } });
      }
    }
    return out;
  }, { nonce: caller.nonce });
  afterTripCommitted(ctx, trips);
  return results;
}

function grantedFields(grants: Array<{ fields: string | null }>): 'all' | Set<string> {
  const out = new Set<string>();
  for (const g of grants) {
    if (g.fields === null) return 'all';
    for (const f of JSON.parse(g.fields) as string[]) out.add(f);
  }
  return out;
}

const noSuchVersion = (project: string, name: string, version: number): SikkerKeyError =>
  new SikkerKeyError('SK_ERR_NOT_FOUND', `no version ${version} of secret ${JSON.stringify(name)} in project ${JSON.stringify(project)}`);
const noGrant = (): SikkerKeyError => new SikkerKeyError('SK_ERR_NO_GRANT', 'this machine holds no grant for that secret');
const notFound = (req: { project: string; name: string }): SikkerKeyError => new SikkerKeyError('SK_ERR_NOT_FOUND', `no secret ${JSON.stringify(req.name)} in project ${JSON.stringify(req.project)}`);

/** Whether the machine holds a grant in the project of that name that is in the trash (only asked on the refusal path). */
async function projectGrantedInTrash(trx: Tx, machineId: string, projectName: string): Promise<boolean> {
  const row = await trx.selectFrom('projects').innerJoin('grants', 'grants.project_id', 'projects.id').select('projects.id')
    .where('projects.name', '=', projectName).where('projects.deleted_at', 'is not', null).where('grants.machine_id', '=', machineId).executeTakeFirst();
  return row !== undefined;
}

/** Whether one of `grants` names the secret of that name that is in the trash (only asked on the refusal path). */
async function grantedInTrash(trx: Tx, projectId: string, name: string, grants: ReadonlyArray<{ secret_id: string | null }>): Promise<boolean> {
  const trashed = await trx.selectFrom('secrets').select('id').where('project_id', '=', projectId).where('name', '=', name).where('deleted_at', 'is not', null).executeTakeFirst();
  return trashed !== undefined && grants.some((g) => g.secret_id === trashed.id);
}
const projectLocked = (name: string): SikkerKeyError =>
  new SikkerKeyError('SK_ERR_PROJECT_LOCKED', `project ${JSON.stringify(name)} is locked; an operator must unlock it`);
