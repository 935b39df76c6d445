/**
 * Overview: vault health, rotations due / running / stuck / failing / drifting, canaries and their
 * last trips, rotation agents with when each was last seen, and machines waiting for approval —
 * from `GET /v1/overview` (docs/dashboard.md); a vault without that route gets the same counts
 * gathered from the list routes. Each rotation policy's state is listed from `GET /v1/rotations`.
 */
import { api, ApiError } from '../api.js';
import { Chip, ErrorBox, Loading, Section, useLoad } from '../components.js';
import { link, when } from '../format.js';
import type { Machine, PolicyItem } from '../types.js';

export interface Overview {
  health: { ready: boolean; version: string };
  rotations: { policies: number; paused: number; dueNow: number; dueNext24h: number; running: number; stuck: number; failing: number; drifting: number; failedLast24h: number };
  canaries: { total: number; lockedProjects: number; lastTrips: Array<{ at: number; project: string; canary: string; machine: string | null; sourceIp: string | null }> };
  agents: { total: number; online: number; list: Array<{ name: string; status: string; lastSeenAt: number | null }> };
  machines: { total: number; pendingApproval: number; seenLast24h: number; pending: Array<{ name: string; createdAt: number; createdVia: string }> };
}

/** The overview from the list routes, for a vault that has no `GET /v1/overview`. */
async function gathered(policies: PolicyItem[]): Promise<Overview> {
  const [ready, machines] = await Promise.all([
    api<{ status: string }>('GET', '/readyz').then((r) => r.status === 'ready', () => false),
    api<{ machines: Machine[] }>('GET', '/v1/machines').then((r) => r.machines),
  ]);
  const now = Date.now();
  const agents = machines.filter((m) => policies.some((p) => p.agent === m.name || (p.agentLabel !== null && m.labels.includes(p.agentLabel))));
  const pending = machines.filter((m) => m.status === 'pending_approval');
  return {
    health: { ready, version: '' },
    rotations: {
      policies: policies.length, paused: policies.filter((p) => !p.enabled).length, dueNow: policies.filter((p) => p.state === 'pending').length,
      dueNext24h: policies.filter((p) => p.enabled && p.nextRunAt !== null && p.nextRunAt <= now + 86_400_000).length,
      running: policies.filter((p) => p.state === 'claimed' || p.state === 'applied').length, stuck: policies.filter((p) => p.state === 'stuck').length,
      failing: policies.filter((p) => p.failing).length, drifting: 0, failedLast24h: 0,
    },
    canaries: { total: 0, lockedProjects: 0, lastTrips: [] },
    agents: { total: agents.length, online: agents.filter((m) => m.lastSeenAt !== null && now - m.lastSeenAt < 300_000).length, list: agents.map((m) => ({ name: m.name, status: m.status, lastSeenAt: m.lastSeenAt })) },
    machines: { total: machines.length, pendingApproval: pending.length, seenLast24h: machines.filter((m) => m.lastSeenAt !== null && now - m.lastSeenAt < 86_400_000).length, pending: pending.map((m) => ({ name: m.name, createdAt: m.createdAt, createdVia: m.createdVia })) },
  };
}

async function loadOverview(): Promise<{ o: Overview; policies: PolicyItem[] }> {
  const policies = (await api<{ policies: PolicyItem[] }>('GET', '/v1/rotations')).policies;
  try {
    return { o: await api<Overview>('GET', '/v1/overview'), policies };
  } catch (err) {
    if (err instanceof ApiError && err.code === 'SK_ERR_ROUTE_NOT_FOUND') return { o: await gathered(policies), policies };
    throw err;
  }
}

export function OverviewPage() {
  const { data, error, loading } = useLoad(loadOverview, []);
  const o = data?.o;
  return (
    <>
      <h1>Overview</h1>
      <ErrorBox error={error} />
      {loading && !data ? <Loading what="the overview" /> : null}
      {o && data ? (
        <>
          <div class="stats">
            <Stat label="Vault" value={o.health.ready ? 'ready' : 'not ready'} />
            <Stat label="Rotations running" value={o.rotations.running} />
            <Stat label="Rotations due now" value={o.rotations.dueNow} />
            <Stat label="Due in 24 h" value={o.rotations.dueNext24h} />
            <Stat label="Failing or stuck" value={o.rotations.failing + o.rotations.stuck} />
            <Stat label="Drifting" value={o.rotations.drifting} />
            <Stat label="Agents online" value={`${o.agents.online} / ${o.agents.total}`} />
            <Stat label="Waiting for approval" value={o.machines.pendingApproval} />
          </div>
          <Section title="Rotations">
            {data.policies.length === 0 ? <p class="muted">No rotation policies yet.</p> : (
              <div class="table-wrap"><table>
                <thead><tr><th scope="col">Secret</th><th scope="col">Provider</th><th scope="col">State</th><th scope="col">Next run</th><th scope="col">Last error</th></tr></thead>
                <tbody>
                  {data.policies.map((p) => (
                    <tr key={`${p.project}/${p.secret}`}>
                      <td><a href={link('projects', p.project, 'secrets', p.secret)}>{p.project}/{p.secret}</a></td>
                      <td>{p.provider}</td><td><Chip value={p.failing ? 'failing' : p.state} /></td><td>{when(p.nextRunAt)}</td>
                      <td>{p.lastError ? p.lastError.code : '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table></div>
            )}
          </Section>
          <Section title="Rotation agents">
            {o.agents.list.length === 0 ? <p class="muted">No machine is the agent of a rotation policy.</p> : (
              <ul>{o.agents.list.map((a) => <li key={a.name}>{a.name} <Chip value={a.status} /> <span class="muted">last seen {when(a.lastSeenAt)}</span></li>)}</ul>
            )}
          </Section>
          <Section title="Last canary trips">
            <p class="muted">{o.canaries.total} canaries{o.canaries.lockedProjects ? `, ${o.canaries.lockedProjects} projects locked` : ''}.</p>
            {o.canaries.lastTrips.length === 0 ? <p class="muted">No canary has been read.</p> : (
              <ul>{o.canaries.lastTrips.map((t) => <li key={`${t.at}-${t.canary}`}>{when(t.at)}: {t.project}/{t.canary} read by {t.machine ?? 'an unknown machine'}{t.sourceIp ? ` from ${t.sourceIp}` : ''}</li>)}</ul>
            )}
          </Section>
          <Section title="Machines waiting for approval">
            {o.machines.pending.length === 0 ? <p class="muted">None.</p> : (
              <ul>{o.machines.pending.map((m) => <li key={m.name}><a href="#/machines">{m.name}</a> <span class="muted">({m.createdVia}, since {when(m.createdAt)})</span></li>)}</ul>
            )}
          </Section>
        </>
      ) : null}
    </>
  );
}

function Stat({ label, value }: { label: string; value: string | number }) {
  return <div class="stat"><span class="stat-label">{label}</span><span class="stat-value">{value}</span></div>;
}
