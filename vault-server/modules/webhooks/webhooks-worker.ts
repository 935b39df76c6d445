/**
 * The delivery worker: sends committed deliveries, signed (Standard Webhooks, protocol/webhooks.ts),
 * and retries with backoff until 24 h after they were created.
 *
 * One tick: (1) in a short write transaction, claim due deliveries with a lease (`lease_until`,
 * `claimed_by`; PostgreSQL `FOR UPDATE SKIP LOCKED`, so several vault processes never take the same
 * row; SQLite has one writer); (2) send each OUTSIDE any transaction — a slow receiver must never
 * hold the store; (3) record each result in its own write transaction, fenced by `claimed_by`, so a
 * worker whose lease lapsed cannot overwrite the next worker's result. A worker that dies between
 * (1) and (3) leaves the rows to be claimed again when the lease ends: a receiver may see a
 * delivery twice, with the same `webhook-id` to deduplicate on.
 *
 * A webhook whose attempts have all failed for an hour is marked failing (`failing_since`) with one
 * `webhook.failing` audit event — a catalog event, so it goes to the other webhooks, never to
 * itself. Its next success clears the mark.
 *
 * @example
 *   await deliverDueWebhooks(ctx, { sender });   // one tick (tests drive it with an injected clock)
 *   const stop = startWebhookWorker(ctx, { sender });          // every second, and on every enqueue
 */
import { randomUUID } from 'node:crypto';
import { signatureHeader } from '../../../protocol/webhooks.js';
import { writeTx } from '../../context.js';
import type { VaultContext } from '../../context.js';
import { forUpdate } from '../../store/locks.js';
import { webhookWake } from './webhooks-enqueue.js';

/** Sends one delivery; the SSRF-safe transport (webhook-transport.ts) has this shape. */
export type Sender = (url: string, req: { headers: Record<string, string>; body: string; timeoutMs?: number }) => Promise<SendResult>;

export interface SendResult {
  ok: boolean;
  status: number | null;
  latencyMs: number;
  error: string | null;
}

/** How long one attempt may take. */
export const SEND_TIMEOUT_MS = 10_000;
/** How long a claim holds before another worker may take the delivery over. */
export const DELIVERY_LEASE_MS = 60_000;
/** Attempts failing for this long mark the webhook failing (one `webhook.failing`). */
export const FAILING_AFTER_MS = 3_600_000;
/** The delay before retry n (1-based); the last repeats. Each gets ±20 % jitter. */
export const RETRY_DELAYS_MS: readonly number[] = [5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000];

export function retryDelayMs(attempts: number, random: () => number = Math.random): number {
  const base = RETRY_DELAYS_MS[Math.min(attempts, RETRY_DELAYS_MS.length) - 1] ?? RETRY_DELAYS_MS[0]!;
  return Math.round(base * (0.8 + 0.4 * random()));
}

export interface DeliverOptions {
  sender: Sender;
  /** Who holds the claims (default: one id per process). */
  holder?: string;
  /** Most deliveries per tick. */
  batch?: number;
  leaseMs?: number;
  /** Only this delivery (`alert test`, which answers with the result). */
  only?: string;
  random?: () => number;
}

export interface DeliverResult {
  attempted: number;
  delivered: number;
  failed: number;
}

const PROCESS_HOLDER = `webhooks-${randomUUID()}`;

interface Claimed {
  id: string;
  webhookId: string;
  url: string;
  payload: string;
  attempts: number;
  secrets: string[];
}

/** One tick (see the file comment). */
export async function deliverDueWebhooks(ctx: VaultContext, opts: DeliverOptions): Promise<DeliverResult> {
  const holder = opts.holder ?? PROCESS_HOLDER;
  const claimed = await claimDue(ctx, holder, opts);
  const result: DeliverResult = { attempted: claimed.length, delivered: 0, failed: 0 };
  await Promise.all(claimed.map(async (d) => {
    const timestamp = Math.floor(ctx.now() / 1000);
    const headers = {
      'webhook-id': d.id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signatureHeader(d.secrets, d.id, timestamp, d.payload),
    };
    let sent: SendResult;
    try {
      sent = await opts.sender(d.url, { headers, body: d.payload, timeoutMs: SEND_TIMEOUT_MS });
    } catch (err) {
      sent = { ok: false, status: null, latencyMs: 0, error: err instanceof Error ? err.message : String(err) };
    }
    if (sent.ok) result.delivered += 1;
    else result.failed += 1;
    await recordResult(ctx, holder, d, sent, opts.random ?? Math.random).catch((err: unknown) => {
      ctx.log.error({ err: err instanceof Error ? err.message : String(err), delivery: d.id }, 'could not record a webhook delivery result');
    });
  }));
  return result;
}

async function claimDue(ctx: VaultContext, holder: string, opts: DeliverOptions): Promise<Claimed[]> {
  const now = ctx.now();
  // A plain read first: an idle vault (the usual case) never opens a write transaction per tick.
  // `only` (alert test) takes its delivery whatever its next_attempt_at: it is inserted with none,
  // so the background worker leaves it alone until a failed attempt schedules a retry.
  const probe = ctx.store.db.selectFrom('webhook_deliveries').select('id').where('state', '=', 'pending').limit(1);
  if (!(await (opts.only ? probe.where('id', '=', opts.only) : probe.where('next_attempt_at', '<=', now)).executeTakeFirst())) return [];
  const rows = await writeTx(ctx, async (trx) => {
    const q = trx.selectFrom('webhook_deliveries').select(['id'])
      .where('state', '=', 'pending')
      .where((eb) => (opts.only ? eb('id', '=', opts.only) : eb('next_attempt_at', '<=', now)))
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
      .orderBy('next_attempt_at').limit(opts.batch ?? 50);
    const due = await forUpdate(ctx.store.dialect, q, { skipLocked: true }).execute();
    if (due.length === 0) return [];
    const ids = due.map((r) => r.id);
    await trx.updateTable('webhook_deliveries').set({ lease_until: now + (opts.leaseMs ?? DELIVERY_LEASE_MS), claimed_by: holder }).where('id', 'in', ids).execute();
    return trx.selectFrom('webhook_deliveries').innerJoin('webhooks', 'webhooks.id', 'webhook_deliveries.webhook_id')
      .select(['webhook_deliveries.id', 'webhook_deliveries.webhook_id', 'webhook_deliveries.payload', 'webhook_deliveries.attempts',
        'webhooks.url', 'webhooks.secret_sealed', 'webhooks.secret_version', 'webhooks.secret_previous_sealed', 'webhooks.previous_expires_at'])
      .where('webhook_deliveries.id', 'in', ids).execute();
  });
  return rows.map((r) => {
    const secrets = [ctx.keyring.openWebhookSecret(r.webhook_id, r.secret_version, r.secret_sealed)];
    // During a rotate-secret overlap the previous secret signs too, so receivers not yet updated still verify.
    if (r.secret_previous_sealed && r.previous_expires_at !== null && Number(r.previous_expires_at) > now) {
      secrets.push(ctx.keyring.openWebhookSecret(r.webhook_id, r.secret_version - 1, r.secret_previous_sealed));
    }
    return { id: r.id, webhookId: r.webhook_id, url: r.url, payload: r.payload, attempts: Number(r.attempts), secrets };
  });
}

async function recordResult(ctx: VaultContext, holder: string, d: Claimed, sent: SendResult, random: () => number): Promise<void> {
  await writeTx(ctx, async (trx, audit) => {
    const now = ctx.now();
    const row = await forUpdate(ctx.store.dialect, trx.selectFrom('webhook_deliveries').select(['claimed_by', 'give_up_at', 'created_at', 'state'])
      .where('id', '=', d.id)).executeTakeFirst();
    // Fenced: the lease lapsed and another worker owns the delivery now (or it was removed).
    if (!row || row.claimed_by !== holder || row.state !== 'pending') return;
    const attempts = d.attempts + 1;
    const common = { attempts, last_status: sent.status, last_latency_ms: sent.latencyMs, lease_until: null, claimed_by: null };
    if (sent.ok) {
      await trx.updateTable('webhook_deliveries').set({ ...common, state: 'delivered', delivered_at: now, last_error: null, next_attempt_at: null }).where('id', '=', d.id).execute();
      await trx.updateTable('webhooks').set({ failures_since: null, failing_since: null }).where('id', '=', d.webhookId).execute();
      return;
    }
    const next = now + retryDelayMs(attempts, random);
    const giveUpAt = Number(row.give_up_at ?? Number(row.created_at) + 24 * 3_600_000);
    const failed = next > giveUpAt;
    await trx.updateTable('webhook_deliveries').set({
      ...common, last_error: (sent.error ?? 'failed').slice(0, 500), state: failed ? 'failed' : 'pending', next_attempt_at: failed ? null : next,
    }).where('id', '=', d.id).execute();
    const hook = await forUpdate(ctx.store.dialect, trx.selectFrom('webhooks').select(['id', 'url', 'failures_since', 'failing_since']).where('id', '=', d.webhookId)).executeTakeFirst();
    if (!hook) return;
    const since = hook.failures_since === null ? now : Number(hook.failures_since);
    if (hook.failures_since === null) await trx.updateTable('webhooks').set({ failures_since: now }).where('id', '=', hook.id).execute();
    if (hook.failing_since === null && now - since >= FAILING_AFTER_MS) {
      await trx.updateTable('webhooks').set({ failing_since: now }).where('id', '=', hook.id).execute();
      await audit({
        action: 'webhook.failing', actorKind: 'system', actorId: null, target: `webhook:${hook.id}`, outcome: 'failure',
        details: { webhookId: hook.id, url: redactUrl(hook.url), failingSince: since, lastStatus: sent.status, lastError: (sent.error ?? '').slice(0, 200) },
      });
      ctx.log.error({ webhook: hook.id }, 'webhook.failing: every delivery to this webhook has failed for an hour');
    }
  });
}

/** A URL for logs and audit details: scheme and host; no credentials, path or query (they may hold tokens). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    // Scheme and host only: many hook URLs carry their credential in the path (Slack, Zapier…),
    // and this text goes to the audit log and, in webhook.failing, to the other webhooks.
    return `${u.protocol}//${u.host}/…`;
  } catch {
    return '(invalid URL)';
  }
}

export interface WorkerOptions {
  sender: Sender;
  /** Tick period (default 1 s). */
  everyMs?: number;
  holder?: string;
}

/**
 * Runs a tick every `everyMs` and whenever a delivery commits in this process; one tick at a time
 * (a wake during a tick runs one more after it). The timer is unref'd. Returns the stop function,
 * which waits for the running tick.
 */
export function startWebhookWorker(ctx: VaultContext, opts: WorkerOptions): () => Promise<void> {
  let running: Promise<unknown> | undefined;
  let again = false;
  let stopped = false;
  const tick = (): void => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = deliverDueWebhooks(ctx, { sender: opts.sender, ...(opts.holder ? { holder: opts.holder } : {}) })
      .catch((err: unknown) => ctx.log.error({ err: err instanceof Error ? err.message : String(err) }, 'webhook delivery tick failed'))
      .finally(() => {
        running = undefined;
        if (again) {
          again = false;
          tick();
        }
      });
  };
  const timer = setInterval(tick, opts.everyMs ?? 1000);
  timer.unref();
  webhookWake.on('enqueued', tick);
  return async () => {
    stopped = true;
    clearInterval(timer);
    webhookWake.off('enqueued', tick);
    await running;
  };
}
