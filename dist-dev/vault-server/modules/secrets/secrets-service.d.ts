import type { Caller } from '../../http/authenticate.js';
import type { Tx, VaultContext } from '../../context.js';
import type { ProjectRow } from '../projects/projects-service.js';
export type SecretKind = 'plain' | 'structured' | 'database';
/** A value as written: plain text, or named string fields (structured and database secrets). */
export type SecretInput = {
    value: string;
} | {
    fields: Record<string, string>;
};
export interface SecretRead {
    project: string;
    name: string;
    version: number;
    value?: string;
    fields?: Record<string, string>;
}
export interface SecretView {
    name: string;
    kind: SecretKind;
    version: number | null;
    isCanary?: boolean;
    createdAt: number;
}
export interface VersionView {
    version: number;
    state: string;
    createdAt: number;
    promotedAt: number | null;
    projectKeyVersion: number;
}
interface SecretRow {
    id: string;
    name: string;
    kind: string;
    is_canary: number;
    current_version: number | null;
    deleted_at: number | null;
}
/** The secret of that name, unless it is in the trash. */
export declare function requireSecret(trx: Tx, project: Pick<ProjectRow, 'id' | 'name'>, name: string): Promise<SecretRow>;
export declare function encodeSecretInput(input: SecretInput): {
    kind: SecretKind;
    plaintext: Buffer;
};
export declare function decodeSecretPlaintext(kind: string, plaintext: Buffer): {
    value: string;
} | {
    fields: Record<string, string>;
};
/** Refuses a manual write to a secret an enabled rotation policy manages (DESIGN §6). */
export declare function assertNotRotationManaged(trx: Tx, secretId: string, name: string): Promise<void>;
/**
 * Takes a secret's row exclusively: every change to its versions (a write, a rollback, a
 * rotation's pending version or promotion) holds it, so version numbers and the one `live`
 * version never race. Lock order: secret row, then the audit head (always last).
 */
export declare function lockSecret(ctx: VaultContext, trx: Tx, secretId: string): Promise<void>;
/**
 * Inserts a new version of a secret with its own fresh data key. `state` is `live` for an
 * operator's write (the previous live becomes `previous`), `pending` for a rotation.
 */
export declare function insertVersion(ctx: VaultContext, trx: Tx, req: {
    project: ProjectRow;
    secretId: string;
    plaintext: Buffer;
    state: 'live' | 'pending';
    createdBy: string;
}): Promise<{
    id: string;
    version: number;
}>;
/** The live version becomes `previous`; an older `previous` is `retired`. */
export declare function demoteLive(trx: Tx, secretId: string): Promise<void>;
/** Decrypts one version's own row: its data key, wrapped under the project key version it records. */
export declare function decryptVersion(ctx: VaultContext, trx: Tx, project: Pick<ProjectRow, 'id' | 'key_version' | 'master_key_wrapped'>, secretId: string, row: {
    version: number;
    ciphertext: Buffer;
    wrapped_data_key: Buffer;
    project_key_version: number;
}): Promise<Buffer>;
export declare function setSecret(ctx: VaultContext, caller: Caller, req: {
    project: string;
    name: string;
    input: SecretInput;
    kind?: SecretKind;
}): Promise<{
    project: string;
    name: string;
    version: number;
}>;
export declare function listSecrets(ctx: VaultContext, projectName: string): Promise<SecretView[]>;
export declare function listVersions(ctx: VaultContext, projectName: string, name: string): Promise<VersionView[]>;
/**
 * Makes version `to` live again. That version's own row is decrypted as it was written (its own
 * data key), so the check below proves it is readable before it becomes what machines get.
 */
export declare function rollbackSecret(ctx: VaultContext, caller: Caller, req: {
    project: string;
    name: string;
    to: number;
}): Promise<{
    project: string;
    name: string;
    version: number;
}>;
/**
 * `GET /v1/projects/{p}/secrets/{s}`: one read, one transaction. A refusal is audited on its own.
 *
 * A canary is looked up first, without locks, so its read can take its project rows exclusively
 * before anything else (DESIGN §8); it then trips (lock, audit, machine disabled) and its decoy is
 * answered like any value — returned only once that transaction has committed, since writeTx
 * resolves after COMMIT. A real read takes its project shared first (`lockForReads`), so on
 * PostgreSQL it waits for a trip in progress and then sees the lock.
 */
export declare function readSecret(ctx: VaultContext, caller: Caller, req: {
    project: string;
    name: string;
}, opts?: {
    watchAfter?: number;
}): Promise<SecretRead>;
/**
 * A watch (`?waitForVersionAfter=N`) refused before any value: audited as a denied read, exactly
 * like a read's refusal (no grant, locked project), so a watch is no unaudited probe.
 */
export declare function auditWatchRefusal(ctx: VaultContext, caller: Caller, req: {
    project: string;
    name: string;
    after: number;
}, err: unknown): Promise<void>;
export type BatchItemResult = ({
    status: 200;
} & SecretRead) | {
    project: string;
    name: string;
    status: number;
    error: {
        code: string;
        message: string;
    };
};
/**
 * `POST /v1/secrets:batchGet`: many reads under one signature, in one transaction, one audit event
 * per item (refusals included, in the same transaction since it commits either way).
 *
 * Every project row the batch touches is locked up front, in id order — exclusively those a
 * canary in the batch will lock, shared the rest — so the batch never takes a project row after
 * the audit head. Canaries the machine may read trip FIRST, before any item is served; then every
 * item of a now-locked project (the canary's own item included) answers 423, the others normally.
 */
export declare function batchRead(ctx: VaultContext, caller: Caller, items: Array<{
    project: string;
    name: string;
}>): Promise<BatchItemResult[]>;
export {};
