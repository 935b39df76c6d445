import type { VaultClient } from '../../protocol/client.js';
import type { AgentJobList, ClaimResponse, PreflightResultBody, RotationStepResponse } from '../../protocol/api-types.js';
import type { JobVault } from '../rotation/run-job.js';
/** The agent's side of the rotation protocol (DESIGN §6 "Agent protocol"), every call signed. */
export interface AgentVault extends JobVault {
    /** Long-poll: the claimable jobs, or none when the wait ended empty (204). */
    poll(waitSeconds: number, signal?: AbortSignal): Promise<AgentJobList['jobs']>;
    claim(id: string): Promise<ClaimResponse>;
    preflight(id: string, body: PreflightResultBody): Promise<RotationStepResponse>;
}
export declare function agentVault(client: VaultClient): AgentVault;
