import type { AuditCheckpoint } from '../../protocol/audit-checkpoint.js';
/** GET a vault path as the operator and return the JSON body. */
export type OperatorGet = <T>(path: string) => Promise<T>;
export interface CheckpointResult {
    ok: boolean;
    seq: number;
    reason?: string;
}
export declare function checkCheckpoint(get: OperatorGet, cp: AuditCheckpoint): Promise<CheckpointResult>;
