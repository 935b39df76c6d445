/**
 * Import and export of a project's secrets (issue 21).
 *
 * An import writes every secret in ONE write transaction, through the same `writeSecret` an
 * operator's `secret set` uses (a new live version with its own data key, audited
 * `secret.write`), plus one `secret.import` event with the names and counts — never a value.
 * It is all or nothing: any refusal (a name that exists under `fail`, a canary or a
 * rotation-managed secret under `new-version`, a name in the trash) rolls every write back.
 *
 * An export writes metadata only: names, kinds, versions, descriptions, tags, grants and rotation
 * policies. Values are read only by machines.
 *
 * @example
 *   await importSecrets(ctx, caller, { project: 'shop', onConflict: 'skip', secrets: [{ name: 'DB_URL', value: '…' }] });
 *   const { secrets } = await exportProject(ctx, 'shop');
 */
import { SikkerKeyError } from '../../../protocol/errors.js';
import type { Caller } from '../../http/authenticate.js';
import { NAME_PATTERN, writeTx } from '../../context.js';
import type { Tx, VaultContext } from '../../context.js';
import type { ProjectRow } from '../projects/projects-service.js';
import { auditAiRefusal, writeSecret } from '../secrets/secrets-service.js';
import type { SecretInput, SecretKind } from '../secrets/secrets-service.js';

/** The most secrets one import may carry (one transaction holds every write: keep it bounded). */
export const IMPORT_MAX_SECRETS = 1_000;

export type OnConflict = 'fail' | 'skip' | 'new-version';

export type ImportItem = { name: string } & SecretInput;

export interface ImportResult {
  project: string;
  created: string[];
  skipped: string[];
  newVersions: string[];
}

const NAME = new RegExp(NAME_PATTERN);

/** At most this many names are quoted in one error message; the rest are counted. */
const NAMES_IN_MESSAGE = 50;

function nameList(names: readonly string[]): string {
  const shown = names.slice(0, NAMES_IN_MESSAGE).map((n) => JSON.stringify(n)).join(', ');
  return names.length > NAMES_IN_MESSAGE ? `${shown} and ${names.length - NAMES_IN_MESSAGE} more` : shown;
}

/** A project that is not in the trash; one in the trash is not found, like one that never was. */
async function liveProject(trx: Tx, name: string): Promise<ProjectRow> {
  const p = await trx.selectFrom('projects').select(['id', 'name', 'master_key_wrapped', 'key_version', 'locked_at', 'locked_reason'])
    .where('name', '=', name).where('deleted_at', 'is', null).executeTakeFirst();
  if (!p) throw new SikkerKeyError('SK_ERR_NOT_FOUND', `no project named ${JSON.stringify(name)}`);
  return p;
}

/** Checks what can be checked without the store: count, names, duplicates. */
function checkItems(items: readonly ImportItem[]): void {
  if (items.length === 0) throw new SikkerKeyError('SK_ERR_VALIDATION', 'the import holds no secrets');
  if (items.length > IMPORT_MAX_SECRETS) throw new SikkerKeyError('SK_ERR_VALIDATION', `an import holds at most ${IMPORT_MAX_SECRETS} secrets (this one: ${items.length}); split it`);
  const invalid = items.map((i) => i.name).filter((n) => !NAME.test(n));
  if (invalid.length > 0) {
    throw new SikkerKeyError('SK_ERR_VALIDATION', `invalid secret names (letters, digits, '.', '_', '-'; starting with a letter or digit; at most 128): ${nameList(invalid)}`);
  }
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const i of items) (seen.has(i.name) ? twice : seen).add(i.name);
  if (twice.size > 0) throw new SikkerKeyError('SK_ERR_VALIDATION', `names given more than once: ${nameList([...twice])}`);
}

/**
 * `POST /v1/projects/{project}/import`: writes every secret in one transaction or none.
 * `onConflict`: `fail` refuses the whole import if any name exists (409, naming them); `skip`
 * leaves existing secrets as they are; `new-version` writes a new live version of them (refused
 * for canaries and for secrets under an enabled rotation policy).
 */
export async function importSecrets(ctx: VaultContext, caller: Caller, req: { project: string; onConflict: OnConflict; secrets: readonly ImportItem[] }): Promise<ImportResult> {
  checkItems(req.secrets);
  return auditAiRefusal(ctx, caller, { action: 'secret.import', target: `project:${req.project}` }, () => writeTx(ctx, async (trx, audit) => {
    const project = await liveProject(trx, req.project);
    const names = req.secrets.map((s) => s.name);
    const existing = new Map((await trx.selectFrom('secrets').select(['id', 'name', 'is_canary', 'deleted_at'])
      .where('project_id', '=', project.id).where('name', 'in', names).execute()).map((r) => [r.name, r]));
    const inTrash = names.filter((n) => existing.get(n)?.deleted_at != null);
    if (inTrash.length > 0) {
      throw new SikkerKeyError('SK_ERR_CONFLICT', `secrets in the trash hold these names: ${nameList(inTrash)} (restore or purge them first)`, { details: { names: inTrash } });
    }
    const clashing = names.filter((n) => existing.has(n));
    if (req.onConflict === 'fail' && clashing.length > 0) {
      throw new SikkerKeyError('SK_ERR_CONFLICT', `secrets exist already: ${nameList(clashing)} (--on-conflict skip or new-version to import anyway)`, { details: { names: clashing } });
    }
    if (req.onConflict === 'new-version') {
      const canaries = clashing.filter((n) => existing.get(n)?.is_canary === 1);
      if (canaries.length > 0) throw new SikkerKeyError('SK_ERR_CONFLICT', `canaries are not written by an import: ${nameList(canaries)}`, { details: { names: canaries } });
      const ids = clashing.map((n) => existing.get(n)?.id).filter((id): id is string => id !== undefined);
      const managed = ids.length === 0 ? [] : await trx.selectFrom('rotation_policies').innerJoin('secrets', 'secrets.id', 'rotation_policies.secret_id')
        .select('secrets.name').where('rotation_policies.secret_id', 'in', ids).where('rotation_policies.enabled', '=', 1).orderBy('secrets.name').execute();
      if (managed.length > 0) {
        const list = managed.map((m) => m.name);
        throw new SikkerKeyError('SK_ERR_ROTATION_MANAGED', `secrets under an enabled rotation policy: ${nameList(list)} (pause their policies or leave them out)`, { details: { names: list } });
      }
    }
    const result: ImportResult = { project: project.name, created: [], skipped: [], newVersions: [] };
    for (const item of req.secrets) {
      const exists = existing.has(item.name);
      if (exists && req.onConflict === 'skip') {
        result.skipped.push(item.name);
        continue;
      }
      const input: SecretInput = 'value' in item ? { value: item.value } : { fields: item.fields };
      await writeSecret(ctx, trx, audit, caller, { project, name: item.name, input });
      (exists ? result.newVersions : result.created).push(item.name);
    }
    await audit({
      action: 'secret.import', projectId: project.id, target: `project:${project.name}`, outcome: 'success',
      details: {
        onConflict: req.onConflict, created: result.created.length, skipped: result.skipped.length, newVersions: result.newVersions.length,
        names: { created: result.created, skipped: result.skipped, newVersions: result.newVersions },
      },
    }, caller);
    return result;
  }));
}

export interface ExportedGrant { machine: string; fields: string[] | null }

export interface ExportedRotation {
  provider: string;
  strategy: string;
  schedule: string | null;
  timezone: string | null;
  enabled: boolean;
  paused: boolean;
  pausedReason: string | null;
  agent: { machine: string } | { label: string } | null;
  adminSecret: string | null;
}

export interface ExportedSecret {
  name: string;
  kind: SecretKind;
  version: number | null;
  isCanary: boolean;
  description: string | null;
  tags: Record<string, string>;
  /** Grants on this secret alone (project-wide grants are listed once, on the project). */
  grants: ExportedGrant[];
  rotation: ExportedRotation | null;
}

export interface ProjectExport {
  project: string;
  exportedAt: number;
  /** Grants on the whole project: they cover every secret of it. */
  grants: ExportedGrant[];
  secrets: ExportedSecret[];
}

function parseJson<T>(text: string | null, fallback: T): T {
  if (text === null) return fallback;
  try { return JSON.parse(text) as T; } catch { return fallback; }
}

/**
 * `GET /v1/projects/{project}/export`: the project's metadata, never a value. Secrets in the
 * trash are left out, as are grants and policies of secrets in the trash.
 */
export async function exportProject(ctx: VaultContext, projectName: string): Promise<ProjectExport> {
  const db = ctx.store.db;
  const project = await liveProject(db, projectName);
  const secrets = await db.selectFrom('secrets').select(['id', 'name', 'kind', 'is_canary', 'current_version', 'description', 'tags'])
    .where('project_id', '=', project.id).where('deleted_at', 'is', null).orderBy('name').execute();
  const grants = await db.selectFrom('grants').innerJoin('machines', 'machines.id', 'grants.machine_id')
    .select(['grants.secret_id', 'grants.fields', 'machines.name as machine'])
    .where('grants.project_id', '=', project.id).orderBy('machines.name').execute();
  const policies = await db.selectFrom('rotation_policies').innerJoin('secrets', 'secrets.id', 'rotation_policies.secret_id')
    .leftJoin('machines', 'machines.id', 'rotation_policies.agent_machine_id')
    .leftJoin('secrets as admin', 'admin.id', 'rotation_policies.admin_secret_id')
    .select(['rotation_policies.secret_id', 'rotation_policies.provider', 'rotation_policies.strategy', 'rotation_policies.schedule', 'rotation_policies.timezone',
      'rotation_policies.enabled', 'rotation_policies.paused_reason', 'rotation_policies.agent_label', 'machines.name as agentMachine', 'admin.name as adminSecret'])
    .where('secrets.project_id', '=', project.id).where('secrets.deleted_at', 'is', null).execute();
  const grantOf = (g: { machine: string; fields: string | null }): ExportedGrant => ({ machine: g.machine, fields: parseJson<string[] | null>(g.fields, null) });
  const policyOf = new Map(policies.map((p) => [p.secret_id, {
    provider: p.provider, strategy: p.strategy, schedule: p.schedule, timezone: p.timezone,
    enabled: p.enabled === 1, paused: p.enabled !== 1, pausedReason: p.paused_reason,
    agent: p.agentMachine ? { machine: p.agentMachine } : p.agent_label ? { label: p.agent_label } : null,
    adminSecret: p.adminSecret,
  } satisfies ExportedRotation]));
  return {
    project: project.name,
    exportedAt: ctx.now(),
    grants: grants.filter((g) => g.secret_id === null).map(grantOf),
    secrets: secrets.map((s) => ({
      name: s.name, kind: s.kind, version: s.current_version, isCanary: s.is_canary === 1,
      description: s.description, tags: parseJson<Record<string, string>>(s.tags, {}),
      grants: grants.filter((g) => g.secret_id === s.id).map(grantOf),
      rotation: policyOf.get(s.id) ?? null,
    })),
  };
}
