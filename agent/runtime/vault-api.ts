import type { VaultClient } from '../../protocol/client.js';
import { encodePathSegment as enc } from '../../protocol/client.js';
import type { AgentJobList, ClaimResponse, DriftProbeList, DriftResultBody, DriftResultResponse, FailBody, PreflightResultBody, RotationStepResponse } from '../../protocol/api-types.js';
import type { JobVault } from '../rotation/run-job.js';
import { leaseVault } from '../leases/lease-vault.js';
import type { LeaseVault } from '../leases/lease-vault.js';

/** One poll's answer: rotation jobs and lease jobs (each list empty when the wait ended empty). */
export interface PollAnswer {
  jobs: AgentJobList['jobs'];
  leaseJobs: NonNullable<AgentJobList['leaseJobs']>;
}

/** The agent's side of the rotation and lease protocols (DESIGN §6 "Agent protocol"; docs/leases-agent.md), every call signed. */
export interface AgentVault extends JobVault, LeaseVault {
  /** Long-poll: the claimable jobs, or none when the wait ended empty (204). */
  poll(waitSeconds: number, signal?: AbortSignal): Promise<PollAnswer>;
  claim(id: string): Promise<ClaimResponse>;
  preflight(id: string, body: PreflightResultBody): Promise<RotationStepResponse>;
  /** The drift probes due now for this machine's policies (each leased to it). */
  driftProbes(): Promise<DriftProbeList>;
  driftResult(policyId: string, body: DriftResultBody): Promise<DriftResultResponse>;
}

export function agentVault(client: VaultClient): AgentVault {
  const step = async <T>(id: string, what: string, body: unknown): Promise<T> =>
    (await client.request<T>('POST', `/v1/agent/rotations/${enc(id)}/${what}`, body)).body;
  return {
    poll: async (waitSeconds, signal) => {
      const res = await client.request<AgentJobList | undefined>('GET', `/v1/agent/rotations?wait=${waitSeconds}`, undefined, {
        ...(signal ? { signal } : {}), timeoutMs: (waitSeconds + 15) * 1000,
      });
      return res.status === 204 || !res.body ? { jobs: [], leaseJobs: [] } : { jobs: res.body.jobs, leaseJobs: res.body.leaseJobs ?? [] };
    },
    claim: (id) => step<ClaimResponse>(id, 'claim', undefined),
    heartbeat: (id, fence) => step<{ leaseSeconds: number }>(id, 'heartbeat', { fence }),
    applied: (id, fence) => step<RotationStepResponse>(id, 'applied', { fence }),
    confirm: (id, fence, steps) => step<RotationStepResponse>(id, 'confirm', { fence, ...(steps ? { steps } : {}) }),
    fail: (id, body: FailBody) => step<RotationStepResponse>(id, 'fail', body),
    preflight: (id, body) => step<RotationStepResponse>(id, 'preflight', body),
    driftProbes: async () => (await client.request<DriftProbeList>('POST', '/v1/agent/drift-probes')).body,
    driftResult: async (policyId, body) => (await client.request<DriftResultResponse>('POST', `/v1/agent/drift-probes/${enc(policyId)}`, body)).body,
    ...leaseVault(client),
  };
}
