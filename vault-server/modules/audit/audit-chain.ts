/**
 * The audit chain's pure part, with no store behind it: the event types, the canonical form an
 * event's hash covers and the chain hash. `sikkerkey audit verify --file` checks an export with
 * these alone, so the CLI loads no query builder (audit-store.ts re-exports them for the vault).
 *
 * @example
 *   const hash = chainHash(prevHash, canonicalEvent(event)); // 64 hex characters
 */
import { createHash, createHmac } from 'node:crypto';

export type ActorKind = 'operator' | 'machine' | 'ai_agent' | 'system';
export type Outcome = 'success' | 'denied' | 'failure';

/** What happened, by whom, to what. Never a secret value: details hold names, ids and codes only. */
export interface AuditEvent {
  actorKind: ActorKind;
  actorId: string | null;
  action: string;
  projectId?: string | null;
  target: string;
  outcome: Outcome;
  sourceIp?: string | null;
  /** The actor's name now, recorded so a later rename or removal does not rewrite history. */
  actorName?: string | null;
  details?: Record<string, unknown>;
}

export interface StoredAuditEvent extends Required<Omit<AuditEvent, 'details'>> {
  seq: number;
  id: string;
  at: number;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
  /** HMAC-SHA256(audit MAC key, hash), hex; null before the log was keyed. */
  mac: string | null;
}

/** The hash of "nothing before": the first event chains onto it. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * The canonical form an event's hash covers: a JSON array in a fixed field order (so no key
 * ordering question arises), details with their keys sorted. The actor's name (migration 0014)
 * is a twelfth element when the event recorded one: events written before it hash exactly as they
 * did, and setting or clearing a recorded name changes the hash either way.
 */
export function canonicalEvent(e: Omit<StoredAuditEvent, 'hash' | 'prevHash' | 'mac' | 'actorName'> & { actorName?: string | null }): string {
  const fields: unknown[] = [
    e.seq, e.id, e.at, e.actorKind, e.actorId, e.action, e.projectId, e.target, e.outcome, e.sourceIp,
    sortKeys(e.details),
  ];
  if (e.actorName !== undefined && e.actorName !== null) fields.push(e.actorName);
  return JSON.stringify(fields);
}

export function chainHash(prevHash: string, canonical: string): string {
  // prev_hash is always 64 hex characters, so plain concatenation cannot be ambiguous.
  return createHash('sha256').update(prevHash).update(canonical).digest('hex');
}

/** mac = HMAC-SHA256(macKey, hash): rewriting an event (or re-hashing after one) needs the key. */
export function eventMac(macKey: Buffer, hash: string): string {
  return createHmac('sha256', macKey).update(hash).digest('hex');
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]));
  }
  return value;
}
