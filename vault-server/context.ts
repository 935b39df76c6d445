import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Keyring } from './crypto/keyring.js';
import type { Database } from './store/database.js';
import type { Store } from './store/open-store.js';
import type { BatchScope, GroupCommitter } from './store/group-commit.js';
import type { StoreCaches } from './store/change-counter.js';
import { appendAuditInBatch } from './modules/audit/audit-store.js';
import type { AuditEvent, AuditKeys } from './modules/audit/audit-store.js';
import type { Caller } from './http/authenticate.js';
import type { VaultMetrics } from './metrics.js';
import { enqueueForAuditEvent, webhookWake } from './modules/webhooks/webhooks-enqueue.js';
import { claimNonceInBatch } from './store/nonce-store.js';
import type { DeferredNonce } from './store/nonce-store.js';
import { SikkerKeyError } from '../protocol/errors.js';

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
  /**
   * The vault's audit retention (`serve --audit-retention`, ms), known to every process that was
   * given the flag (only the sweeper's leader prunes); undefined: events are kept forever.
   * Project settings may only be longer (modules/projects/project-audit-retention.ts).
   */
  auditRetentionMs?: number | undefined;
  /** Every write transaction goes through it (store/group-commit.ts): one COMMIT for many requests. */
  commits: GroupCommitter;
  /** Memory caches checked against the store's change counter (store/change-counter.ts). */
  caches: StoreCaches;
  /**
   * When this store was restored from a backup (ms; vault-state.ts `storeRestoredAt`), read at
   * start-up: every signature made before it is refused, as its nonce may have been used since
   * the backup. Undefined for a store never restored.
   */
  restoredAt?: number | undefined;
}

export type Tx = Kysely<Database>;

const commitHooks = new WeakMap<object, Array<() => void>>();
/** The batch a write transaction's job runs in (every job of a batch shares its `trx` and scope). */
const batchScopes = new WeakMap<object, BatchScope>();

/**
 * The group-commit batch `trx` belongs to, when it is a {@link writeTx} transaction: its state
 * outlives the job (locks the batch's transaction holds already), its `onRollback` undoes what
 * the current job recorded there if the job is rolled back.
 */
export function batchScopeOf(trx: Tx): BatchScope | undefined {
  return batchScopes.get(trx);
}

/**
 * Runs `fn` once the write transaction `trx` has committed (never if it rolls back): wake-ups of
 * long-polls and watchers must not fire before what they announce is visible to other sessions.
 */
export function afterCommit(trx: Tx, fn: () => void): void {
  const hooks = commitHooks.get(trx);
  if (hooks) hooks.push(fn);
  else fn();
}

/**
 * A write transaction whose audit events commit or fail with it. It runs as one job of a group
 * commit (store/group-commit.ts): in its own savepoint, in the same transaction as the other
 * requests that arrived with it, resolved only after that transaction's COMMIT.
 */
export async function writeTx<T>(ctx: VaultContext, fn: (trx: Tx, audit: (e: Omit<AuditEvent, 'actorKind' | 'actorId' | 'sourceIp'> & Partial<AuditEvent>, caller?: Caller) => Promise<void>) => Promise<T>, opts: {
  /** The request's nonce, when its claim waits for this job (Caller.nonce): claimed first, kept even if `fn` is refused; a used one rejects with SK_ERR_SIGNATURE_REPLAYED and `fn` never runs. */
  nonce?: DeferredNonce | undefined;
} = {}): Promise<T> {
  // Store latency for /metrics: from the request's arrival in the queue to its batch's COMMIT.
  const observe = ctx.metrics.storeSeconds.startTimer();
  // Taken once: a second write of the same request runs without it.
  const nonce = opts.nonce && !opts.nonce.taken ? opts.nonce : undefined;
  try {
    const result = await ctx.commits.run(async (trx, scope) => {
      const hooks: Array<() => void> = [];
      commitHooks.set(trx, hooks);
      batchScopes.set(trx, scope);
      scope.afterCommit(() => {
        for (const hook of hooks) hook();
      });
      const audit = async (e: Omit<AuditEvent, 'actorKind' | 'actorId' | 'sourceIp'> & Partial<AuditEvent>, caller?: Caller): Promise<void> => {
        const stored = await appendAuditInBatch(trx, scope, {
          actorKind: caller?.kind ?? e.actorKind ?? 'system',
          actorId: caller?.id ?? e.actorId ?? null,
          sourceIp: caller?.sourceIp ?? e.sourceIp ?? null,
          actorName: caller?.name ?? e.actorName ?? null,
          ...e,
          // An AI agent's every act carries its name (DESIGN §2: no detour goes unrecorded).
          ...(caller?.kind === 'ai_agent' ? { details: { ...e.details, aiAgent: caller.name } } : {}),
        }, ctx.now(), ctx.auditKeys);
        scope.afterCommit(() => ctx.metrics.auditEvents.inc({ action: e.action }));
        // Webhook deliveries commit with the event they announce (a Map lookup for non-events).
        if (await enqueueForAuditEvent(trx, stored, scope.hot) > 0) scope.afterCommit(() => webhookWake.emit('enqueued'));
      };
      return fn(trx, audit);
    }, nonce ? { atomicBefore: true, before: async (trx, scope) => {
      if (!(await claimNonceInBatch(trx, scope, nonce))) {
        nonce.onReplay?.();
        throw new SikkerKeyError('SK_ERR_SIGNATURE_REPLAYED', 'this nonce was already used with this key');
      }
    } } : {});
    observe({ outcome: 'commit' });
    return result;
  } catch (err) {
    observe({ outcome: 'rollback' });
    throw err;
  }
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
