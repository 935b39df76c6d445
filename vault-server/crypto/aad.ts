/**
 * Additional authenticated data (AAD) for every AES-GCM seal of the vault: an unambiguous encoding
 * that binds a ciphertext to its purpose and its place (project, secret, version, key version).
 *
 * Each part, the purpose first, is written as a 4-byte big-endian length followed by its UTF-8
 * bytes; numbers are written as their decimal string. Because every part carries its own length,
 * `("ab", "c")` and `("a", "bc")` encode differently: plain concatenation would make them equal
 * and let a ciphertext be moved to a place whose parts concatenate to the same text.
 *
 * @example
 *   const aad = encodeAad(AAD_PURPOSE.secretValue, projectId, secretId, 3);
 *   // 00000012 "sk/secret-value/v1" 00000024 "<project uuid>" 00000024 "<secret uuid>" 00000001 "3"
 */
import { SikkerKeyError } from '../../protocol/errors.js';

/** The purpose labels, one per kind of thing sealed. A new kind gets a new label, never a reused one. */
export const AAD_PURPOSE = {
  /** A project master key wrapped under the root key: (project id, key version). */
  projectKey: 'sk/project-key/v1',
  /** A secret version's data key wrapped under its project key: (project id, secret id, version). */
  dataKey: 'sk/data-key/v1',
  /** A secret version's value sealed under its data key: (project id, secret id, version). */
  secretValue: 'sk/secret-value/v1',
  /** The root-key check value sealed under the root key: no further parts. */
  rootCheck: 'sk/root-check/v1',
  /** An audit key (HMAC key or Ed25519 signing key) wrapped under the root key: (kind, key version). */
  auditKey: 'sk/audit-key/v1',
  /** A webhook's HMAC signing secret sealed under the root key: (webhook id, secret version). */
  webhookSecret: 'sk/webhook-secret/v1',
} as const;

export type AadPurpose = (typeof AAD_PURPOSE)[keyof typeof AAD_PURPOSE];

const MAX_PART_BYTES = 0xffff_ffff;

export function encodeAad(purpose: string, ...parts: Array<string | number>): Buffer {
  const chunks: Buffer[] = [];
  for (const part of [purpose, ...parts]) {
    const bytes = Buffer.from(partText(part), 'utf8');
    if (bytes.length > MAX_PART_BYTES) throw new SikkerKeyError('SK_ERR_INTERNAL', 'an AAD part is longer than 4 GiB');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length, 0);
    chunks.push(length, bytes);
  }
  return Buffer.concat(chunks);
}

function partText(part: string | number): string {
  if (typeof part === 'string') return part;
  // Only integers have one decimal form; 1e21, NaN or 0.1+0.2 would make the encoding depend on
  // how a number happens to print.
  if (!Number.isSafeInteger(part)) throw new SikkerKeyError('SK_ERR_INTERNAL', 'an AAD number part must be a safe integer');
  return String(part);
}
