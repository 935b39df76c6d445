/**
 * From audit event to deliveries, inside the transaction that appends the event: a catalog event
 * (event-catalog.ts) gets one `webhook_deliveries` row per webhook that wants it — by the webhook's
 * own `--events` (or `all`) or by any of its alert rules — once per (event, webhook) however many
 * rules match. The rows commit or roll back with the event; the worker (webhooks-worker.ts) sends
 * them after COMMIT.
 *
 * Cost: an action not in the catalog (every `secret.read` of the machine read path) returns after
 * one Map lookup, before any query. Catalog events are rare (trips, rotation outcomes, locks), so
 * they read the webhook and rule rows directly, in the same transaction: no cache to go stale.
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../store/database.js';
import type { StoredAuditEvent } from '../audit/audit-store.js';
import { eventFor, severityRank } from './event-catalog.js';
import type { CatalogEntry, Severity } from './event-catalog.js';
import type { HotSql } from '../../store/sqlite-hot.js';

const ANY_ENABLED_WEBHOOK = 'select 1 from webhooks where enabled = 1 limit 1';

/** Retries stop this long after a delivery was created (or redelivered). */
export const GIVE_UP_AFTER_MS = 24 * 3_600_000;

/** Wakes the delivery worker(s) of this process when a delivery was committed. */
export const webhookWake = new EventEmitter();
webhookWake.setMaxListeners(0);

/** The body every delivery carries: never a secret value, only the audit event's non-secret fields. */
export interface WebhookPayload {
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

export function payloadOf(entry: Pick<CatalogEntry, 'type' | 'severity'>, e: StoredAuditEvent, project: { id: string; name: string } | null): WebhookPayload {
  return {
    type: entry.type,
    timestamp: new Date(e.at).toISOString(),
    data: {
      eventId: e.id, action: e.action, severity: entry.severity, target: e.target, outcome: e.outcome,
      project, actor: { kind: e.actorKind, id: e.actorId }, details: e.details,
    },
  };
}

function parseEvents(raw: string): string[] {
  try {
    const v = JSON.parse(raw) as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

/** Does a subscription list (`["all"]` or event types) take this event? */
export function subscribes(events: readonly string[], type: string): boolean {
  return events.includes('all') || events.includes(type);
}

/**
 * Inserts the deliveries `e` calls for and returns how many (0 for an action outside the
 * catalog, without touching the store). `webhook.failing` is never delivered to the webhook it is
 * about: that one is failing. `hot`: the SQLite batch's prepared statements (store/sqlite-hot.ts),
 * which answer "no webhook is enabled" — the common case — without building a query.
 */
export async function enqueueForAuditEvent(trx: Kysely<Database>, e: StoredAuditEvent, hot?: HotSql): Promise<number> {
  const entry = eventFor(e);
  if (!entry) return 0;
  if (hot && hot.get(ANY_ENABLED_WEBHOOK) === undefined) return 0;
  const hooks = await trx.selectFrom('webhooks').select(['id', 'events']).where('enabled', '=', 1).execute();
  if (hooks.length === 0) return 0;
  const rules = await trx.selectFrom('alert_rules').select(['webhook_id', 'events', 'project_id', 'min_severity']).execute();
  const exclude = e.action === 'webhook.failing' ? e.details.webhookId : undefined;
  const targets = new Set<string>();
  for (const h of hooks) {
    if (h.id !== exclude && subscribes(parseEvents(h.events), entry.type)) targets.add(h.id);
  }
  for (const r of rules) {
    if (r.webhook_id === exclude || targets.has(r.webhook_id) || !hooks.some((h) => h.id === r.webhook_id)) continue;
    if (!subscribes(parseEvents(r.events), entry.type)) continue;
    if (r.project_id !== null && r.project_id !== e.projectId) continue;
    if (severityRank(entry.severity) < severityRank(r.min_severity as Severity)) continue;
    targets.add(r.webhook_id);
  }
  if (targets.size === 0) return 0;
  const project = e.projectId
    ? await trx.selectFrom('projects').select(['id', 'name']).where('id', '=', e.projectId).executeTakeFirst() ?? { id: e.projectId, name: null }
    : null;
  const body = JSON.stringify(payloadOf(entry, e, project as { id: string; name: string } | null));
  await trx.insertInto('webhook_deliveries').values([...targets].sort().map((webhookId) => ({
    id: randomUUID(), webhook_id: webhookId, event_id: e.id, event_type: entry.type, payload: body, state: 'pending' as const,
    attempts: 0, next_attempt_at: e.at, created_at: e.at, give_up_at: e.at + GIVE_UP_AFTER_MS,
  }))).execute();
  return targets.size;
}
