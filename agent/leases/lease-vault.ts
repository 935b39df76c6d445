/**
 * The agent's side of the lease protocol (docs/leases-agent.md, the contract in
 * protocol/api-types.ts), every call signed: claim, confirm or fail a lease job, and the two
 * calls of a reconcile (the lease roles this machine serves; the verdict on the logins found).
 *
 * @example
 *   const claim = await vault.claimLeaseJob(summary.id);
 *   await vault.confirmLeaseJob(claim.id, claim.fence);
 */
import type { VaultClient } from '../../protocol/client.js';
import { encodePathSegment as enc } from '../../protocol/client.js';
import type { AgentLeaseRoleList, LeaseJobClaim, LeaseJobFailBody, LeaseReconcileBody, LeaseReconcileResponse } from '../../protocol/api-types.js';

export interface LeaseVault {
  /** `POST /v1/agent/lease-jobs/{id}/claim`: the job, leased to this agent for 60 s, with a new fence. */
  claimLeaseJob(id: string): Promise<LeaseJobClaim>;
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
  return {
    claimLeaseJob: (id) => post<LeaseJobClaim>(`/v1/agent/lease-jobs/${enc(id)}/claim`),
    confirmLeaseJob: async (id, fence) => { await post(`/v1/agent/lease-jobs/${enc(id)}/confirm`, { fence }); },
    failLeaseJob: async (id, body) => { await post(`/v1/agent/lease-jobs/${enc(id)}/fail`, body); },
    leaseRoles: () => post<AgentLeaseRoleList>('/v1/agent/lease-roles'),
    reconcile: (roleId, body) => post<LeaseReconcileResponse>(`/v1/agent/lease-roles/${enc(roleId)}/reconcile`, body),
  };
}
