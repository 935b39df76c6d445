import type { VaultClient } from '../../protocol/client.js';
import { encodePathSegment as enc } from '../../protocol/client.js';
import type { AgentJobList, ClaimResponse, DriftProbeList, DriftResultBody, DriftResultResponse, FailBody, PreflightResultBody, RotationStepResponse } from '../../protocol/api-types.js';
import type { JobVault } from '../rotation/run-job.js';

/** The agent's side of the rotation protocol (DESIGN §6 "Agent protocol"), every call signed. */
export interface AgentVault extends JobVault {
  /** Long-poll: the claimable jobs, or none when the wait ended empty (204). */
  poll(waitSeconds: number, signal?: AbortSignal): Promise<AgentJobList['jobs']>;
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
      return res.status === 204 || !res.body ? [] : res.body.jobs;
    },
    claim: (id) => step<ClaimResponse>(id, 'claim', undefined),
    heartbeat: (id, fence) => step<{ leaseSeconds: number }>(id, 'heartbeat', { fence }),
    applied: (id, fence) => step<RotationStepResponse>(id, 'applied', { fence }),
    confirm: (id, fence, steps) => step<RotationStepResponse>(id, 'confirm', { fence, ...(steps ? { steps } : {}) }),
    fail: (id, body: FailBody) => step<RotationStepResponse>(id, 'fail', body),
    preflight: (id, body) => step<RotationStepResponse>(id, 'preflight', body),
    driftProbes: async () => (await client.request<DriftProbeList>('POST', '/v1/agent/drift-probes')).body,
    driftResult: async (policyId, body) => (await client.request<DriftResultResponse>('POST', `/v1/agent/drift-probes/${enc(policyId)}`, body)).body,
  };
}
