import type { Logger } from 'pino';
import type { PreflightJob, PreflightResultBody, RotationStepResponse } from '../../protocol/api-types.js';
import type { CredentialProvider } from '../../providers/provider.js';
/**
 * A preflight job: checks, without changing anything, that the admin credential can alter every
 * user the policy will rotate, and that the server the admin reached runs the policy's strategy
 * (the engine table, for the flavour and version it turned out to be). Reports the problems in
 * words an operator can act on, and the flavour, which the vault keeps to refuse what it cannot run.
 */
export declare function runPreflightJob(job: PreflightJob, provider: CredentialProvider, vault: {
    preflight(id: string, body: PreflightResultBody): Promise<RotationStepResponse>;
}, log: Logger): Promise<'preflight_passed' | 'failed'>;
