/**
 * Overview: vault health, rotations due / running / failing, the last canary trips, agents seen
 * and machines waiting for approval, gathered from the list routes (`/readyz`, `/v1/rotations`,
 * `/v1/machines`, `/v1/audit?action=canary.tripped`).
 */
import { api, ApiError } from '../api.js';
import { Chip, ErrorBox, Loading, Section, useLoad } from '../components.js';
import { link, when } from '../format.js';
import type { AuditEvent, Machine, PolicyItem } from '../types.js';

interface Overview {
  health: string;
  policies: PolicyItem[];
  machines: Machine[];
  trips: AuditEvent[];
}

const RUNNING = new Set(['pending', 'claimed', 'applied']);

async function loadOverview(): Promise<Overview> {
  const [health, rotations, machines, trips] = await Promise.all([
    api<{ status: string }>('GET', '/readyz').then((h) => h.status, (err: unknown) => (err instanceof ApiError ? `not ready (${err.code})` : 'unreachable')),
    api<{ policies: PolicyItem[] }>('GET', '/v1/rotations'),
    api<{ machines: Machine[] }>('GET', '/v1/machines'),
    api<{ events: AuditEvent[] }>('GET', '/v1/audit?action=canary.tripped&limit=5'),
  ]);
  return { health, policies: rotations.policies, machines: machines.machines, trips: trips.events };
}

export function OverviewPage() {
  const { data, error, loading } = useLoad(loadOverview, []);
  const now = Date.now();
  return (
    <>
      <h1>Overview</h1>
      <ErrorBox error={error} />
      {loading && !data ? <Loading what="the overview" /> : null}
      {data ? (
        <>
          <div class="stats">
            <Stat label="Vault" value={data.health} />
            <Stat label="Rotations running" value={String(data.policies.filter((p) => RUNNING.has(p.state)).length)} />
            <Stat label="Rotations due" value={String(data.policies.filter((p) => p.enabled && p.nextRunAt !== null && p.nextRunAt <= now).length)} />
            <Stat label="Rotations failing" value={String(data.policies.filter((p) => p.failing || p.state === 'failed' || p.state === 'stuck').length)} />
            <Stat label="Agents seen (24 h)" value={String(data.machines.filter((m) => m.lastSeenAt !== null && now - m.lastSeenAt < 86_400_000).length)} />
            <Stat label="Waiting for approval" value={String(data.machines.filter((m) => m.status === 'pending_approval').length)} />
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
                      <td>{p.lastError ? `${p.lastError.code}` : '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table></div>
            )}
          </Section>
          <Section title="Last canary trips">
            {data.trips.length === 0 ? <p class="muted">No canary has been read.</p> : (
              <ul>{data.trips.map((t) => <li key={t.id}>{when(t.at)}: {t.target} by {t.actorName ?? t.actorId ?? t.actorKind}</li>)}</ul>
            )}
          </Section>
          <Section title="Machines waiting for approval">
            {data.machines.filter((m) => m.status === 'pending_approval').length === 0 ? <p class="muted">None.</p> : (
              <ul>{data.machines.filter((m) => m.status === 'pending_approval').map((m) => <li key={m.id}><a href="#/machines">{m.name}</a> (since {when(m.createdAt)})</li>)}</ul>
            )}
          </Section>
        </>
      ) : null}
    </>
  );
}

function Stat({ label, value }: { label: string; value: string }) {
  return <div class="stat"><span class="stat-label">{label}</span><span class="stat-value">{value}</span></div>;
}
