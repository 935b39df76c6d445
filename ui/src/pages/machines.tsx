/**
 * Machines: approve / disable / enable, extend with a reason, their grants (add one to a machine
 * or a label; remove one), and new enrollment and bootstrap tokens (each token is shown once,
 * here, and never again).
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
                  <td>{(grants.data?.grants ?? []).filter((g) => g.machine === m.name || (g.label !== undefined && m.labels.includes(g.label))).map(grantWhat).join(', ') || '—'}</td>
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
      <GrantsSection grants={grants.data?.grants} error={grants.error} reload={grants.reload} />
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

/** What a grant gives: `project/secret[fields]`, a whole project (`project/*`), or a lease role. */
function grantWhat(g: Grant): string {
  if (g.leaseRole) return `${g.project} lease role ${g.leaseRole}`;
  return `${g.project}/${g.secret ?? '*'}${g.fields && g.fields.length > 0 ? ` [${g.fields.join(', ')}]` : ''}`;
}

/** Whom a grant is to: its machine, or `label NAME`. */
function grantTo(g: Grant): string {
  return g.machine ?? `label ${g.label ?? ''}`;
}

function GrantsSection({ grants, error, reload }: { grants: Grant[] | undefined; error: unknown; reload: () => void }) {
  const [to, setTo] = useState('');
  const [project, setProject] = useState('');
  const [secret, setSecret] = useState('');
  const [fields, setFields] = useState('');
  const act = useAction();
  const remove = (g: Grant): void => {
    void act.run(async () => { await api('DELETE', `/v1/grants/${seg(g.id)}`); reload(); return `grant removed: ${grantTo(g)} → ${grantWhat(g)}`; });
  };
  return (
    <Section title="Grants" id="grants">
      <p class="muted">What machines may read. A grant to a label covers every active machine carrying it. Removing a grant takes effect on the machine's next request (and revokes its leases of a lease role).</p>
      <ErrorBox error={error} />
      <ActionResult a={act} />
      {grants ? (
        grants.length === 0 ? <p class="muted">No grants yet.</p> : (
          <div class="table-wrap"><table>
            <thead><tr><th scope="col">To</th><th scope="col">Grants</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
            <tbody>
              {grants.map((g) => {
                const who = grantTo(g);
                return (
                  <tr key={g.id} data-grant={g.id}>
                    <td>{who}</td><td>{grantWhat(g)}</td>
                    <td><button type="button" class="small secondary" disabled={act.busy} onClick={() => remove(g)}>Remove grant of {grantWhat(g)} to {who}</button></td>
                  </tr>
                );
              })}
            </tbody>
          </table></div>
        )
      ) : error ? null : <Loading what="grants" />}
      <form onSubmit={(e) => {
        e.preventDefault();
        void act.run(async () => {
          const target = to.trim();
          const fs = fields.split(',').map((f) => f.trim()).filter(Boolean);
          const body = {
            ...(target.startsWith('label:') ? { label: target.slice('label:'.length).trim() } : { machine: target }),
            project: project.trim(), ...(secret.trim() ? { secret: secret.trim() } : {}), ...(fs.length ? { fields: fs } : {}),
          };
          await api('POST', '/v1/grants', body);
          setSecret(''); setFields('');
          reload();
          return `granted ${target} → ${project.trim()}/${secret.trim() || '*'}`;
        });
      }}>
        <Field label="Machine (or label:NAME)"><input name="grant-to" required value={to} onInput={(e) => setTo(e.currentTarget.value)} /></Field>
        <Field label="Grant project"><input name="grant-project" required value={project} onInput={(e) => setProject(e.currentTarget.value)} /></Field>
        <Field label="Secret (empty: the whole project)"><input name="grant-secret" value={secret} onInput={(e) => setSecret(e.currentTarget.value)} /></Field>
        <Field label="Fields (comma-separated; empty: all)"><input name="grant-fields" value={fields} onInput={(e) => setFields(e.currentTarget.value)} /></Field>
        <button type="submit" disabled={act.busy}>Add grant</button>
      </form>
    </Section>
  );
}
