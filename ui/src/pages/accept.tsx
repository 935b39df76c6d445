/**
 * `/ui/accept#token=skinv_…`: makes this browser one of the operator's keys. The key pair is
 * generated here, non-extractable; the invitation is accepted with a request signed by that very
 * key (proof of possession, as `sikkerkey operator accept` does), then the pair, its key id and
 * the operator's name are stored in IndexedDB. The token is removed from the address bar.
 */
import { useEffect, useState } from 'preact/hooks';
import { readJson, signedFetch } from '../api.js';
import { generateKeyPair, loadIdentity, saveIdentity, secureContextProblem } from '../keystore.js';
import { base64url, keyIdOf } from '../signing.js';
import { ErrorBox, Field } from '../components.js';

interface Accepted { operator: { id: string; name: string; role: string }; keyId: string }

export function tokenFromHash(hash: string): string | undefined {
  const m = /(?:^#|&)token=([^&]+)/.exec(hash);
  return m?.[1] ? decodeURIComponent(m[1]) : undefined;
}

export function AcceptPage() {
  const [token] = useState(() => tokenFromHash(location.hash));
  const [label, setLabel] = useState(defaultLabel());
  const [existing, setExisting] = useState<string | undefined>(undefined);
  const [state, setState] = useState<'ready' | 'working' | 'done'>('ready');
  const [error, setError] = useState<unknown>(undefined);
  const [who, setWho] = useState<Accepted | undefined>(undefined);
  const problem = secureContextProblem();

  useEffect(() => {
    // The token is single-use and shown once: keep it out of the history and of screenshots.
    if (token) history.replaceState(null, '', location.pathname);
    void loadIdentity().then((id) => setExisting(id?.operator), () => undefined);
  }, [token]);

  if (problem) {
    return (
      <main id="main" class="narrow">
        <h1>Secure connection needed</h1>
        <p class="error" role="alert">{problem}</p>
      </main>
    );
  }
  if (!token && state !== 'done') {
    return (
      <main id="main" class="narrow">
        <h1>Accept an invitation</h1>
        <p>This link has no invitation token. Ask an owner or admin for a new one (<code>sikkerkey operator invite NAME</code>) and open its whole URL.</p>
        <p><a href="/ui/">Go to the dashboard</a></p>
      </main>
    );
  }

  const accept = async (e: Event): Promise<void> => {
    e.preventDefault();
    setState('working'); setError(undefined);
    try {
      const keyPair = await generateKeyPair();
      const raw = new Uint8Array(await crypto.subtle.exportKey('raw', keyPair.publicKey));
      const keyId = await keyIdOf(raw);
      const res = await signedFetch('POST', '/v1/operator-invitations/accept', { keyId, privateKey: keyPair.privateKey },
        { token, publicKey: base64url(raw), ...(label.trim() ? { label: label.trim() } : {}) });
      const body = await readJson<Accepted>(res);
      if (body.keyId !== keyId) throw new Error('the vault registered a different key id than this browser computed');
      await saveIdentity({ keyPair, keyId, operator: body.operator.name, role: body.operator.role, acceptedAt: Date.now() });
      setWho(body); setState('done');
    } catch (err) {
      setError(err); setState('ready');
    }
  };

  if (state === 'done' && who) {
    return (
      <main id="main" class="narrow">
        <h1>Welcome, {who.operator.name}</h1>
        <p>This browser now holds a key of its own (role {who.operator.role}, key id <code>{who.keyId}</code>). It cannot be exported; clearing this site's data removes it.</p>
        <p><a class="button" href="/ui/#/">Open the dashboard</a></p>
      </main>
    );
  }
  return (
    <main id="main" class="narrow">
      <h1>Accept an invitation</h1>
      <p>This browser will make an Ed25519 key that never leaves it and register it with the vault. Every request from this dashboard is then signed with it: no password, no cookie, no bearer token.</p>
      {existing ? <p class="note">This browser already holds a key of {existing}; accepting replaces it here (the old key stays registered until revoked on the Team page).</p> : null}
      <form onSubmit={(e) => void accept(e)}>
        <Field label="A name for this key (the device)">
          <input name="label" value={label} maxLength={64} onInput={(e) => setLabel(e.currentTarget.value)} />
        </Field>
        <button type="submit" disabled={state === 'working'}>{state === 'working' ? 'Registering…' : 'Make my key and accept'}</button>
      </form>
      <ErrorBox error={error} />
    </main>
  );
}

function defaultLabel(): string {
  const ua = navigator.userAgent;
  const browser = /Firefox\//.test(ua) ? 'firefox' : /Edg\//.test(ua) ? 'edge' : /Chrome\//.test(ua) ? 'chromium' : /Safari\//.test(ua) ? 'safari' : 'browser';
  return `${browser}-${new Date().toISOString().slice(0, 10)}`;
}
