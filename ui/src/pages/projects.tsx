/**
 * Projects (list, create) and one project's secrets (list, create with a first value). A value
 * typed here is sent once, signed, and never shown again: operators have no route that reads one.
 */
import { useState } from 'preact/hooks';
import { api, seg } from '../api.js';
import { ActionResult, Chip, ErrorBox, Field, Loading, Section, useAction, useLoad } from '../components.js';
import { link, when } from '../format.js';
import type { Canary, Project, SecretItem } from '../types.js';

export function ProjectsPage() {
  const { data, error, reload } = useLoad(() => api<{ projects: Project[] }>('GET', '/v1/projects'), []);
  const [name, setName] = useState('');
  const create = useAction();
  return (
    <>
      <h1>Projects</h1>
      <ErrorBox error={error} />
      {!data && !error ? <Loading what="projects" /> : null}
      {data ? (
        data.projects.length === 0 ? <p class="muted">No projects yet.</p> : (
          <ul class="list">
            {data.projects.map((p) => (
              <li key={p.id}><a href={link('projects', p.name)}>{p.name}</a> {p.locked ? <Chip value="locked" /> : null} <span class="muted">created {when(p.createdAt)}</span></li>
            ))}
          </ul>
        )
      ) : null}
      <Section title="New project">
        <form onSubmit={(e) => { e.preventDefault(); void create.run(async () => { await api('POST', '/v1/projects', { name: name.trim() }); const made = name.trim(); setName(''); reload(); return `project ${made} created`; }); }}>
          <Field label="Project name"><input name="project" required value={name} pattern="[A-Za-z0-9][A-Za-z0-9._-]*" onInput={(e) => setName(e.currentTarget.value)} /></Field>
          <button type="submit" disabled={create.busy}>Create project</button>
        </form>
        <ActionResult a={create} />
      </Section>
    </>
  );
}

export function ProjectPage({ project }: { project: string }) {
  const secrets = useLoad(() => api<{ secrets: SecretItem[] }>('GET', `/v1/projects/${seg(project)}/secrets`), [project]);
  const canaries = useLoad(() => api<{ canaries: Canary[] }>('GET', `/v1/projects/${seg(project)}/canaries`), [project]);
  const [name, setName] = useState('');
  const [value, setValue] = useState('');
  const create = useAction();
  return (
    <>
      <p class="crumbs"><a href="#/projects">Projects</a> /</p>
      <h1>Project {project}</h1>
      <Section title="Secrets">
        <ErrorBox error={secrets.error} />
        {secrets.data ? (
          secrets.data.secrets.length === 0 ? <p class="muted">No secrets yet.</p> : (
            <div class="table-wrap"><table>
              <thead><tr><th scope="col">Name</th><th scope="col">Kind</th><th scope="col">Version</th><th scope="col">Access policy</th><th scope="col">Created</th></tr></thead>
              <tbody>
                {secrets.data.secrets.map((s) => (
                  <tr key={s.name}>
                    <td><a href={link('projects', project, 'secrets', s.name)}>{s.name}</a>{s.isCanary ? <> <Chip value="canary" /></> : null}</td>
                    <td>{s.kind}</td><td>{s.version ?? '—'}</td><td>{s.policy ?? '—'}</td><td>{when(s.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table></div>
          )
        ) : secrets.error ? null : <Loading what="secrets" />}
      </Section>
      <Section title="New secret">
        <p class="muted">The value is sent once and never shown again: the dashboard (like every operator) cannot read values; machines with a grant can.</p>
        <form autocomplete="off" onSubmit={(e) => {
          e.preventDefault();
          const n = name.trim();
          void create.run(async () => {
            await api('PUT', `/v1/projects/${seg(project)}/secrets/${seg(n)}`, { value });
            setValue(''); setName(''); secrets.reload();
            return `secret ${n} written`;
          });
        }}>
          <Field label="Secret name"><input name="secret" required value={name} onInput={(e) => setName(e.currentTarget.value)} /></Field>
          <Field label="Value (write-only)"><input name="value" type="password" autocomplete="new-password" required value={value} onInput={(e) => setValue(e.currentTarget.value)} /></Field>
          <button type="submit" disabled={create.busy}>Create secret</button>
        </form>
        <ActionResult a={create} />
      </Section>
      <Section title="Canaries">
        <ErrorBox error={canaries.error} />
        {canaries.data ? (
          canaries.data.canaries.length === 0 ? <p class="muted">No canaries in this project (<code>sikkerkey canary create</code>).</p>
            : <ul>{canaries.data.canaries.map((c) => <li key={c.name}>{c.name} <span class="muted">({c.kind}{c.lockMachineProjects ? ', locks the reader\'s projects' : ''}, since {when(c.createdAt)})</span></li>)}</ul>
        ) : null}
      </Section>
    </>
  );
}
