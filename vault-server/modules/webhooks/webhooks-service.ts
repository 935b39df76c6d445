/**
 * Webhooks and alert rules (issue 22), for operators: add, list, remove, deliveries, redeliver,
 * rotate-secret; alert rules add, list, remove, test. Every change is one write transaction with
 * its audit event (`webhook.add`, …). A webhook's signing secret is shown once — by `add` and by
 * `rotate-secret` — and kept sealed under the root key (Keyring.sealWebhookSecret).
 *
 * @example
 *   const { id, secret } = await addWebhook(ctx, deps, operator, { url: 'https://hooks.example/sk', events: ['canary.tripped'] });
 */
import { randomUUID } from 'node:crypto';
import { SikkerKeyError } from '../../../protocol/errors.js';
import { newWebhookSecret } from '../../../protocol/webhooks.js';
import type { Caller } from '../../http/authenticate.js';
import { afterCommit, writeTx } from '../../context.js';
import type { VaultContext } from '../../context.js';
import { forUpdate } from '../../store/locks.js';
import { storeCheckValue } from '../../vault-state.js';
import { requireProject } from '../projects/projects-service.js';
import { EVENT_TYPES, TEST_EVENT_TYPE, isEventType } from './event-catalog.js';
import type { Severity } from './event-catalog.js';
import { GIVE_UP_AFTER_MS, webhookWake } from './webhooks-enqueue.js';
import { DELIVERY_LEASE_MS, deliverDueWebhooks, redactUrl } from './webhooks-worker.js';
import type { Sender } from './webhooks-worker.js';

export interface WebhookDeps {
  /** Sends deliveries (`alert test` sends at once): the SSRF-safe transport (webhook-transport.ts), wired in app.ts. */
  sender: Sender;
  /** Checks a target before `webhook add` (the SSRF-safe transport's checkWebhookTarget); default: the URL parses and is http(s). */
  checkTarget?: (url: string) => Promise<void>;
}

export interface WebhookView {
  id: string;
  url: string;
  events: string[];
  enabled: boolean;
  createdAt: number;
  createdBy: string | null;
  /** When the previous secret stops signing (a rotate-secret overlap), or null. */
  previousSecretExpiresAt: number | null;
  failingSince: number | null;
}

export interface DeliveryView {
  id: string;
  webhookId: string;
  eventId: string;
  type: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  latencyMs: number | null;
  nextAttemptAt: number | null;
  createdAt: number;
  deliveredAt: number | null;
}

export interface AlertRuleView {
  id: string;
  webhookId: string;
  events: string[];
  project: string | null;
  minSeverity: Severity;
  createdAt: number;
  createdBy: string | null;
}

export const MAX_OVERLAP_MS = 7 * 24 * 3_600_000;
const DEFAULT_OVERLAP_MS = 24 * 3_600_000;

/** The default target check: an absolute http(s) URL without credentials. */
export async function checkUrlShape(url: string): Promise<void> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new SikkerKeyError('SK_ERR_WEBHOOK_URL_INVALID', 'the webhook URL is not an absolute URL');
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new SikkerKeyError('SK_ERR_WEBHOOK_URL_INVALID', `a webhook URL is http:// or https://, not ${u.protocol}//`);
  if (u.username || u.password) throw new SikkerKeyError('SK_ERR_WEBHOOK_URL_INVALID', 'a webhook URL carries no user name or password: authenticate receivers by the signature');
}

/** `["all"]` or known event types, deduplicated; SK_ERR_WEBHOOK_EVENT_UNKNOWN names the first unknown one. */
export function validateEvents(events: readonly string[], allowAll: boolean): string[] {
  const list = [...new Set(events.map((e) => e.trim()).filter((e) => e.length > 0))];
  if (list.length === 0) throw new SikkerKeyError('SK_ERR_VALIDATION', 'name at least one event');
  if (list.includes('all')) {
    if (!allowAll) throw new SikkerKeyError('SK_ERR_WEBHOOK_EVENT_UNKNOWN', 'an alert rule names its events; "all" is for webhooks');
    return ['all'];
  }
  for (const e of list) {
    if (!isEventType(e)) throw new SikkerKeyError('SK_ERR_WEBHOOK_EVENT_UNKNOWN', `unknown event ${JSON.stringify(e)}; known: ${EVENT_TYPES.join(', ')}`);
  }
  return list;
}

const parseList = (raw: string): string[] => {
  try {
    const v = JSON.parse(raw) as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
};

const by = (caller: Caller): string => `${caller.kind}:${caller.id}`;

export async function addWebhook(ctx: VaultContext, deps: WebhookDeps, caller: Caller, req: { url: string; events: string[] }): Promise<{ id: string; secret: string; webhook: WebhookView }> {
  const events = validateEvents(req.events, true);
  await checkUrlShape(req.url);
  if (deps.checkTarget) await deps.checkTarget(req.url);
  const id = randomUUID();
  const secret = newWebhookSecret();
  const now = ctx.now();
  await writeTx(ctx, async (trx, audit) => {
    await trx.insertInto('webhooks').values({
      id, url: req.url, secret_sealed: ctx.keyring.sealWebhookSecret(id, 1, secret, await storeCheckValue(trx)), secret_version: 1, events: JSON.stringify(events),
      enabled: 1, allow_private: 0, created_at: now, created_by: by(caller),
    }).execute();
    await audit({ action: 'webhook.add', target: `webhook:${id}`, outcome: 'success', details: { webhookId: id, url: redactUrl(req.url), events } }, caller);
  });
  return { id, secret, webhook: { id, url: req.url, events, enabled: true, createdAt: now, createdBy: by(caller), previousSecretExpiresAt: null, failingSince: null } };
}

export async function listWebhooks(ctx: VaultContext): Promise<WebhookView[]> {
  const rows = await ctx.store.db.selectFrom('webhooks').select(['id', 'url', 'events', 'enabled', 'created_at', 'created_by', 'previous_expires_at', 'failing_since'])
    .orderBy('created_at').orderBy('id').execute();
  const now = ctx.now();
  return rows.map((r) => ({
    id: r.id, url: r.url, events: parseList(r.events), enabled: r.enabled === 1, createdAt: Number(r.created_at), createdBy: r.created_by,
    previousSecretExpiresAt: r.previous_expires_at !== null && Number(r.previous_expires_at) > now ? Number(r.previous_expires_at) : null,
    failingSince: r.failing_since === null ? null : Number(r.failing_since),
  }));
}

export async function removeWebhook(ctx: VaultContext, caller: Caller, id: string): Promise<{ removed: string }> {
  return writeTx(ctx, async (trx, audit) => {
    const hook = await forUpdate(ctx.store.dialect, trx.selectFrom('webhooks').select(['id', 'url']).where('id', '=', id)).executeTakeFirst();
    if (!hook) throw new SikkerKeyError('SK_ERR_NOT_FOUND', `no webhook ${id}`);
    // Its deliveries and alert rules go with it (ON DELETE CASCADE).
    await trx.deleteFrom('alert_rules').where('webhook_id', '=', id).execute();
    await trx.deleteFrom('webhook_deliveries').where('webhook_id', '=', id).execute();
    await trx.deleteFrom('webhooks').where('id', '=', id).execute();
    await audit({ action: 'webhook.remove', target: `webhook:${id}`, outcome: 'success', details: { webhookId: id, url: redactUrl(hook.url) } }, caller);
    return { removed: id };
  });
}

/** A new secret (returned once); the previous one keeps signing for `overlapMs` (0: it stops now). */
export async function rotateWebhookSecret(ctx: VaultContext, caller: Caller, id: string, overlapMs = DEFAULT_OVERLAP_MS): Promise<{ id: string; secret: string; previousSecretExpiresAt: number | null }> {
  if (overlapMs < 0 || overlapMs > MAX_OVERLAP_MS) throw new SikkerKeyError('SK_ERR_VALIDATION', 'the overlap is between 0 and 7 days');
  const secret = newWebhookSecret();
  return writeTx(ctx, async (trx, audit) => {
    const hook = await forUpdate(ctx.store.dialect, trx.selectFrom('webhooks').select(['id', 'secret_sealed', 'secret_version']).where('id', '=', id)).executeTakeFirst();
    if (!hook) throw new SikkerKeyError('SK_ERR_NOT_FOUND', `no webhook ${id}`);
    const now = ctx.now();
    const version = hook.secret_version + 1;
    const expires = overlapMs > 0 ? now + overlapMs : null;
    await trx.updateTable('webhooks').set({
      secret_sealed: ctx.keyring.sealWebhookSecret(id, version, secret, await storeCheckValue(trx)), secret_version: version,
      // The old box stays sealed to its own version (version - 1), as the worker opens it.
      secret_previous_sealed: expires === null ? null : hook.secret_sealed, previous_expires_at: expires,
    }).where('id', '=', id).execute();
    await audit({ action: 'webhook.rotate_secret', target: `webhook:${id}`, outcome: 'success', details: { webhookId: id, secretVersion: version, previousSecretExpiresAt: expires } }, caller);
    return { id, secret, previousSecretExpiresAt: expires };
  });
}

function deliveryView(r: { id: string; webhook_id: string; event_id: string; event_type: string; state: DeliveryView['status']; attempts: number; last_status: number | null; last_error: string | null; last_latency_ms: number | null; next_attempt_at: number | null; created_at: number; delivered_at: number | null }): DeliveryView {
  return {
    id: r.id, webhookId: r.webhook_id, eventId: r.event_id, type: r.event_type, status: r.state, attempts: Number(r.attempts),
    lastStatus: r.last_status, lastError: r.last_error, latencyMs: r.last_latency_ms,
    nextAttemptAt: r.next_attempt_at === null ? null : Number(r.next_attempt_at), createdAt: Number(r.created_at),
    deliveredAt: r.delivered_at === null ? null : Number(r.delivered_at),
  };
}

const DELIVERY_COLUMNS = ['id', 'webhook_id', 'event_id', 'event_type', 'state', 'attempts', 'last_status', 'last_error', 'last_latency_ms', 'next_attempt_at', 'created_at', 'delivered_at'] as const;

/** The newest deliveries of a webhook first. */
export async function listDeliveries(ctx: VaultContext, webhookId: string, limit = 100): Promise<DeliveryView[]> {
  const hook = await ctx.store.db.selectFrom('webhooks').select('id').where('id', '=', webhookId).executeTakeFirst();
  if (!hook) throw new SikkerKeyError('SK_ERR_NOT_FOUND', `no webhook ${webhookId}`);
  const rows = await ctx.store.db.selectFrom('webhook_deliveries').select(DELIVERY_COLUMNS)
    .where('webhook_id', '=', webhookId).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(Math.min(limit, 1000)).execute();
  return rows.map(deliveryView);
}

/** Sends a delivery again (the same id and body), now, with a fresh 24 h of retries. */
export async function redeliver(ctx: VaultContext, caller: Caller, deliveryId: string): Promise<DeliveryView> {
  return writeTx(ctx, async (trx, audit) => {
    const d = await forUpdate(ctx.store.dialect, trx.selectFrom('webhook_deliveries').select(['id', 'webhook_id', 'event_type', 'state']).where('id', '=', deliveryId)).executeTakeFirst();
    if (!d) throw new SikkerKeyError('SK_ERR_NOT_FOUND', `no delivery ${deliveryId}`);
    const now = ctx.now();
    // attempts back to 0: the retries start again at the first step (5 s), not where they gave up.
    await trx.updateTable('webhook_deliveries').set({ state: 'pending', attempts: 0, next_attempt_at: now, give_up_at: now + GIVE_UP_AFTER_MS, lease_until: null, claimed_by: null })
      .where('id', '=', deliveryId).execute();
    await audit({ action: 'webhook.redeliver', target: `webhook:${d.webhook_id}`, outcome: 'success', details: { webhookId: d.webhook_id, deliveryId, type: d.event_type, previousState: d.state } }, caller);
    afterCommit(trx, () => webhookWake.emit('enqueued'));
    const row = await trx.selectFrom('webhook_deliveries').select(DELIVERY_COLUMNS).where('id', '=', deliveryId).executeTakeFirstOrThrow();
    return deliveryView(row);
  });
}

export async function addAlertRule(ctx: VaultContext, caller: Caller, req: { events: string[]; project?: string; minSeverity?: Severity; webhook: string }): Promise<AlertRuleView> {
  const events = validateEvents(req.events, false);
  const id = randomUUID();
  const now = ctx.now();
  const minSeverity = req.minSeverity ?? 'info';
  return writeTx(ctx, async (trx, audit) => {
    const hook = await trx.selectFrom('webhooks').select('id').where('id', '=', req.webhook).executeTakeFirst();
    if (!hook) throw new SikkerKeyError('SK_ERR_NOT_FOUND', `no webhook ${req.webhook}`);
    const project = req.project === undefined ? null : await requireProject(trx, req.project);
    await trx.insertInto('alert_rules').values({ id, webhook_id: hook.id, events: JSON.stringify(events), project_id: project?.id ?? null, min_severity: minSeverity, created_at: now, created_by: by(caller) }).execute();
    await audit({ action: 'alert.add', ...(project ? { projectId: project.id } : {}), target: `alert:${id}`, outcome: 'success', details: { ruleId: id, webhookId: hook.id, events, project: req.project ?? null, minSeverity } }, caller);
    return { id, webhookId: hook.id, events, project: req.project ?? null, minSeverity, createdAt: now, createdBy: by(caller) };
  });
}

export async function listAlertRules(ctx: VaultContext): Promise<AlertRuleView[]> {
  const rows = await ctx.store.db.selectFrom('alert_rules').leftJoin('projects', 'projects.id', 'alert_rules.project_id')
    .select(['alert_rules.id', 'alert_rules.webhook_id', 'alert_rules.events', 'alert_rules.min_severity', 'alert_rules.created_at', 'alert_rules.created_by', 'projects.name as project'])
    .orderBy('alert_rules.created_at').orderBy('alert_rules.id').execute();
  return rows.map((r) => ({ id: r.id, webhookId: r.webhook_id, events: parseList(r.events), project: r.project, minSeverity: r.min_severity, createdAt: Number(r.created_at), createdBy: r.created_by }));
}

export async function removeAlertRule(ctx: VaultContext, caller: Caller, id: string): Promise<{ removed: string }> {
  return writeTx(ctx, async (trx, audit) => {
    const rule = await trx.selectFrom('alert_rules').select(['id', 'webhook_id', 'project_id']).where('id', '=', id).executeTakeFirst();
    if (!rule) throw new SikkerKeyError('SK_ERR_NOT_FOUND', `no alert rule ${id}`);
    await trx.deleteFrom('alert_rules').where('id', '=', id).execute();
    await audit({ action: 'alert.remove', projectId: rule.project_id, target: `alert:${id}`, outcome: 'success', details: { ruleId: id, webhookId: rule.webhook_id } }, caller);
    return { removed: id };
  });
}

/**
 * Sends a signed `alert.test` event to the rule's webhook now and answers with the delivery as it
 * stands after that attempt (a failed attempt is retried like any delivery).
 */
export async function testAlertRule(ctx: VaultContext, deps: WebhookDeps, caller: Caller, id: string): Promise<DeliveryView> {
  const deliveryId = randomUUID();
  await writeTx(ctx, async (trx, audit) => {
    const rule = await trx.selectFrom('alert_rules').select(['id', 'webhook_id', 'events', 'min_severity']).where('id', '=', id).executeTakeFirst();
    if (!rule) throw new SikkerKeyError('SK_ERR_NOT_FOUND', `no alert rule ${id}`);
    const now = ctx.now();
    const body = JSON.stringify({
      type: TEST_EVENT_TYPE, timestamp: new Date(now).toISOString(),
      data: { ruleId: rule.id, events: parseList(rule.events), minSeverity: rule.min_severity, actor: { kind: caller.kind, id: caller.id }, message: 'a test event sent by `sikkerkey alert test`' },
    });
    await trx.insertInto('webhook_deliveries').values({
      // Sent by this request below; due for the background worker only a claim's length later, in
      // case this process dies before it sends (with no next_attempt_at it stayed pending for good).
      id: deliveryId, webhook_id: rule.webhook_id, event_id: deliveryId, event_type: TEST_EVENT_TYPE, payload: body, state: 'pending',
      attempts: 0, next_attempt_at: now + DELIVERY_LEASE_MS, created_at: now, give_up_at: now + GIVE_UP_AFTER_MS,
    }).execute();
    await audit({ action: 'alert.test', target: `alert:${id}`, outcome: 'success', details: { ruleId: id, webhookId: rule.webhook_id, deliveryId } }, caller);
  });
  await deliverDueWebhooks(ctx, { sender: deps.sender, only: deliveryId });
  const row = await ctx.store.db.selectFrom('webhook_deliveries').select(DELIVERY_COLUMNS).where('id', '=', deliveryId).executeTakeFirstOrThrow();
  return deliveryView(row);
}
