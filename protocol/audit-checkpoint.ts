/**
 * Audit checkpoints: the vault's Ed25519 signature over one point of its audit chain
 * (seq, hash, at), as printed by `sikkerkey audit head --json`. Saved somewhere the vault's
 * database cannot reach, a checkpoint later proves that the chain still holds that event with
 * that hash: a rewrite or rewind past it is caught even by someone holding the audit MAC key.
 *
 * The signed message is UTF-8 text, one field a line:
 *   "sk/audit-checkpoint/v1\n<seq>\n<hash, 64 hex>\n<at, ms since the epoch>"
 *
 * @example
 *   const cp = parseCheckpoint(readFileSync('head.json', 'utf8'));
 *   verifyCheckpointSignature(cp); // throws SK_ERR_AUDIT_CHECKPOINT unless cp.publicKey signed it
 */
import { verify } from 'node:crypto';
import { SikkerKeyError } from './errors.js';
import { parsePublicKey, publicKeyObject } from './keys.js';

export interface AuditCheckpoint {
  seq: number;
  hash: string;
  at: number;
  /** Ed25519 signature over checkpointMessage(seq, hash, at), base64. */
  signature: string;
  /** The vault's audit signing public key, raw 32 bytes in base64. */
  publicKey: string;
}

export function checkpointMessage(seq: number, hash: string, at: number): Buffer {
  return Buffer.from(`sk/audit-checkpoint/v1\n${seq}\n${hash}\n${at}`, 'utf8');
}

/**
 * A retention boundary's signed message (vault-server/modules/audit/audit-retention.ts): the
 * first and last pruned events' seqs, the last one's hash and time. Its own domain
 * ("sk/audit-prune/v1"), so no head checkpoint (`audit head`, a backup's head) can be replayed as
 * a boundary, nor a boundary passed off as a head checkpoint:
 *   "sk/audit-prune/v1\n<firstSeq>\n<lastSeq>\n<hash, 64 hex>\n<at, ms since the epoch>"
 */
export function pruneBoundaryMessage(firstSeq: number, lastSeq: number, hash: string, at: number): Buffer {
  return Buffer.from(`sk/audit-prune/v1\n${firstSeq}\n${lastSeq}\n${hash}\n${at}`, 'utf8');
}

const bad = (why: string): SikkerKeyError => new SikkerKeyError('SK_ERR_AUDIT_CHECKPOINT', why);

/** Checks the shape of a saved `audit head --json` output. */
export function parseCheckpoint(text: string): AuditCheckpoint {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw bad('the checkpoint is not JSON (save the output of `sikkerkey audit head --json`)');
  }
  const o = v as Record<string, unknown>;
  if (!o || typeof o !== 'object' || !Number.isSafeInteger(o.seq) || (o.seq as number) < 0 || typeof o.hash !== 'string' || !/^[0-9a-f]{64}$/.test(o.hash)
    || !Number.isSafeInteger(o.at) || typeof o.signature !== 'string' || typeof o.publicKey !== 'string') {
    throw bad('the checkpoint needs seq, hash (64 hex), at, signature and publicKey (the output of `sikkerkey audit head --json`)');
  }
  return { seq: o.seq as number, hash: o.hash, at: o.at as number, signature: o.signature, publicKey: o.publicKey };
}

/** Throws SK_ERR_AUDIT_CHECKPOINT unless the checkpoint's own public key signed its (seq, hash, at). */
export function verifyCheckpointSignature(cp: AuditCheckpoint): void {
  let ok: boolean;
  try {
    const key = publicKeyObject(parsePublicKey(cp.publicKey));
    ok = verify(null, checkpointMessage(cp.seq, cp.hash, cp.at), key, Buffer.from(cp.signature, 'base64'));
  } catch {
    ok = false;
  }
  if (!ok) throw bad(`the checkpoint's signature does not verify with its public key (seq ${cp.seq}): it was edited or never signed by a vault`);
}
