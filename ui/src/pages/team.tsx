/**
 * Team: the operators, each one's keys (this browser's is marked) with revoke — a lost laptop is
 * one click for an owner — and invitations (the link is shown once).
 */
import { useState } from 'preact/hooks';
import { api, seg } from '../api.js';
import type { Identity } from '../keystore.js';
import { ActionResult, Chip, ErrorBox, Field, Loading, Section, useAction, useLoad } from '../components.js';
import { when } from '../format.js';
import type { Invitation, Operator, OperatorKey } from '../types.js';

export function TeamPage({ me }: { me: Identity }) {
  const ops = useLoad(() => api<{ operators: Operator[] }>('GET', '/v1/operators'), []);
  const [shown, setShown] = useState(me.operator);
  const keys = useLoad(() => api<{ operator: string; keys: OperatorKey[] }>('GET', `/v1/operators/${seg(shown)}/keys`), [shown]);
  const mayManage = me.role === 'owner' || me.role === 'admin';
  const invites = useLoad(async () => (mayManage ? api<{ invitations: Invitation[] }>('GET', '/v1/operator-invitations') : { invitations: [] }), [mayManage]);
  const act = useAction();
  const [name, setName] = useState('');
  const [role, setRole] = useState('viewer');
  const [existing, setExisting] = useState(false);
  const [url, setUrl] = useState<string | undefined>(undefined);

  return (
    <>
      <h1>Team</h1>
      <ActionResult a={act} />
      <Section title="Operators">
        <ErrorBox error={ops.error} />
        {ops.data ? (
          <div class="table-wrap"><table>
            <thead><tr><th scope="col">Name</th><th scope="col">Role</th><th scope="col">Status</th><th scope="col">Keys</th><th scope="col">Last used</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
            <tbody>
              {ops.data.operators.map((o) => (
                <tr key={o.id}>
                  <td>{o.name}{o.name === me.operator ? ' (you)' : ''}</td><td>{o.role}</td><td><Chip value={o.status} /></td><td>{o.keys}</td><td>{when(o.lastUsedAt)}</td>
                  <td><button type="button" class="small secondary" aria-pressed={shown === o.name} onClick={() => setShown(o.name)}>Keys of {o.name}</button></td>
                </tr>
              ))}
            </tbody>
          </table></div>
        ) : ops.error ? null : <Loading what="operators" />}
      </Section>
      <Section title={`Keys of ${shown}`} id="keys">
        <ErrorBox error={keys.error} />
        {keys.data ? (
          <div class="table-wrap"><table>
            <thead><tr><th scope="col">Label</th><th scope="col">Key id</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">State</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
            <tbody>
              {keys.data.keys.map((k) => (
                <tr key={k.keyId}>
                  <td>{k.label}{k.keyId === me.keyId ? ' (this browser)' : ''}</td><td><code>{k.keyId.slice(0, 12)}…</code></td>
                  <td>{when(k.createdAt)}</td><td>{when(k.lastUsedAt)}</td><td><Chip value={k.revokedAt ? 'revoked' : 'active'} /></td>
                  <td>{k.revokedAt ? null : (
                    <button type="button" class="small danger" disabled={act.busy} onClick={() => {
                      if (k.keyId === me.keyId && !confirm('Revoke the key of this browser? The dashboard stops working here at once.')) return;
                      void act.run(async () => { await api('POST', `/v1/operators/${seg(shown)}/keys/${seg(k.keyId)}/revoke`); keys.reload(); ops.reload(); return `key ${k.label} of ${shown} revoked`; });
                    }}>Revoke {k.label}</button>
                  )}</td>
                </tr>
              ))}
            </tbody>
          </table></div>
        ) : null}
      </Section>
      {mayManage ? (
        <Section title="Invitations">
          <form onSubmit={(e) => {
            e.preventDefault();
            void act.run(async () => {
              const r = await api<{ url: string; name: string }>('POST', '/v1/operator-invitations', { name: name.trim(), ...(existing ? { existing: true } : { role }) });
              setUrl(r.url); setName(''); invites.reload();
              return `invitation for ${r.name} made`;
            });
          }}>
            <Field label="Operator name"><input name="invitee" required value={name} onInput={(e) => setName(e.currentTarget.value)} /></Field>
            <Field label="Role">
              <select name="role" value={role} disabled={existing} onChange={(e) => setRole(e.currentTarget.value)}>
                <option value="viewer">viewer</option><option value="admin">admin</option><option value="owner">owner</option>
              </select>
            </Field>
            <label class="check"><input type="checkbox" checked={existing} onChange={(e) => setExisting(e.currentTarget.checked)} /> One more key for an existing operator (a new device)</label>
            <button type="submit" disabled={act.busy}>Invite</button>
          </form>
          {url ? (
            <div class="once">
              <p><strong>Send this link to the invitee now: it is shown once and works once.</strong></p>
              <output class="token">{url}</output>
              <button type="button" class="small secondary" onClick={() => setUrl(undefined)}>Hide link</button>
            </div>
          ) : null}
          <ErrorBox error={invites.error} />
          {invites.data && invites.data.invitations.length > 0 ? (
            <div class="table-wrap"><table>
              <thead><tr><th scope="col">For</th><th scope="col">Role</th><th scope="col">State</th><th scope="col">Expires</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
              <tbody>
                {invites.data.invitations.map((i) => (
                  <tr key={i.id}>
                    <td>{i.name}</td><td>{i.role}</td><td><Chip value={i.status} /></td><td>{when(i.expiresAt)}</td>
                    <td>{i.status === 'pending' ? (
                      <button type="button" class="small secondary" onClick={() => void act.run(async () => { await api('POST', `/v1/operator-invitations/${seg(i.id)}/revoke`); invites.reload(); return `invitation for ${i.name} revoked`; })}>Revoke invitation for {i.name}</button>
                    ) : null}</td>
                  </tr>
                ))}
              </tbody>
            </table></div>
          ) : null}
        </Section>
      ) : null}
    </>
  );
}
