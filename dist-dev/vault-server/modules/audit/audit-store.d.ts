import type { KeyObject } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../store/database.js';
import type { BatchScope } from '../../store/group-commit.js';
import type { Dialect } from '../../store/open-store.js';
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
/**
 * The audit keys, unwrapped (see audit-keys.ts): the HMAC key every event's hash is MAC'd with,
 * the Ed25519 key checkpoints are signed with, and the first event the MACs cover.
 */
export interface AuditKeys {
    version: number;
    macKey: Buffer;
    signingKey: KeyObject;
    /** The raw 32-byte public half of signingKey. */
    publicKey: Buffer;
    /** Events from this seq on carry a MAC (1 unless a broken chain was accepted when the keys were made). */
    keyedFrom: number;
}
/** The hash of "nothing before": the first event chains onto it. */
export declare const GENESIS_HASH: string;
/**
 * The canonical form an event's hash covers: a JSON array in a fixed field order (so no key
 * ordering question arises), details with their keys sorted.
 */
export declare function canonicalEvent(e: Omit<StoredAuditEvent, 'hash' | 'prevHash' | 'mac'>): string;
export declare function chainHash(prevHash: string, canonical: string): string;
/** mac = HMAC-SHA256(macKey, hash): rewriting an event (or re-hashing after one) needs the key. */
export declare function eventMac(macKey: Buffer, hash: string): string;
/** The head's MAC, domain-separated from the events' so no event MAC can be copied onto the head. */
export declare function headMac(macKey: Buffer, seq: number, hash: string): string;
/**
 * A UUIDv7 (RFC 9562: 48-bit millisecond time, then random bits): events' ids sort by time, so the
 * unique index on `audit_events.id` grows at its end instead of touching a random page per event.
 */
export declare function timeOrderedUuid(nowMs: number): string;
/**
 * Appends one event inside the caller's transaction. The chain head row is taken exclusively
 * (PostgreSQL FOR UPDATE; SQLite's write transactions already hold the one writer lock), always
 * after any project rows the caller locked, so chains never fork and lock orders never deadlock.
 * Inside a group-commit batch use {@link appendAuditInBatch}: the batch holds the head.
 */
export declare function appendAudit(trx: Kysely<Database>, dialect: Dialect, event: AuditEvent, nowMs?: number, keys?: AuditKeys): Promise<StoredAuditEvent>;
/**
 * The batch prologue: takes the chain head (FOR UPDATE on PostgreSQL, outside every job's
 * savepoint so a job's rollback cannot release it) and writes it back once, before COMMIT, if any
 * job appended. Every event of the batch chains in order onto the head held in memory.
 */
export declare function holdAuditHead(trx: Kysely<Database>, dialect: Dialect, scope: BatchScope): Promise<void>;
/** Appends one event in a batch whose prologue ran {@link holdAuditHead}; a job rollback takes it back out of the head. */
export declare function appendAuditInBatch(trx: Kysely<Database>, scope: BatchScope, event: AuditEvent, nowMs?: number, keys?: AuditKeys): Promise<StoredAuditEvent>;
export interface AuditQuery {
    projectId?: string;
    sinceMs?: number;
    afterSeq?: number;
    limit?: number;
}
export declare function listAudit(db: Kysely<Database>, q?: AuditQuery): Promise<StoredAuditEvent[]>;
export interface ChainReport {
    ok: boolean;
    events: number;
    /** How many events' MACs were checked (absent when verified without the keys). */
    macs?: number;
    /** Events before this seq predate the audit keys and a broken chain was accepted: not verified. */
    unverifiedBefore?: number;
    /** The first event that does not fit the chain, and why. */
    firstBad?: {
        seq: number;
        id: string | null;
        reason: string;
    };
}
/**
 * Walks the whole chain in pages: sequence numbers must run 1, 2, 3… with no gap (deletion,
 * reordering), each prev_hash must be its predecessor's hash and each hash must match the event's
 * content (edits), and the head must name the last event (truncation).
 *
 * With the audit keys it also checks every event's MAC from `keys.keyedFrom` on, and the head's
 * MAC: an editor who deletes or edits events and re-hashes the rest cannot forge those without
 * the MAC key, which only the root key opens. When a broken chain was accepted as the keys were
 * made (keyedFrom > 1), the events before keyedFrom are not checked (reported as
 * `unverifiedBefore`), and the event at keyedFrom must be the MAC'd `audit.keys.created` event
 * that says so.
 */
export declare function verifyAuditChain(db: Kysely<Database>, keys?: AuditKeys): Promise<ChainReport>;
