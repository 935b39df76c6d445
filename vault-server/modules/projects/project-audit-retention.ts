/**
 * A project's own audit retention (`sikkerkey project set-audit-retention PROJECT 800d|default`,
 * issue 25): its events are kept this long when that is longer than the vault's
 * `serve --audit-retention`. It may only keep longer: a setting shorter than the vault's retention
 * in effect (the flag of the process answering) is refused with SK_ERR_AUDIT_RETENTION. If the
 * vault's retention is later raised above a project's setting, the setting simply has no effect
 * (`effectiveAuditRetentionMs` says so); while the vault prunes nothing, any setting is accepted
 * and waits for a vault retention to exceed.
 *
 * @example
 *   await setProjectAuditRetention(ctx, caller, 'payments', '800d');
 *   await setProjectAuditRetention(ctx, caller, 'payments', null); // the vault's again
 */
import { SikkerKeyError } from '../../../protocol/errors.js';
import { parseDuration } from '../../../protocol/duration.js';
import type { Caller } from '../../http/authenticate.js';
import { writeTx } from '../../context.js';
import type { VaultContext } from '../../context.js';
import { MIN_RETENTION_MS } from '../audit/audit-retention.js';
import { getProject, requireProject } from './projects-service.js';
import type { ProjectView } from './projects-service.js';

/** The longest retention a project may set, as for `--audit-retention`: 100 years. */
export const MAX_RETENTION_MS = 36_500 * 86_400_000;

/** Days when whole, else the duration's milliseconds: for messages. */
function shown(ms: number): string {
  return ms % 86_400_000 === 0 ? `${ms / 86_400_000}d` : `${ms}ms`;
}

/** `retention`: a duration (`800d`), or null for the vault's retention. */
export async function setProjectAuditRetention(ctx: VaultContext, caller: Caller, name: string, retention: string | null): Promise<ProjectView> {
  let ms: number | null = null;
  if (retention !== null) {
    ms = parseDuration(retention, 'retention', 'SK_ERR_VALIDATION');
    if (ms < MIN_RETENTION_MS || ms > MAX_RETENTION_MS) {
      throw new SikkerKeyError('SK_ERR_VALIDATION', `retention ${JSON.stringify(retention)}: give at least 1d and at most 36500d (or "default" for the vault's)`);
    }
    const vault = ctx.auditRetentionMs;
    if (vault !== undefined && ms < vault) {
      throw new SikkerKeyError('SK_ERR_AUDIT_RETENTION', `project ${JSON.stringify(name)}: an audit retention of ${shown(ms)} is shorter than the vault's (${shown(vault)}, serve --audit-retention); a project may only keep its events longer`);
    }
  }
  await writeTx(ctx, async (trx, audit) => {
    const project = await requireProject(trx, name);
    const before = await trx.selectFrom('projects').select('audit_retention_ms').where('id', '=', project.id).executeTakeFirstOrThrow();
    await trx.updateTable('projects').set({ audit_retention_ms: ms }).where('id', '=', project.id).execute();
    await audit({
      action: 'project.audit_retention_changed', projectId: project.id, target: `project:${name}`, outcome: 'success',
      details: { fromMs: before.audit_retention_ms === null ? null : Number(before.audit_retention_ms), toMs: ms, vaultRetentionMs: ctx.auditRetentionMs ?? null },
    }, caller);
  });
  return getProject(ctx, name);
}
