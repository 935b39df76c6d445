export interface AuditCheckpoint {
    seq: number;
    hash: string;
    at: number;
    /** Ed25519 signature over checkpointMessage(seq, hash, at), base64. */
    signature: string;
    /** The vault's audit signing public key, raw 32 bytes in base64. */
    publicKey: string;
}
export declare function checkpointMessage(seq: number, hash: string, at: number): Buffer;
/** Checks the shape of a saved `audit head --json` output. */
export declare function parseCheckpoint(text: string): AuditCheckpoint;
/** Throws SK_ERR_AUDIT_CHECKPOINT unless the checkpoint's own public key signed its (seq, hash, at). */
export declare function verifyCheckpointSignature(cp: AuditCheckpoint): void;
