/**
 * The dashboard's entry: picks the accept page (`/ui/accept`) or the signed-in shell, and routes
 * by the hash (`#/`, `#/projects/P`, `#/projects/P/secrets/S`, `#/machines`, `#/audit`, `#/webhooks`,
 * `#/team`).
 * Without a key in this browser it explains how to get one.
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { Identity } from './keystore.js';
import { loadIdentity, secureContextProblem } from './keystore.js';
import { AcceptPage } from './pages/accept.js';
import { OverviewPage } from './pages/overview.js';
import { ProjectsPage, ProjectPage } from './pages/projects.js';
import { SecretPage } from './pages/secret.js';
import { MachinesPage } from './pages/machines.js';
import { AuditPage } from './pages/audit.js';
import { TeamPage } from './pages/team.js';
import { WebhooksPage } from './pages/webhooks.js';

const NAV: Array<[string, string]> = [['#/', 'Overview'], ['#/projects', 'Projects'], ['#/machines', 'Machines'], ['#/audit', 'Audit'], ['#/webhooks', 'Webhooks'], ['#/team', 'Team']];

function useHash(): string {
  const [hash, setHash] = useState(location.hash || '#/');
  useEffect(() => {
    const on = (): void => setHash(location.hash || '#/');
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

function Page({ parts, me }: { parts: string[]; me: Identity }) {
  const [a, b, c, d] = parts;
  if (a === undefined || a === '') return <OverviewPage />;
  if (a === 'projects' && b === undefined) return <ProjectsPage />;
  if (a === 'projects' && b !== undefined && c === undefined) return <ProjectPage project={b} />;
  if (a === 'projects' && b !== undefined && c === 'secrets' && d !== undefined) return <SecretPage project={b} secret={d} />;
  if (a === 'machines') return <MachinesPage />;
  if (a === 'audit') return <AuditPage />;
  if (a === 'team') return <TeamPage me={me} />;
  if (a === 'webhooks') return <WebhooksPage />;
  return <><h1>Not found</h1><p>No page {parts.join('/')}. <a href="#/">Overview</a></p></>;
}

function Shell() {
  const hash = useHash();
  const [me, setMe] = useState<Identity | null | undefined>(undefined);
  useEffect(() => { void loadIdentity().then((id) => setMe(id ?? null), () => setMe(null)); }, []);
  const parts = hash.replace(/^#\/?/, '').split('/').filter((p) => p !== '').map(decodeURIComponent);
  const current = `#/${parts[0] ?? ''}`;
  useEffect(() => {
    // Move focus to the new page's heading, so keyboard and screen-reader users land on it.
    const h = document.querySelector<HTMLElement>('main h1');
    if (h) { h.tabIndex = -1; h.focus({ preventScroll: true }); }
    document.title = `${h?.textContent ?? 'Dashboard'} · SikkerKey`;
  }, [hash, me]);

  const problem = secureContextProblem();
  if (problem) return <main id="main" class="narrow"><h1>Secure connection needed</h1><p class="error" role="alert">{problem}</p></main>;
  if (me === undefined) return <main id="main" class="narrow"><h1>SikkerKey</h1><p class="muted">Loading…</p></main>;
  if (me === null) {
    return (
      <main id="main" class="narrow">
        <h1>No key in this browser</h1>
        <p>The dashboard signs every request with a key that lives only in this browser. To get one, open an invitation link: an owner or admin runs <code>sikkerkey operator invite NAME</code> (or <code>--existing NAME</code> for one more browser of yours), and <code>npm start</code> prints one for the first owner.</p>
      </main>
    );
  }
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); document.querySelector<HTMLElement>('main h1')?.focus(); }}>Skip to content</a>
      <header class="top">
        <span class="brand">SikkerKey</span>
        <nav aria-label="Main">
          <ul>
            {NAV.map(([href, label]) => <li key={href}><a href={href} aria-current={current === href ? 'page' : undefined}>{label}</a></li>)}
          </ul>
        </nav>
        <span class="whoami" title={`key ${me.keyId}`}>{me.operator} · {me.role}</span>
      </header>
      <main id="main"><Page parts={parts} me={me} /></main>
    </>
  );
}

function App() {
  return /\/accept\/?$/.test(location.pathname) ? <AcceptPage /> : <Shell />;
}

const root = document.getElementById('app');
if (root) render(<App />, root);
