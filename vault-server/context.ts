import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Keyring } from './crypto/keyring.js';
import type { Database } from './store/database.js';
import type { Store } from './store/open-store.js';
import { transaction } from './store/locks.js';
import { appendAudit } from './modules/audit/audit-store.js';
import type { AuditEvent, AuditKeys } from './modules/audit/audit-store.js';
import type { Caller } from './http/authenticate.js';
import type { VaultMetrics } from './metrics.js';

/** What every service needs; built once by the composition root. */
export interface VaultContext {
  store: Store;
  keyring: Keyring;
  /** The audit MAC and checkpoint signing keys, unwrapped with the root key at start-up. */
  auditKeys: AuditKeys;
  log: Logger;
  now: () => number;
  /** How long a rotation claim holds before another agent may take it over (default 30 s). */
  rotationLeaseSeconds: number;
  metrics: VaultMetrics;
  /** Whether a canary trip also disables the reading machine (default true; `serve --no-canary-disable-machine`). */
  canaryDisablesMachine: boolean;
}

export type Tx = Kysely<Database>;

const commitHooks = new WeakMap<object, Array<() => void>>();

/**
 * Runs `fn` once the write transaction `trx` has committed (never if it rolls back): wake-ups of
 * long-polls and watchers must not fire before what they announce is visible to other sessions.
 */
export function afterCommit(trx: Tx, fn: () => void): void {
  const hooks = commitHooks.get(trx);
  if (hooks) hooks.push(fn);
  else fn();
}

/** A write transaction (BEGIN IMMEDIATE on SQLite) whose audit events commit or fail with it. */
export async function writeTx<T>(ctx: VaultContext, fn: (trx: Tx, audit: (e: Omit<AuditEvent, 'actorKind' | 'actorId' | 'sourceIp'> & Partial<AuditEvent>, caller?: Caller) => Promise<void>) => Promise<T>): Promise<T> {
  const hooks: Array<() => void> = [];
  // Store latency for /metrics: the whole transaction, lock waits and retries included.
  const observe = ctx.metrics.storeSeconds.startTimer();
  const result = await transaction(ctx.store, async (trx) => {
    commitHooks.set(trx, hooks);
    const audit = async (e: Omit<AuditEvent, 'actorKind' | 'actorId' | 'sourceIp'> & Partial<AuditEvent>, caller?: Caller): Promise<void> => {
      ctx.metrics.auditEvents.inc({ action: e.action });
      await appendAudit(trx, ctx.store.dialect, {
        actorKind: caller?.kind ?? e.actorKind ?? 'system',
        actorId: caller?.id ?? e.actorId ?? null,
        sourceIp: caller?.sourceIp ?? e.sourceIp ?? null,
        ...e,
      }, ctx.now(), ctx.auditKeys);
    };
    return fn(trx, audit);
  }, { write: true }).then(
    (value) => { observe({ outcome: 'commit' }); return value; },
    (err: unknown) => { observe({ outcome: 'rollback' }); throw err; },
  );
  for (const hook of hooks) hook();
  return result;
}

/**
 * Records a refused attempt in its own transaction: the refused request's transaction rolled
 * back, but the refusal itself belongs in the audit trail.
 */
export async function auditDenied(ctx: VaultContext, caller: Caller | undefined, e: Omit<AuditEvent, 'actorKind' | 'actorId' | 'sourceIp' | 'outcome'>): Promise<void> {
  try {
    await writeTx(ctx, (_trx, audit) => audit({ ...e, outcome: 'denied' }, caller));
  } catch (err) {
    ctx.log.error({ err: err instanceof Error ? err.message : String(err), action: e.action }, 'could not record a denied attempt');
  }
}

export const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$';
