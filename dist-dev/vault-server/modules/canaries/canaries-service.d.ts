import type { Caller } from '../../http/authenticate.js';
import type { VaultContext } from '../../context.js';
import type { SecretInput, SecretKind } from '../secrets/secrets-service.js';
export interface CanaryView {
    project: string;
    name: string;
    kind: SecretKind;
    version: number | null;
    lockMachineProjects: boolean;
    createdAt: number;
}
export interface CreateCanaryRequest {
    project: string;
    name: string;
    /** The decoy: plain or structured, like any secret (a structured decoy can mimic a database credential). */
    input: SecretInput;
    /** A trip also locks every project the reading machine holds a grant on. */
    lockMachineProjects: boolean;
}
/**
 * Creates a canary as a new secret. A name already in use is refused (409): turning a real secret
 * into a canary would lock the project on the next legitimate read. The decoy's first version is
 * version 1 and is written by `insertVersion` like any operator write, so nothing in the row,
 * the version or the ciphertext sets it apart from a real secret.
 */
export declare function createCanary(ctx: VaultContext, caller: Caller, req: CreateCanaryRequest): Promise<CanaryView>;
/** The canaries of one project, for operators. */
export declare function listCanaries(ctx: VaultContext, projectName: string): Promise<CanaryView[]>;
