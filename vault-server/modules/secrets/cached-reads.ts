/**
 * `POST /v1/agent/cache-reads`: an agent reports the reads its offline cache served while this
 * vault could not be reached (agent/delivery/cache-reads.ts). Each reported group — one secret
 * version, how many times, first and last time served — becomes one `secret.read_cached` audit
 * event naming the machine (the caller), the secret and the version; no value travels.
 *
 * Idempotent by the report's id: the id is claimed in the `nonces` table (its own key space,
 * `cache-reads:<machine id>`, kept 90 days) in the same transaction as the audit events, so a
 * retry after a lost answer records nothing twice, and a report that rolled back can be sent again.
 * A disabled, expired or revoked machine is refused by authentication (403) before this runs.
 *
 * The vault records what the machine says happened on it: grants are not checked again (the
 * read was the machine's, from a copy it held when it was allowed to), and a report can only
 * ever speak for the machine that signed it.
 *
 * @example
 *   await recordCachedReads(ctx, caller, { reportId, reads: [{ project: 'shop', name: 'db', version: 3, count: 2, firstServedAt, lastServedAt }] });
 */
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { SikkerKeyError } from '../../../protocol/errors.js';
import type { Caller } from '../../http/authenticate.js';
import { writeTx } from '../../context.js';
import type { VaultContext } from '../../context.js';
import { findProject } from '../projects/projects-service.js';

export interface CachedReadReport {
  reportId: string;
  reads: Array<{ project: string; name: string; version: number; count: number; firstServedAt: number; lastServedAt: number; fields?: string[] }>;
}

/** How long a report id is remembered: a retry later than this would be recorded again. */
export const REPORT_ID_KEPT_MS = 90 * 86_400_000;
/** Clock difference between agent and vault tolerated in a served time. */
const CLOCK_SKEW_MS = 5 * 60_000;

export async function recordCachedReads(ctx: VaultContext, caller: Caller, report: CachedReadReport): Promise<{ reportId: string; recorded: number; duplicate: boolean }> {
  const now = ctx.now();
  for (const r of report.reads) {
    if (r.lastServedAt < r.firstServedAt) throw new SikkerKeyError('SK_ERR_VALIDATION', `reads: ${r.project}/${r.name} was last served before it was first served`);
    if (r.lastServedAt > now + CLOCK_SKEW_MS) throw new SikkerKeyError('SK_ERR_VALIDATION', `reads: ${r.project}/${r.name} has a serving time in the future`);
  }
  return writeTx(ctx, async (trx, audit) => {
    const idHash = createHash('sha256').update(report.reportId).digest('hex');
    // A conflict is a row count of 0, never an error: the batch this transaction shares goes on.
    const claimed = await sql`insert into nonces (key_id, nonce_hash, expires_at) values (${`cache-reads:${caller.id}`}, ${idHash}, ${now + REPORT_ID_KEPT_MS}) on conflict (key_id, nonce_hash) do nothing`.execute(trx);
    if (Number(claimed.numAffectedRows ?? 0n) !== 1) return { reportId: report.reportId, recorded: 0, duplicate: true };
    const projects = new Map<string, string | null>();
    for (const r of report.reads) {
      if (!projects.has(r.project)) projects.set(r.project, (await findProject(trx, r.project))?.id ?? null);
      await audit({
        action: 'secret.read_cached', projectId: projects.get(r.project) ?? null, target: `secret:${r.project}/${r.name}`, outcome: 'success',
        details: {
          version: r.version, count: r.count, firstServedAt: r.firstServedAt, lastServedAt: r.lastServedAt,
          ...(r.fields !== undefined ? { fields: r.fields } : {}), reportId: report.reportId,
        },
      }, caller);
    }
    return { reportId: report.reportId, recorded: report.reads.length, duplicate: false };
  });
}
