/**
 * The agent's side of the lease protocol (docs/leases-agent.md, the contract in
 * protocol/api-types.ts), every call signed: claim, confirm or fail lease jobs, and the two
 * calls of a reconcile (the lease roles this machine serves; the verdict on the logins found).
 *
 * Claims and confirms go in batches (`POST /v1/agent/lease-jobs/claim|confirm`): a poll answer's
 * jobs in one claim, the confirms that finish together in one confirm (confirm-batcher.ts). A
 * vault that predates the batch routes answers them SK_ERR_ROUTE_NOT_FOUND; from then on this
 * agent uses the per-job routes.
 *
 * @example
 *   const { claims } = await vault.claimLeaseJobs(summaries.map((s) => s.id));
 *   await vault.confirmLeaseJob(claims[0].id, claims[0].fence);
 */
import type { VaultClient } from '../../protocol/client.js';
import { encodePathSegment as enc } from '../../protocol/client.js';
import { isSikkerKeyError } from '../../protocol/errors.js';
import type {
  AgentLeaseRoleList, LeaseJobClaim, LeaseJobClaimBatch, LeaseJobConfirmBatch, LeaseJobFailBody, LeaseReconcileBody, LeaseReconcileResponse,
} from '../../protocol/api-types.js';
import { ConfirmBatcher } from './confirm-batcher.js';

export interface LeaseVault {
  /** `POST /v1/agent/lease-jobs/claim`: the jobs claimed (each leased to this agent, with a new fence) and those refused. */
  claimLeaseJobs(ids: string[]): Promise<LeaseJobClaimBatch>;
  /** Resolves when the vault confirmed the job (sent in a batch with the others finishing now). */
  confirmLeaseJob(id: string, fence: number): Promise<void>;
  /** `code` is the error's SK_ERR code; `message` never carries a credential. */
  failLeaseJob(id: string, body: LeaseJobFailBody): Promise<void>;
  /** `POST /v1/agent/lease-roles`: the lease roles this machine serves, with their admin secrets. */
  leaseRoles(): Promise<AgentLeaseRoleList>;
  /** `POST /v1/agent/lease-roles/{roleId}/reconcile`: which of `logins` to drop, which are foreign. */
  reconcile(roleId: string, body: LeaseReconcileBody): Promise<LeaseReconcileResponse>;
}

export function leaseVault(client: VaultClient): LeaseVault {
  const post = async <T>(path: string, body?: unknown): Promise<T> => (await client.request<T>('POST', path, body)).body;
  let batchRoutes = true;
  /** The batch route, or (on a vault without it) the per-job route for each item, in the batch answer's shape. */
  const batched = async <T, A extends { refused: Array<{ id: string; code: string; message: string }> }>(
    batch: () => Promise<A>, items: readonly T[], one: (item: T) => Promise<void>, idOf: (item: T) => string, answer: () => A,
  ): Promise<A> => {
    if (batchRoutes) {
      try {
        return await batch();
      } catch (err) {
        if (!isSikkerKeyError(err, 'SK_ERR_ROUTE_NOT_FOUND')) throw err;
        batchRoutes = false;
      }
    }
    const out = answer();
    for (const item of items) {
      try {
        await one(item);
      } catch (err) {
        if (!isSikkerKeyError(err)) throw err;
        out.refused.push({ id: idOf(item), code: err.code, message: err.message });
      }
    }
    return out;
  };
  const confirms = new ConfirmBatcher((jobs) => {
    const out: LeaseJobConfirmBatch = { confirmed: [], refused: [] };
    return batched(() => post<LeaseJobConfirmBatch>('/v1/agent/lease-jobs/confirm', { jobs }), jobs,
      async (j) => { await post(`/v1/agent/lease-jobs/${enc(j.id)}/confirm`, { fence: j.fence }); out.confirmed.push(j.id); }, (j) => j.id, () => out);
  });
  return {
    claimLeaseJobs: (ids) => {
      const out: LeaseJobClaimBatch = { claims: [], refused: [] };
      return batched(() => post<LeaseJobClaimBatch>('/v1/agent/lease-jobs/claim', { ids }), ids,
        async (id) => { out.claims.push(await post<LeaseJobClaim>(`/v1/agent/lease-jobs/${enc(id)}/claim`)); }, (id) => id, () => out);
    },
    confirmLeaseJob: (id, fence) => confirms.confirm(id, fence),
    failLeaseJob: async (id, body) => { await post(`/v1/agent/lease-jobs/${enc(id)}/fail`, body); },
    leaseRoles: () => post<AgentLeaseRoleList>('/v1/agent/lease-roles'),
    reconcile: (roleId, body) => post<LeaseReconcileResponse>(`/v1/agent/lease-roles/${enc(roleId)}/reconcile`, body),
  };
}
