/**
 * Audit: search the log with filters, see whether the hash chain verifies, and export what the
 * search found as JSON Lines (the same format as `sikkerkey audit export`).
 */
import { useEffect, useState } from 'preact/hooks';
import { api, query } from '../api.js';
import { ActionResult, Chip, ErrorBox, Field, Section, useAction, useLoad } from '../components.js';
import { when } from '../format.js';
import type { AuditEvent, ChainReport } from '../types.js';

interface Filters { action: string; actor: string; project: string; target: string; outcome: string }
const EMPTY: Filters = { action: '', actor: '', project: '', target: '', outcome: '' };

export function AuditPage() {
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const events = useLoad(() => api<{ events: AuditEvent[]; hasMore: boolean }>('GET', `/v1/audit${query({ ...filters, limit: 100 })}`), [JSON.stringify(filters)]);
  const verify = useLoad(() => api<ChainReport>('GET', '/v1/audit/verify'), []);
  const [exportUrl, setExportUrl] = useState<string | undefined>(undefined);
  const exp = useAction();
  useEffect(() => () => { if (exportUrl) URL.revokeObjectURL(exportUrl); }, [exportUrl]);
  const set = (k: keyof Filters) => (e: { currentTarget: HTMLInputElement | HTMLSelectElement }): void => setDraft({ ...draft, [k]: e.currentTarget.value });

  return (
    <>
      <h1>Audit log</h1>
      <Section title="Chain verification">
        <ErrorBox error={verify.error} />
        {verify.data ? (
          <p data-testid="chain-state">
            <Chip value={verify.data.ok ? 'intact' : 'broken'} /> {verify.data.events} events{verify.data.macs !== undefined ? `, ${verify.data.macs} MACs` : ''} checked
            {verify.data.firstBad ? ` · first bad event ${verify.data.firstBad.seq}: ${verify.data.firstBad.reason}` : ''}
          </p>
        ) : null}
        <button type="button" class="small secondary" onClick={verify.reload}>Verify again</button>
      </Section>
      <Section title="Search">
        <form class="filters" role="search" onSubmit={(e) => { e.preventDefault(); setFilters(draft); }}>
          <Field label="Action"><input name="action" value={draft.action} placeholder="machine.approve" onInput={set('action')} /></Field>
          <Field label="Actor"><input name="actor" value={draft.actor} placeholder="operator:NAME" onInput={set('actor')} /></Field>
          <Field label="Project"><input name="project" value={draft.project} onInput={set('project')} /></Field>
          <Field label="Target"><input name="target" value={draft.target} onInput={set('target')} /></Field>
          <Field label="Outcome">
            <select name="outcome" value={draft.outcome} onChange={set('outcome')}>
              <option value="">any</option><option value="success">success</option><option value="failure">failure</option><option value="denied">denied</option>
            </select>
          </Field>
          <button type="submit">Search</button>
        </form>
        <ErrorBox error={events.error} />
        {events.data ? (
          <>
            <p class="muted" aria-live="polite">{events.data.events.length} events{events.data.hasMore ? ' (more match: narrow the search)' : ''}</p>
            <div class="table-wrap"><table>
              <thead><tr><th scope="col">#</th><th scope="col">When</th><th scope="col">Actor</th><th scope="col">Action</th><th scope="col">Target</th><th scope="col">Outcome</th></tr></thead>
              <tbody>
                {events.data.events.map((ev) => (
                  <tr key={ev.id}>
                    <td>{ev.seq}</td><td>{when(ev.at)}</td><td>{ev.actorKind}:{ev.actorName ?? ev.actorId ?? '—'}</td>
                    <td>{ev.action}</td><td class="wrap">{ev.target}</td><td><Chip value={ev.outcome} /></td>
                  </tr>
                ))}
              </tbody>
            </table></div>
            <button type="button" class="small secondary" onClick={() => void exp.run(async () => {
              const lines = events.data?.events.map((ev) => JSON.stringify(ev)).join('\n') ?? '';
              if (exportUrl) URL.revokeObjectURL(exportUrl);
              setExportUrl(URL.createObjectURL(new Blob([`${lines}\n`], { type: 'application/x-ndjson' })));
              return `${events.data?.events.length ?? 0} events ready`;
            })}>Export these events</button>
            {exportUrl ? <> <a href={exportUrl} download="sikkerkey-audit.jsonl">Download sikkerkey-audit.jsonl</a></> : null}
            <ActionResult a={exp} />
          </>
        ) : null}
      </Section>
    </>
  );
}
