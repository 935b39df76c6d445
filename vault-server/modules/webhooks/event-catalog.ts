/**
 * The events webhooks and alert rules can send: one table from the audit action that records
 * the event to the event's public name and severity. An audit event whose action is not here is
 * never sent anywhere (and costs nothing: `eventFor` is a Map lookup, before any query), which is
 * why `secret.read`, the machine read path's event, is deliberately absent.
 *
 * docs/webhooks.md ("Events") lists this table; a test checks the two agree.
 *
 * @example
 *   eventFor({ action: 'canary.tripped', outcome: 'success' }); // { type: 'canary.tripped', severity: 'critical', … }
 */
export type Severity = 'info' | 'warning' | 'critical';

export const SEVERITIES: readonly Severity[] = ['info', 'warning', 'critical'];

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

export interface CatalogEntry {
  /** The audit action that records it. */
  action: string;
  /** The event's name in deliveries, `--events` and alert rules. */
  type: string;
  severity: Severity;
  /** Only audit events with this outcome (an enrollment that was refused is not `machine.enrolled`). */
  outcome?: 'success' | 'failure';
  description: string;
}

export const EVENT_CATALOG: readonly CatalogEntry[] = [
  { action: 'canary.tripped', type: 'canary.tripped', severity: 'critical', description: 'a machine read a canary secret' },
  { action: 'project.lock', type: 'project.locked', severity: 'critical', description: 'a project was locked (by a canary trip)' },
  { action: 'project.unlock', type: 'project.unlocked', severity: 'info', description: 'an operator unlocked a project' },
  { action: 'project.audit_retention_changed', type: 'project.audit_retention_changed', severity: 'warning', description: 'an operator changed how long a project\'s audit events are kept (cleared or shortened: older events may now be pruned)' },
  { action: 'rotation.succeeded', type: 'rotation.succeeded', severity: 'info', description: 'a rotation was promoted: machines read the new credential' },
  { action: 'rotation.failed', type: 'rotation.failed', severity: 'warning', description: 'a rotation failed; the live credential still works' },
  { action: 'rotation.stuck', type: 'rotation.stuck', severity: 'critical', description: 'a rotation is stuck: neither credential is proven; `rotation resolve` is needed' },
  { action: 'rotation.no_agent', type: 'rotation.no_agent', severity: 'warning', description: 'no agent that may run a rotation policy has been seen recently' },
  { action: 'rotation.agent_back', type: 'rotation.agent_back', severity: 'info', description: 'an agent for a policy that had none is back' },
  { action: 'rotation.overdue', type: 'rotation.overdue', severity: 'warning', description: 'a scheduled policy has not promoted since the fire time after its last success, plus max(1 h, 10 % of the interval)' },
  { action: 'rotation.drift', type: 'rotation.drift', severity: 'critical', description: 'the agent\'s periodic probe: the database refuses the live credential (changed behind the vault?); once per failing streak' },
  { action: 'rotation.drift_recovered', type: 'rotation.drift_recovered', severity: 'info', description: 'the live credential logs in again (a probe, or a promoted rotation)' },
  { action: 'policy.failing', type: 'policy.failing', severity: 'critical', description: 'a rotation policy failed three times in a row (or an undo was refused); retries stop' },
  { action: 'policy.recovered', type: 'policy.recovered', severity: 'info', description: 'a failing policy rotated successfully again' },
  { action: 'machine.enroll', type: 'machine.enrolled', severity: 'info', outcome: 'success', description: 'a machine enrolled with a token' },
  { action: 'secret.read_cached', type: 'secret.read_cached', severity: 'info', description: 'an agent reported reads its offline cache served while the vault could not be reached (one event per secret version)' },
  { action: 'machine.expire', type: 'machine.expired', severity: 'warning', description: 'a machine reached the end of its lifetime and was disabled' },
  { action: 'machine.delete_held', type: 'machine.delete_held', severity: 'warning', description: 'the expiry sweeper kept a machine past its hard delete because a lease role names it as its agent (once per machine); name another agent and the next sweep deletes it' },
  { action: 'vault.root_keys_reloaded', type: 'vault.root_keys_reloaded', severity: 'info', description: 'a vault process re-read its root key files on SIGHUP (one event per process; fingerprints held and dropped)' },
  { action: 'vault.root_keys_reload_refused', type: 'vault.root_keys_reload_refused', severity: 'critical', description: 'a SIGHUP\'s root key files hold no key that opens the store: the process keeps the keys it had' },
  { action: 'webhook.failing', type: 'webhook.failing', severity: 'critical', description: 'every delivery to a webhook has failed for an hour (never sent to that webhook itself)' },
  { action: 'lease_role.created', type: 'lease_role.created', severity: 'info', description: 'an operator created a lease role (docs/leases.md)' },
  { action: 'lease_role.updated', type: 'lease_role.updated', severity: 'info', description: 'an operator changed a lease role' },
  { action: 'lease_role.deleted', type: 'lease_role.deleted', severity: 'info', description: 'an operator deleted a lease role' },
  { action: 'lease.requested', type: 'lease.requested', severity: 'info', outcome: 'success', description: 'a machine asked for a leased login: its intent (username, sealed password) and create job were committed' },
  { action: 'lease.created', type: 'lease.created', severity: 'info', description: 'the agent created a leased login and the vault handed it to its machine' },
  { action: 'lease.renewed', type: 'lease.renewed', severity: 'info', description: 'a machine renewed its lease (up to the role\'s max TTL)' },
  { action: 'lease.revoked', type: 'lease.revoked', severity: 'info', description: 'a lease was revoked (by its machine, an operator, a grant removal, a machine disable or a canary trip; again when the agent dropped the login)' },
  { action: 'lease.expired', type: 'lease.expired', severity: 'info', description: 'a lease reached its expiry (again when the agent dropped the login)' },
  { action: 'lease.failed', type: 'lease.failed', severity: 'warning', description: 'the agent could not create a leased login; a drop job cleans up' },
  { action: 'lease.foreign_login', type: 'lease.foreign_login', severity: 'warning', description: 'reconcile found an `sk`-prefixed login that is not this vault\'s (reported once, never dropped)' },
];

/** Not from the audit log: what `alert test` sends. Accepted nowhere as a subscription. */
export const TEST_EVENT_TYPE = 'alert.test';

const BY_ACTION = new Map(EVENT_CATALOG.map((e) => [e.action, e]));
const TYPES = new Set(EVENT_CATALOG.map((e) => e.type));

/** The catalog entry an audit event maps to, or undefined (the common case: not an event). */
export function eventFor(e: { action: string; outcome: string }): CatalogEntry | undefined {
  const entry = BY_ACTION.get(e.action);
  if (!entry || (entry.outcome && entry.outcome !== e.outcome)) return undefined;
  return entry;
}

export function isEventType(type: string): boolean {
  return TYPES.has(type);
}

/** Every event type, in catalog order. */
export const EVENT_TYPES: readonly string[] = EVENT_CATALOG.map((e) => e.type);
