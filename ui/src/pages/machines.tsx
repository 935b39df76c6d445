/**
 * Machines: approve / disable / enable, extend with a reason, their grants, and new enrollment
 * and bootstrap tokens (each token is shown once, here, and never again).
 */
import { useState } from 'preact/hooks';
import { api, seg } from '../api.js';
import { ActionResult, Chip, ErrorBox, Field, Loading, Section, useAction, useLoad } from '../components.js';
import { when } from '../format.js';
import type { Grant, Machine } from '../types.js';

export function MachinesPage() {
  const machines = useLoad(() => api<{ machines: Machine[] }>('GET', '/v1/machines'), []);
  const grants = useLoad(() => api<{ grants: Grant[] }>('GET', '/v1/grants'), []);
  const act = useAction();
  const [extending, setExtending] = useState<string | undefined>(undefined);
  const [by, setBy] = useState('30d');
  const [reason, setReason] = useState('');

  const change = (m: Machine, verb: 'approve' | 'disable' | 'enable'): void => {
    void act.run(async () => { await api('POST', `/v1/machines/${seg(m.name)}/${verb}`); machines.reload(); return `${m.name}: ${verb}d`; });
  };

  return (
    <>
      <h1>Machines</h1>
      <ErrorBox error={machines.error} />
      <ActionResult a={act} />
      <Section title="All machines" id="fleet">
      {machines.data ? (
        machines.data.machines.length === 0 ? <p class="muted">No machines yet: make an enrollment or bootstrap token below.</p> : (
          <div class="table-wrap"><table>
            <thead><tr><th scope="col">Name</th><th scope="col">Status</th><th scope="col">Labels</th><th scope="col">Expires</th><th scope="col">Last seen</th><th scope="col">Grants</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
            <tbody>
              {machines.data.machines.map((m) => (
                <tr key={m.id} data-machine={m.name}>
                  <td>{m.name}</td><td><Chip value={m.status} /></td><td>{m.labels.join(', ') || '—'}</td>
                  <td>{when(m.expiresAt)}</td><td>{when(m.lastSeenAt)}</td>
                  <td>{(grants.data?.grants ?? []).filter((g) => g.machine === m.name || (g.label !== undefined && m.labels.includes(g.label))).map((g) => `${g.project}/${g.secret ?? '*'}`).join(', ') || '—'}</td>
                  <td><div class="actions">
                    {m.status === 'pending_approval' ? <button type="button" class="small" disabled={act.busy} onClick={() => change(m, 'approve')}>Approve {m.name}</button> : null}
                    {m.status === 'active' ? <button type="button" class="small" disabled={act.busy} onClick={() => change(m, 'disable')}>Disable {m.name}</button> : null}
                    {m.status === 'disabled' ? <button type="button" class="small" disabled={act.busy} onClick={() => change(m, 'enable')}>Enable {m.name}</button> : null}
                    <button type="button" class="small secondary" aria-expanded={extending === m.name} onClick={() => setExtending(extending === m.name ? undefined : m.name)}>Extend {m.name}…</button>
                  </div></td>
                </tr>
              ))}
            </tbody>
          </table></div>
        )
      ) : machines.error ? null : <Loading what="machines" />}
      </Section>
      {extending ? (
        <Section title={`Extend ${extending}`} id="extend">
          <form onSubmit={(e) => {
            e.preventDefault();
            const name = extending;
            void act.run(async () => { await api('POST', `/v1/machines/${seg(name)}/extend`, { by, reason }); setExtending(undefined); setReason(''); machines.reload(); return `${name} extended by ${by}`; });
          }}>
            <Field label="Extend by (e.g. 30d)"><input name="by" required value={by} onInput={(e) => setBy(e.currentTarget.value)} /></Field>
            <Field label="Reason (recorded in the audit log)"><input name="reason" required value={reason} onInput={(e) => setReason(e.currentTarget.value)} /></Field>
            <button type="submit" disabled={act.busy}>Extend</button>
          </form>
        </Section>
      ) : null}
      <TokenForm kind="enrollment" />
      <TokenForm kind="bootstrap" />
    </>
  );
}

function TokenForm({ kind }: { kind: 'enrollment' | 'bootstrap' }) {
  const [project, setProject] = useState('');
  const [labels, setLabels] = useState('');
  const [life, setLife] = useState(kind === 'enrollment' ? '90d' : '1h');
  const [token, setToken] = useState<string | undefined>(undefined);
  const make = useAction();
  const title = kind === 'enrollment' ? 'New enrollment token' : 'New bootstrap token';
  return (
    <Section title={title} id={`${kind}-token`}>
      <p class="muted">{kind === 'enrollment' ? 'A machine enrolls with it and is active at once.' : 'For images and autoscaling: machines that enroll with it wait for your approval here.'} The token is shown once.</p>
      <form onSubmit={(e) => {
        e.preventDefault();
        void make.run(async () => {
          const ls = labels.split(',').map((l) => l.trim()).filter(Boolean);
          const body = { project: project.trim(), ...(ls.length ? { labels: ls } : {}), ...(kind === 'enrollment' ? { machineLifetime: life } : { lifetime: life }) };
          const r = await api<{ id: string; token: string; expiresAt: number }>('POST', `/v1/${kind}-tokens`, body);
          setToken(r.token);
          return `token ${r.id.slice(0, 8)} expires ${when(r.expiresAt)}`;
        });
      }}>
        <Field label="Project"><input name="project" required value={project} onInput={(e) => setProject(e.currentTarget.value)} /></Field>
        <Field label="Labels (comma-separated)"><input name="labels" value={labels} onInput={(e) => setLabels(e.currentTarget.value)} /></Field>
        <Field label={kind === 'enrollment' ? 'Machine lifetime' : 'Machine lifetime'}><input name="lifetime" required value={life} onInput={(e) => setLife(e.currentTarget.value)} /></Field>
        <button type="submit" disabled={make.busy}>Make {kind} token</button>
      </form>
      <ActionResult a={make} />
      {token ? (
        <div class="once">
          <p><strong>Copy it now: it is not shown again.</strong></p>
          <output class="token" data-testid={`${kind}-token`}>{token}</output>
          <p class="muted">On the machine: <code>sikkerkey-agent enroll --url {location.origin} --token TOKEN --key-file /etc/sikkerkey/agent.key</code></p>
          <button type="button" class="small secondary" onClick={() => setToken(undefined)}>Hide token</button>
        </div>
      ) : null}
    </Section>
  );
}
