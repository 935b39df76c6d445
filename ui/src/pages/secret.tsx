/**
 * One secret: metadata, versions with rollback, its access policy, rotation status with the
 * timeline of the last rotation's steps, "run now" with live progress (the operator long-poll
 * `GET /v1/rotations/{id}?wait=N&afterState=S`), and writing a new value. The value is never
 * displayed: there is no operator route that returns one.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, query, seg } from '../api.js';
import { ActionResult, Chip, ErrorBox, Field, Loading, Section, useAction, useLoad } from '../components.js';
import { duration, link, when } from '../format.js';
import type { RotationJob, RotationStatus, Version } from '../types.js';

interface Metadata {
  project: string; name: string; kind: string; isCanary: boolean; version: number | null; description: string | null;
  tags: Record<string, string>; createdAt: number; versions: number;
  rotation: { provider: string; strategy: string; enabled: boolean; pausedReason: string | null } | null;
}

/** States after which a rotation job does not change any more. */
export const FINAL_STATES = new Set(['promoted', 'retired', 'preflight_passed', 'failed', 'cancelled']);

/**
 * Follows a rotation job until it is final: asks the vault to hold the request until the state
 * differs from the last one seen (the long-poll); when the vault answers at once with the same
 * state (a vault without the long-poll), waits a second before asking again.
 */
export async function followRotation(id: string, onState: (job: RotationJob) => void, signal: AbortSignal): Promise<RotationJob> {
  let last: string | undefined;
  for (;;) {
    const started = Date.now();
    const job = await api<RotationJob>('GET', `/v1/rotations/${seg(id)}${query({ wait: last ? 25 : undefined, afterState: last })}`, undefined, signal);
    onState(job);
    if (FINAL_STATES.has(job.state)) return job;
    if (job.state === last && Date.now() - started < 900) await new Promise((r) => setTimeout(r, 1000));
    last = job.state;
  }
}

export function SecretPage({ project, secret }: { project: string; secret: string }) {
  const base = `/v1/projects/${seg(project)}/secrets/${seg(secret)}`;
  const meta = useLoad(() => api<{ secret: Metadata }>('GET', `${base}/metadata`), [base]);
  const versions = useLoad(() => api<{ versions: Version[] }>('GET', `${base}/versions`), [base]);
  const hasRotation = meta.data?.secret.rotation != null;
  const status = useLoad(async () => (hasRotation ? api<RotationStatus>('GET', `${base}/rotation`) : undefined), [base, hasRotation]);
  const job = useLoad(async () => (status.data?.rotationId ? api<RotationJob>('GET', `/v1/rotations/${seg(status.data.rotationId)}`) : undefined), [status.data?.rotationId]);
  const [live, setLive] = useState<RotationJob | undefined>(undefined);
  const run = useAction();
  const rollback = useAction();
  const write = useAction();
  const [value, setValue] = useState('');
  const abort = useRef<AbortController | null>(null);
  useEffect(() => () => abort.current?.abort(), []);

  const runNow = (): void => {
    void run.run(async () => {
      const created = await api<{ id: string }>('POST', `${base}/rotation/run`);
      abort.current?.abort();
      abort.current = new AbortController();
      const done = await followRotation(created.id, setLive, abort.current.signal);
      status.reload(); versions.reload(); meta.reload();
      return `rotation ${done.state}`;
    });
  };
  const shown = live ?? job.data;
  const m = meta.data?.secret;

  return (
    <>
      <p class="crumbs"><a href="#/projects">Projects</a> / <a href={link('projects', project)}>{project}</a> /</p>
      <h1>Secret {project}/{secret}</h1>
      <ErrorBox error={meta.error} />
      {m ? (
        <Section title="Metadata">
          <dl class="meta">
            <dt>Kind</dt><dd>{m.kind}{m.isCanary ? ' (canary)' : ''}</dd>
            <dt>Current version</dt><dd>{m.version ?? '—'}</dd>
            <dt>Versions kept</dt><dd>{m.versions}</dd>
            <dt>Description</dt><dd>{m.description ?? '—'}</dd>
            <dt>Tags</dt><dd>{Object.keys(m.tags).length ? Object.entries(m.tags).map(([k, v]) => `${k}=${v}`).join(', ') : '—'}</dd>
            <dt>Created</dt><dd>{when(m.createdAt)}</dd>
            <dt>Value</dt><dd class="muted">never shown: operators cannot read values</dd>
          </dl>
        </Section>
      ) : meta.error ? null : <Loading what="the secret" />}

      <Section title="Rotation">
        {!m ? null : !m.rotation ? <p class="muted">No rotation policy (<code>sikkerkey rotation set {project} {secret} …</code>).</p> : (
          <>
            <ErrorBox error={status.error} />
            <dl class="meta">
              <dt>Provider</dt><dd>{m.rotation.provider} ({m.rotation.strategy})</dd>
              <dt>Policy</dt><dd>{m.rotation.enabled ? <Chip value="active" /> : <><Chip value="paused" /> {m.rotation.pausedReason ?? ''}</>}</dd>
              <dt>State</dt><dd><span data-testid="rotation-state"><Chip value={shown?.state ?? status.data?.state ?? '…'} /></span></dd>
              <dt>Last success</dt><dd>{when(status.data?.lastSuccessAt)}</dd>
              <dt>Next run</dt><dd>{when(status.data?.nextRunAt)}</dd>
              <dt>Agent</dt><dd>{status.data?.agent.name ?? '—'} (seen {when(status.data?.agent.lastSeenAt)})</dd>
              <dt>Last error</dt><dd>{status.data?.lastError ? `${status.data.lastError.code}: ${status.data.lastError.message}` : '—'}</dd>
            </dl>
            <button type="button" onClick={runNow} disabled={run.busy}>{run.busy ? 'Rotating…' : 'Run now'}</button>
            <div aria-live="polite" class="progress">{run.busy && shown ? <p>Rotation {shown.id.slice(0, 8)}: {shown.state}</p> : null}</div>
            <ActionResult a={run} />
            {shown ? <Timeline job={shown} /> : null}
          </>
        )}
      </Section>

      <Section title="Versions">
        <ErrorBox error={versions.error} />
        {versions.data ? (
          <div class="table-wrap"><table>
            <thead><tr><th scope="col">Version</th><th scope="col">State</th><th scope="col">Created</th><th scope="col">Promoted</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
            <tbody>
              {versions.data.versions.map((v) => (
                <tr key={v.version}>
                  <td>{v.version}</td><td><Chip value={v.state} /></td><td>{when(v.createdAt)}</td><td>{when(v.promotedAt)}</td>
                  <td>{v.version !== m?.version ? (
                    <button type="button" class="small" disabled={rollback.busy} onClick={() => void rollback.run(async () => {
                      await api('POST', `${base}/rollback`, { to: v.version }); versions.reload(); meta.reload(); return `rolled back to version ${v.version}`;
                    })}>Roll back to {v.version}</button>
                  ) : <span class="muted">current</span>}</td>
                </tr>
              ))}
            </tbody>
          </table></div>
        ) : null}
        <ActionResult a={rollback} />
      </Section>

      <Section title="Write a new value">
        <p class="muted">Makes a new version. The value goes to the vault once, signed, and is never displayed back.</p>
        <form autocomplete="off" onSubmit={(e) => {
          e.preventDefault();
          void write.run(async () => {
            const r = await api<{ version?: number }>('PUT', base, { value });
            setValue(''); versions.reload(); meta.reload();
            return `version ${r.version ?? ''} written`;
          });
        }}>
          <Field label="New value (write-only)"><input name="value" type="password" autocomplete="new-password" required value={value} onInput={(e) => setValue(e.currentTarget.value)} /></Field>
          <button type="submit" disabled={write.busy}>Write new version</button>
        </form>
        <ActionResult a={write} />
      </Section>
    </>
  );
}

function Timeline({ job }: { job: RotationJob }) {
  const steps = job.timeline ?? [];
  const start = steps[0]?.at ?? job.createdAt;
  return (
    <div class="timeline">
      <h3>Rotation {job.id.slice(0, 8)} ({job.kind}, attempt {job.attempt})</h3>
      {steps.length > 0 ? (
        <div class="table-wrap"><table>
          <caption class="sr-only">Steps of rotation {job.id}</caption>
          <thead><tr><th scope="col">Step</th><th scope="col">By</th><th scope="col">At</th><th scope="col">Took</th></tr></thead>
          <tbody>
            {steps.map((s, i) => (
              <tr key={`${s.source}-${s.step}-${i}`} data-step={`${s.source}:${s.step}`}>
                <td><Chip value={s.step} /></td><td>{s.source === 'agent' ? 'agent' : 'vault'}{s.attempt ? ` (attempt ${s.attempt})` : ''}</td>
                <td>+{duration(Math.max(0, s.at - start))}</td><td>{s.ms !== undefined ? duration(s.ms) : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table></div>
      ) : <p class="muted">State {job.state}: this vault reports no step timeline.</p>}
      <p class="muted">Started {when(job.createdAt)}{job.finishedAt ? `, finished ${when(job.finishedAt)} (${duration(job.latencyMs ?? job.finishedAt - job.createdAt)})` : ''}{job.errorCode ? ` · ${job.errorCode}` : ''}</p>
    </div>
  );
}
