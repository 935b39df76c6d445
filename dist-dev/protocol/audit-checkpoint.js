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
export function checkpointMessage(seq, hash, at) {
    return Buffer.from(`sk/audit-checkpoint/v1\n${seq}\n${hash}\n${at}`, 'utf8');
}
const bad = (why) => new SikkerKeyError('SK_ERR_AUDIT_CHECKPOINT', why);
/** Checks the shape of a saved `audit head --json` output. */
export function parseCheckpoint(text) {
    let v;
    try {
        v = JSON.parse(text);
    }
    catch {
        throw bad('the checkpoint is not JSON (save the output of `sikkerkey audit head --json`)');
    }
    const o = v;
    if (!o || typeof o !== 'object' || !Number.isSafeInteger(o.seq) || o.seq < 0 || typeof o.hash !== 'string' || !/^[0-9a-f]{64}$/.test(o.hash)
        || !Number.isSafeInteger(o.at) || typeof o.signature !== 'string' || typeof o.publicKey !== 'string') {
        throw bad('the checkpoint needs seq, hash (64 hex), at, signature and publicKey (the output of `sikkerkey audit head --json`)');
    }
    return { seq: o.seq, hash: o.hash, at: o.at, signature: o.signature, publicKey: o.publicKey };
}
/** Throws SK_ERR_AUDIT_CHECKPOINT unless the checkpoint's own public key signed its (seq, hash, at). */
export function verifyCheckpointSignature(cp) {
    let ok;
    try {
        const key = publicKeyObject(parsePublicKey(cp.publicKey));
        ok = verify(null, checkpointMessage(cp.seq, cp.hash, cp.at), key, Buffer.from(cp.signature, 'base64'));
    }
    catch {
        ok = false;
    }
    if (!ok)
        throw bad(`the checkpoint's signature does not verify with its public key (seq ${cp.seq}): it was edited or never signed by a vault`);
}
//# sourceMappingURL=audit-checkpoint.js.map