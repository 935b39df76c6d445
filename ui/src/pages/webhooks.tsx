/**
 * Webhooks and alert rules: each webhook's URL, events and health with its recent deliveries, and
 * the alert rules that route events to them (send a test, remove). Adding a webhook answers its
 * signing secret, so it stays a CLI step (`sikkerkey webhook add`, docs/webhooks.md).
 */
import { useState } from 'preact/hooks';
import { api, seg } from '../api.js';
import { ActionResult, Chip, ErrorBox, Loading, Section, useAction, useLoad } from '../components.js';
import { duration, when } from '../format.js';

interface Webhook { id: string; url: string; events: string[]; enabled: boolean; createdAt: number; failingSince: number | null }
interface Rule { id: string; webhookId: string; events: string[]; project: string | null; minSeverity: string; createdAt: number }
interface Delivery { id: string; type: string; status: string; attempts: number; lastStatus: number | null; lastError: string | null; latencyMs: number | null; createdAt: number }

export function WebhooksPage() {
  const hooks = useLoad(() => api<{ webhooks: Webhook[] }>('GET', '/v1/webhooks'), []);
  const rules = useLoad(() => api<{ rules: Rule[] }>('GET', '/v1/alert-rules'), []);
  const [open, setOpen] = useState<string | undefined>(undefined);
  const deliveries = useLoad(async () => (open ? api<{ deliveries: Delivery[] }>('GET', `/v1/webhooks/${seg(open)}/deliveries?limit=20`) : undefined), [open]);
  const act = useAction();
  const urlOf = (id: string): string => hooks.data?.webhooks.find((w) => w.id === id)?.url ?? id.slice(0, 8);

  return (
    <>
      <h1>Webhooks and alerts</h1>
      <ActionResult a={act} />
      <Section title="Webhooks">
        <ErrorBox error={hooks.error} />
        {hooks.data ? (
          hooks.data.webhooks.length === 0 ? <p class="muted">No webhooks (<code>sikkerkey webhook add URL --events …</code>; its signing secret is shown once there).</p> : (
            <div class="table-wrap"><table>
              <thead><tr><th scope="col">URL</th><th scope="col">Events</th><th scope="col">State</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
              <tbody>
                {hooks.data.webhooks.map((w) => (
                  <tr key={w.id}>
                    <td class="wrap">{w.url}</td><td>{w.events.join(', ')}</td>
                    <td>{w.failingSince ? <><Chip value="failing" /> since {when(w.failingSince)}</> : <Chip value={w.enabled ? 'active' : 'disabled'} />}</td>
                    <td><div class="actions">
                      <button type="button" class="small secondary" aria-expanded={open === w.id} onClick={() => setOpen(open === w.id ? undefined : w.id)}>Deliveries of {w.url}</button>
                      <button type="button" class="small danger" disabled={act.busy} onClick={() => void act.run(async () => { await api('DELETE', `/v1/webhooks/${seg(w.id)}`); hooks.reload(); rules.reload(); return `webhook ${w.url} removed`; })}>Remove {w.url}</button>
                    </div></td>
                  </tr>
                ))}
              </tbody>
            </table></div>
          )
        ) : hooks.error ? null : <Loading what="webhooks" />}
      </Section>
      {open ? (
        <Section title={`Recent deliveries to ${urlOf(open)}`} id="deliveries">
          <ErrorBox error={deliveries.error} />
          {deliveries.data ? (
            deliveries.data.deliveries.length === 0 ? <p class="muted">None yet.</p> : (
              <div class="table-wrap"><table>
                <thead><tr><th scope="col">Event</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Answer</th><th scope="col">Took</th><th scope="col">At</th></tr></thead>
                <tbody>
                  {deliveries.data.deliveries.map((d) => (
                    <tr key={d.id}><td>{d.type}</td><td><Chip value={d.status} /></td><td>{d.attempts}</td><td>{d.lastStatus ?? d.lastError ?? '—'}</td><td>{duration(d.latencyMs)}</td><td>{when(d.createdAt)}</td></tr>
                  ))}
                </tbody>
              </table></div>
            )
          ) : null}
        </Section>
      ) : null}
      <Section title="Alert rules">
        <ErrorBox error={rules.error} />
        {rules.data ? (
          rules.data.rules.length === 0 ? <p class="muted">No alert rules (<code>sikkerkey alert add --events … --webhook ID</code>).</p> : (
            <div class="table-wrap"><table>
              <thead><tr><th scope="col">Events</th><th scope="col">Project</th><th scope="col">At least</th><th scope="col">To</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
              <tbody>
                {rules.data.rules.map((r) => (
                  <tr key={r.id}>
                    <td>{r.events.join(', ')}</td><td>{r.project ?? 'any'}</td><td>{r.minSeverity}</td><td class="wrap">{urlOf(r.webhookId)}</td>
                    <td><div class="actions">
                      <button type="button" class="small secondary" disabled={act.busy} onClick={() => void act.run(async () => { await api('POST', `/v1/alert-rules/${seg(r.id)}/test`); return 'test alert queued'; })}>Send a test ({r.events[0] ?? 'rule'})</button>
                      <button type="button" class="small danger" disabled={act.busy} onClick={() => void act.run(async () => { await api('DELETE', `/v1/alert-rules/${seg(r.id)}`); rules.reload(); return 'alert rule removed'; })}>Remove rule</button>
                    </div></td>
                  </tr>
                ))}
              </tbody>
            </table></div>
          )
        ) : null}
      </Section>
    </>
  );
}
