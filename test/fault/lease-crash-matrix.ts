/**
 * The lease crash matrix (issue "Leased credentials", Done when): a machine asks for a lease while
 * the agent is SIGKILLed after claiming the create job, after creating the login, after proving it
 * logs in — or the vault is SIGKILLed right after committing the lease's intent. After recovery
 * (a rescuer agent, a restarted vault, the agent's reconcile) the case is judged on the database
 * itself:
 *   - leaked login: a login carrying this vault's prefix whose lease is not live in the store;
 *   - lost lease: a lease the store calls active whose login is not in the database (or, when the
 *     machine holds its fields, does not log in), or a lease stuck in `creating`.
 * Used by lease-crash-matrix.test.ts (in `npm test`) and `npm run fault -- leases`.
 */
import { startLeaseRig } from '../support/lease-harness.js';
import type { LeaseRig } from '../support/lease-harness.js';
import type { LeaseEngine } from '../support/lease-fixtures.js';
import type { RunningProcess } from '../support/processes.js';
import { waitFor, WaitTimeoutError } from '../support/wait.js';
import type { Lease, LeasePending, LeaseSummary } from '../../protocol/api-types.js';

export const LEASE_AGENT_POINTS = ['agent-lease-after-claim', 'agent-lease-after-create', 'agent-lease-after-verify'] as const;
export const LEASE_VAULT_POINTS = ['vault-after-lease-intent', 'vault-after-lease-claim'] as const;

export interface LeaseCaseResult {
  engine: LeaseEngine;
  point: string;
  leaked: string[];
  lost: string[];
  detail?: string;
}

const LIVE = new Set(['creating', 'active', 'revoking']);

async function leases(rig: LeaseRig): Promise<LeaseSummary[]> {
  const r = await rig.h.sk(['lease', 'list', '--json']);
  if (r.code !== 0) throw new Error(`lease list: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { leases: LeaseSummary[] }).leases;
}

/** The machine's view of a lease it asked for: waits through `creating`, survives vault restarts. */
async function settle(rig: LeaseRig, leaseId: string): Promise<Lease | LeasePending> {
  return waitFor(async () => (await rig.get(leaseId, 5)).body, {
    what: `lease ${leaseId} to leave creating`, timeoutMs: 90_000, intervalMs: 200, retryOn: true, until: (l) => l.state !== 'creating',
  });
}

/** One case: crash at `point`, recover, judge. `prefix` is this vault's login prefix (sk<vault id>_). */
export async function runLeaseCase(rig: LeaseRig, point: string, prefix: string): Promise<LeaseCaseResult> {
  const { h } = rig;
  const agents: RunningProcess[] = [];
  const held: Lease[] = [];
  try {
    if ((LEASE_AGENT_POINTS as readonly string[]).includes(point)) {
      const doomed = await h.startAgent({ faultAt: point, name: 'doomed' });
      agents.push(doomed);
      const asked = rig.app.request<Lease | LeasePending>('POST', '/v1/projects/db/leases/ro?wait=1', {});
      await doomed.waitFor(new RegExp(`fault point reached: ${point}`));
      await doomed.stop('SIGKILL');
      const first = (await asked).body;
      agents.push(await h.startAgent({ name: 'rescuer', config: { leaseReconcileSeconds: 10 } }));
      const done = await settle(rig, first.leaseId);
      if (done.state === 'active') held.push(done as Lease);
    } else {
      await h.restartVault({ faultAt: point });
      agents.push(await h.startAgent({ config: { leaseReconcileSeconds: 10 } }));
      const asked = rig.app.request('POST', '/v1/projects/db/leases/ro?wait=20', {}).then(() => 'answered', () => 'lost');
      await h.vault.waitFor(new RegExp(`fault point reached: ${point}`));
      await h.restartVault();
      await asked; // the vault died before answering: the machine never learnt the lease
    }
    // Every lease settles (no `creating` left), then the reconcile has had time to run.
    await waitFor(() => leases(rig), { what: 'every lease to leave creating', timeoutMs: 90_000, intervalMs: 300, retryOn: true, until: (ls) => ls.every((l) => l.state !== 'creating') });
    const settled = await waitFor(async () => {
      const ls = await leases(rig);
      const inDb = new Set(await rig.fx.loginsWithPrefix(prefix));
      const live = new Set(ls.filter((l) => LIVE.has(l.state)).map((l) => l.username));
      return { ls, inDb, leaked: [...inDb].filter((u) => !live.has(u)) };
    }, { what: 'the reconcile to drop logins without a live lease', timeoutMs: 30_000, intervalMs: 500, retryOn: true, until: (s) => s.leaked.length === 0 }).catch((err: unknown) => {
      if (err instanceof WaitTimeoutError) return err.lastSeen as { ls: LeaseSummary[]; inDb: Set<string>; leaked: string[] };
      throw err;
    });
    const lost = settled.ls.filter((l) => l.state === 'active' && !settled.inDb.has(l.username)).map((l) => `${l.leaseId} (active, no login)`);
    for (const l of held) {
      if (!(await rig.fx.login(l.fields ?? {}))) lost.push(`${l.leaseId} (the machine's credential is refused)`);
    }
    return { engine: rig.fx.engine, point, leaked: settled.leaked, lost };
  } catch (err) {
    return { engine: rig.fx.engine, point, leaked: [], lost: [], detail: err instanceof Error ? err.message.slice(0, 300) : String(err) };
  } finally {
    for (const a of agents) await a.stop('SIGKILL');
  }
}

export function leaseSummaryLine(results: LeaseCaseResult[]): string {
  const leaked = results.reduce((n, r) => n + r.leaked.length, 0);
  const lost = results.reduce((n, r) => n + r.lost.length, 0);
  return `lease crash matrix: ${results.length} cases, ${leaked} leaked logins, ${lost} lost leases`;
}

export async function runLeaseMatrix(engines: LeaseEngine[], points: readonly string[], log: (line: string) => void = () => undefined): Promise<LeaseCaseResult[]> {
  const results: LeaseCaseResult[] = [];
  for (const engine of engines) {
    const rig = await startLeaseRig(engine);
    try {
      await rig.createRole('ro');
      // This vault's prefix, from a lease made before any crash (then revoked).
      const agent = await rig.h.startAgent({ name: 'probe' });
      const probe = await rig.lease('ro');
      const prefix = `${(probe.fields?.['username'] ?? '').split('_')[0]}_`;
      await rig.app.request('POST', `/v1/leases/${probe.leaseId}/revoke`, {});
      await waitFor(async () => (await rig.get(probe.leaseId)).body.state, { what: 'the probe lease to be revoked', timeoutMs: 30_000, until: (s) => s === 'revoked' });
      await agent.stop('SIGKILL');
      for (const point of points) {
        const r = await runLeaseCase(rig, point, prefix);
        log(`  ${engine} ${point}: ${r.leaked.length} leaked, ${r.lost.length} lost${r.detail ? ` — ${r.detail}` : ''}${[...r.leaked, ...r.lost].length ? ` (${[...r.leaked, ...r.lost].join(', ')})` : ''}`);
        results.push(r);
      }
    } finally {
      await rig.close();
    }
  }
  return results;
}
