/**
 * Many varied audit events, written the way the vault writes them (appendAudit with the vault's
 * audit keys, in one transaction), and the filters of `GET /v1/audit` / `audit list` re-stated in
 * plain JavaScript so a test can compute the set every filter must return.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../vault-server/store/database.js';
import type { Store } from '../../vault-server/store/open-store.js';
import { transaction } from '../../vault-server/store/locks.js';
import { appendAudit, fromAuditRow } from '../../vault-server/modules/audit/audit-store.js';
import type { ActorKind, AuditKeys, Outcome, StoredAuditEvent } from '../../vault-server/modules/audit/audit-store.js';
import { severityOf } from '../../vault-server/modules/audit/audit-search.js';
import { severityRank } from '../../vault-server/modules/webhooks/event-catalog.js';
import type { Severity } from '../../vault-server/modules/webhooks/event-catalog.js';

/** `a_b.x` and `aXb.x` tell whether `_` in a glob is literal; `odd[1]?` whether `[` and `?` are. */
const ACTIONS = ['secret.read', 'secret.write', 'rotation.succeeded', 'rotation.failed', 'rotation.stuck', 'canary.tripped', 'project.create', 'a_b.x', 'aXb.x', 'odd[1]?'];
const ACTORS: Array<{ kind: ActorKind; name: string | null; id: string | null }> = [
  { kind: 'machine', name: 'web-1', id: 'm-web-1' }, { kind: 'machine', name: 'db-2', id: 'm-db-2' }, { kind: 'operator', name: 'owner', id: 'op-1' },
  { kind: 'system', name: null, id: null }, { kind: 'ai_agent', name: 'bot', id: 'ai-1' },
];

/**
 * Appends `n` events at `base + i s`. Every 50th is written as before migration 0014 (no recorded
 * name) by the machine `legacyMachineId`, so listings must resolve its current name.
 */
export async function writeVariedEvents(store: Store, keys: AuditKeys, n: number, opts: { base: number; legacyMachineId: string }): Promise<void> {
  await transaction(store, async (trx) => {
    for (let i = 0; i < n; i++) {
      const legacy = i % 50 === 49;
      const actor = ACTORS[i % ACTORS.length]!;
      await appendAudit(trx, store.dialect, {
        actorKind: legacy ? 'machine' : actor.kind,
        actorId: legacy ? opts.legacyMachineId : actor.id,
        actorName: legacy ? null : actor.name,
        action: ACTIONS[(i * 7) % ACTIONS.length]!,
        target: i % 3 === 0 ? `project:p${i % 4}` : `secret:shop/s${i % 7}`,
        outcome: (['success', 'denied', 'failure'] as const)[(i >> 1) % 3]!,
        sourceIp: i % 6 === 5 ? null : `10.0.0.${i % 5}`,
        details: { i },
      }, opts.base + i * 1000, keys);
    }
  }, { write: true });
}

export interface Filter {
  action?: string; actor?: string; outcome?: Outcome; severity?: Severity; target?: string; ip?: string; since?: number; until?: number;
}

function globRe(glob: string): RegExp {
  return new RegExp(`^${glob.split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

/** The filter in JavaScript; `currentName` resolves an event without a recorded name. */
export function matches(e: StoredAuditEvent, f: Filter, currentName: (e: StoredAuditEvent) => string | null): boolean {
  if (f.action !== undefined && !globRe(f.action).test(e.action)) return false;
  if (f.target !== undefined && !globRe(f.target).test(e.target)) return false;
  if (f.outcome !== undefined && e.outcome !== f.outcome) return false;
  if (f.ip !== undefined && e.sourceIp !== f.ip) return false;
  if (f.since !== undefined && e.at < f.since) return false;
  if (f.until !== undefined && e.at > f.until) return false;
  if (f.severity !== undefined && severityRank(severityOf(e)) < severityRank(f.severity)) return false;
  if (f.actor !== undefined) {
    const [kind, name] = f.actor.includes(':') ? [f.actor.slice(0, f.actor.indexOf(':')), f.actor.slice(f.actor.indexOf(':') + 1)] : [f.actor, undefined];
    if (e.actorKind !== kind) return false;
    if (name !== undefined && kind !== 'system' && (e.actorName ?? currentName(e)) !== name) return false;
  }
  return true;
}

/** Every event in the store, oldest first. */
export async function allEvents(db: Kysely<Database>): Promise<StoredAuditEvent[]> {
  return (await db.selectFrom('audit_events').selectAll().orderBy('seq', 'asc').execute()).map(fromAuditRow);
}

/** The filters every listing test walks (times relative to the synthetic events' base). */
export function filterCases(base: number): Array<{ name: string; filter: Filter }> {
  return [
    { name: 'none', filter: {} },
    { name: 'action glob', filter: { action: 'rotation.*' } },
    { name: 'action glob with a literal _', filter: { action: 'a_b.*' } },
    { name: 'action with literal [ and ?', filter: { action: 'odd[1]?' } },
    { name: 'actor by recorded name', filter: { actor: 'machine:web-1' } },
    { name: 'actor by current name (pre-0014 events)', filter: { actor: 'machine:legacy-m' } },
    { name: 'actor kind', filter: { actor: 'system' } },
    { name: 'outcome', filter: { outcome: 'denied' } },
    { name: 'severity warning and up', filter: { severity: 'warning' } },
    { name: 'severity critical', filter: { severity: 'critical' } },
    { name: 'target glob', filter: { target: 'secret:shop/*' } },
    { name: 'ip', filter: { ip: '10.0.0.3' } },
    { name: 'since and until', filter: { since: base + 1000 * 1000, until: base + 2500 * 1000 } },
    { name: 'combined', filter: { action: 'secret.*', outcome: 'success', actor: 'machine:web-1', ip: '10.0.0.0' } },
  ];
}
