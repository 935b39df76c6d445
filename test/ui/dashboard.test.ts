/**
 * The dashboard in a real browser (issue 29): Debian's Chromium driven by playwright-core, a real
 * vault process serving dist/ui/ at /ui/ under its strict CSP, a real agent process and a real
 * Redis. The browser accepts an invitation (its key is a non-extractable WebCrypto Ed25519 key in
 * IndexedDB), creates a project and a secret, writes values, runs a Redis rotation and watches it
 * promote, approves a machine that enrolled with a bootstrap token made on the Machines page, and
 * searches the audit log. Every response body and every page's DOM are scanned for the secret
 * values (never present); axe-core checks every page in light and dark mode (0 serious/critical);
 * a request replayed from the browser's traffic is refused; after the browser's key is revoked
 * its next request is refused. Ends by printing
 * `ui: N pages, 0 failed, 0 serious a11y violations, 0 secret values seen`.
 *
 * With SK_UI_SCREENSHOTS=DIR (`npm run screenshots`) it also writes a PNG of each page there.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { Redis } from 'ioredis';
import { verifyRequest } from '../../protocol/signing.js';
import type { NonceStore } from '../../protocol/signing.js';
import { parsePublicKey, publicKeyObject } from '../../protocol/keys.js';
import { startRotationHarness } from '../support/rotation-harness.js';
import type { RotationHarness } from '../support/rotation-harness.js';
import { jsonOf, runBin } from '../support/processes.js';
import { waitFor } from '../support/wait.js';
import { assertReachable, parseServiceUrl, randomTag, redisUrl } from '../support/services.js';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = process.env.SK_UI_SCREENSHOTS;
/** Pages also photographed in dark mode and at a phone's width (every page is checked in all three). */
const EXTRA_SHOTS = new Set(['overview', 'rotation']);
const UI_INDEX = new URL('../../ui/index.html', import.meta.url);
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const NOT_LOCAL_HOST = 'sk-dashboard.test';
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];

const server = parseServiceUrl(redisUrl());
const tag = randomTag();
const USER = `sk_ui_app_${tag}`;
const ADMIN = `sk_ui_adm_${tag}`;
const INITIAL = `initial-${randomTag(12)}`;
const ADMIN_PASSWORD = `admin-${randomTag(12)}`;
/** Values the browser writes: they must never come back in a response or show in the DOM. */
const VALUE = `ui-first-${randomTag(12)}`;
const VALUE2 = `ui-second-${randomTag(12)}`;
const base = { host: server.host, port: String(server.port) };
/** Every value the scan looks for; the rotated password joins once the rotation promoted. */
const secretValues: string[] = [VALUE, VALUE2, INITIAL, ADMIN_PASSWORD];

let root: Redis;
let h: RotationHarness;
let browser: Browser;
let ctx: BrowserContext;
let page: Page;
let dir: string;

/** Everything the browser received, for the secret scan at the end. */
const bodies: Array<Promise<string>> = [];
const doms: string[] = [];
/** Signed requests the browser sent: method, url, headers, body. */
const sent: Array<{ method: string; url: string; headers: Record<string, string>; body: Buffer | null }> = [];
const statuses: Array<{ url: string; status: number }> = [];
const cspViolations: string[] = [];
const pagesChecked: string[] = [];
const pagesFailed: string[] = [];
let seriousViolations = 0;
let acceptedKeyId = '';
let acceptedPublicKey = '';

before(async () => {
  assert.ok(existsSync(UI_INDEX), 'dist/ui/index.html is missing: run npm run build (scripts/build-ui.mjs)');
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium (scripts/test-requirements.mjs)`);
  await assertReachable('redis', redisUrl());
  root = new Redis({ host: server.host, port: server.port, username: server.username || undefined, password: server.password || undefined, lazyConnect: true });
  await root.connect();
  await root.call('ACL', 'SETUSER', USER, 'reset', 'on', `>${INITIAL}`, '+ping');
  await root.call('ACL', 'SETUSER', ADMIN, 'reset', 'on', `>${ADMIN_PASSWORD}`, '+acl', '+config|get', '+info', '+ping');
  // the vault, its agent and the browser start side by side (the harness makes a dozen CLI calls)
  dir = mkdtempSync(join(tmpdir(), 'sk-ui-'));
  const [harness, launched] = await Promise.allSettled([
    startRotationHarness({ engine: 'redis', target: { ...base, username: USER, password: INITIAL }, admin: { ...base, username: ADMIN, password: ADMIN_PASSWORD } }),
    chromium.launch({
      executablePath: CHROMIUM, headless: true,
      args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), `--host-resolver-rules=MAP ${NOT_LOCAL_HOST} 127.0.0.1`],
    }),
  ]);
  // keep whichever started, so `after` stops it even when the other failed
  if (harness.status === 'fulfilled') h = harness.value;
  if (launched.status === 'fulfilled') browser = launched.value;
  for (const r of [harness, launched]) if (r.status === 'rejected') throw r.reason;
  await h.startAgent();
  // The CSP is enforced (no bypassCSP): axe is evaluated through the DevTools protocol, which CSP does not govern.
  ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, serviceWorkers: 'block' });
  page = await ctx.newPage();
  page.on('request', (r) => {
    if (new URL(r.url()).pathname.startsWith('/v1/')) sent.push({ method: r.method(), url: r.url(), headers: r.headers(), body: r.postDataBuffer() });
  });
  page.on('response', (r) => {
    statuses.push({ url: r.url(), status: r.status() });
    bodies.push(r.body().then((b) => b.toString('utf8'), () => ''));
  });
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text()); });
  page.on('pageerror', (e) => { cspViolations.push(`page error: ${e.message}`); });
});

after(async () => {
  await browser?.close();
  await h?.close();
  await root?.call('ACL', 'DELUSER', USER, ADMIN).catch(() => undefined);
  root?.disconnect();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** axe-core on the page as it is, in light and in dark mode: counts serious and critical violations. */
async function axe(name: string): Promise<void> {
  const found: string[] = [];
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    // Browser code as text: this file is compiled without the DOM library.
    if (!(await page.evaluate('typeof window.axe === "object"'))) await page.evaluate(AXE_SOURCE);
    const violations = await page.evaluate(`window.axe.run(document, { runOnly: { type: 'tag', values: ${JSON.stringify(AXE_TAGS)} } })
      .then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map((n) => JSON.stringify(n.target)) })))`) as Array<{ id: string; impact: string | null; nodes: string[] }>;
    for (const v of violations) {
      if (v.impact === 'serious' || v.impact === 'critical') found.push(`${scheme}: ${v.id} (${v.impact}) at ${v.nodes.join(' ')}`);
    }
    if (SHOTS && (scheme === 'light' || EXTRA_SHOTS.has(name))) {
      mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: join(SHOTS, `${name}${scheme === 'dark' ? '-dark' : ''}.png`), fullPage: true });
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
  // a phone's width: nothing may force the page wider than the screen (wide tables scroll in their own box)
  await page.setViewportSize({ width: 375, height: 800 });
  const overflow = await page.evaluate('document.documentElement.scrollWidth') as number;
  const wide = overflow > 375 ? await page.evaluate(`[...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > innerWidth + 1)
    .filter((e) => ![...e.children].some((c) => c.getBoundingClientRect().right > innerWidth + 1)).slice(0, 3).map((e) => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '') + ' ' + Math.round(e.getBoundingClientRect().right))`) as string[] : [];
  if (SHOTS && EXTRA_SHOTS.has(name)) await page.screenshot({ path: join(SHOTS, `${name}-phone.png`), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });
  if (overflow > 375) found.push(`at 375 px wide the page is ${overflow} px wide: ${wide.join(', ')}`);
  seriousViolations += found.length;
  assert.deepEqual(found, [], `axe on ${name}`);
}

/** Checks one page: runs `steps`, then the DOM scan and axe; counts it checked or failed. */
async function check(name: string, steps: () => Promise<void>): Promise<void> {
  try {
    await steps();
    doms.push(await page.content());
    await axe(name);
    pagesChecked.push(name);
  } catch (err) {
    pagesFailed.push(name);
    throw err;
  }
}

const go = async (hash: string, heading: RegExp): Promise<void> => {
  await page.goto(`${h.url}/ui/${hash}`);
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
};

test('ui: the invitation link gives the browser a non-extractable key, registered with proof of possession', async () => {
  await check('accept', async () => {
    const inv = jsonOf<{ url: string }>(await h.sk(['operator', 'invite', 'ana', '--role', 'owner', '--json']));
    assert.match(inv.url, /\/ui\/accept#token=/);
    await page.goto(inv.url);
    await page.getByRole('heading', { level: 1, name: 'Accept an invitation' }).waitFor();
    assert.equal(new URL(page.url()).hash, '', 'the token is taken out of the address bar');
    await page.getByRole('button', { name: 'Make my key and accept' }).click();
    await page.getByRole('heading', { level: 1, name: 'Welcome, ana' }).waitFor();
  });
  const stored = await page.evaluate(`new Promise((resolve, reject) => {
    const open = indexedDB.open('sikkerkey-dashboard');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const get = open.result.transaction('identity').objectStore('identity').get('current');
      get.onsuccess = () => resolve({ extractable: get.result.keyPair.privateKey.extractable, type: get.result.keyPair.privateKey.type,
        algorithm: get.result.keyPair.privateKey.algorithm.name, keyId: get.result.keyId, local: localStorage.length });
      get.onerror = () => reject(get.error);
    };
  })`) as { extractable: boolean; type: string; algorithm: string; keyId: string; local: number };
  assert.equal(stored.extractable, false, 'the private key cannot be exported');
  assert.equal(stored.type, 'private');
  assert.equal(stored.algorithm, 'Ed25519');
  assert.equal(stored.local, 0, 'nothing in localStorage');
  const accept = sent.find((r) => r.url.endsWith('/v1/operator-invitations/accept'));
  assert.ok(accept?.body, 'the accept request was seen');
  acceptedPublicKey = (JSON.parse(accept.body.toString('utf8')) as { publicKey: string }).publicKey;
  acceptedKeyId = stored.keyId;
  const keys = jsonOf<{ keys: Array<{ keyId: string }> }>(await h.sk(['operator', 'key', 'list', 'ana', '--json']));
  assert.deepEqual(keys.keys.map((k) => k.keyId), [acceptedKeyId], 'the vault holds the browser\'s key');
});

test('ui: the browser\'s signatures verify with the vault\'s own RFC 9421 verifier (with and without a body)', async () => {
  const key = publicKeyObject(parsePublicKey(acceptedPublicKey));
  const claimed = new Set<string>();
  const nonces: NonceStore = { claim: async (k, n) => { const fresh = !claimed.has(`${k}/${n}`); claimed.add(`${k}/${n}`); return fresh; } };
  const samples = [sent.find((r) => r.method === 'POST' && r.body), sent.find((r) => r.method === 'GET')].filter((r) => r !== undefined);
  // the accept POST is the only request so far: make a GET through the dashboard
  if (samples.length < 2) {
    const answered = page.waitForResponse((r) => new URL(r.url()).pathname === '/v1/operators');
    await go('#/team', /^Team$/);
    await answered;
    const get = sent.find((r) => r.method === 'GET');
    if (get) samples.push(get);
  }
  assert.equal(samples.length, 2);
  for (const r of samples) {
    const u = new URL(r.url);
    const v = await verifyRequest({ method: r.method, target: `${u.pathname}${u.search}`, headers: r.headers, body: r.body ?? Buffer.alloc(0) }, {
      authority: u.host, lookupKey: (id) => (id === acceptedKeyId ? key : undefined), nonces,
    });
    assert.equal(v.keyId, acceptedKeyId);
  }
});

test('ui: overview', async () => {
  await check('overview', async () => {
    await go('#/', /^Overview$/);
    await page.getByText('Rotations running').waitFor();
    await page.getByRole('link', { name: 'db/app' }).waitFor();
    await page.getByRole('region', { name: 'Rotation agents' }).getByText('agent1').waitFor();
  });
});

test('ui: create a project and a secret, write a second value; the values are never shown', async () => {
  await check('projects', async () => {
    await go('#/projects', /^Projects$/);
    // by keyboard only: type into the labelled field, Enter submits; Tab shows a visible focus ring
    await page.getByLabel('Project name').focus();
    await page.keyboard.type('web');
    await page.keyboard.press('Enter');
    await page.getByRole('link', { name: 'web', exact: true }).waitFor();
    await page.keyboard.press('Tab');
    const focused = await page.evaluate('[document.activeElement.textContent, getComputedStyle(document.activeElement).outlineStyle]') as [string, string];
    assert.deepEqual(focused, ['Create project', 'solid'], 'Tab reaches the button, with a focus ring');
  });
  await check('project', async () => {
    await page.getByRole('link', { name: 'web', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Project web' }).waitFor();
    await page.getByLabel('Secret name').fill('api-key');
    await page.getByLabel('Value (write-only)').fill(VALUE);
    await page.getByRole('button', { name: 'Create secret' }).click();
    await page.getByRole('link', { name: 'api-key' }).waitFor();
    assert.equal(await page.getByLabel('Value (write-only)').inputValue(), '', 'the value field is cleared');
  });
  await check('secret', async () => {
    await page.getByRole('link', { name: 'api-key' }).click();
    await page.getByRole('heading', { level: 1, name: 'Secret web/api-key' }).waitFor();
    await page.getByLabel('New value (write-only)').fill(VALUE2);
    await page.getByRole('button', { name: 'Write new version' }).click();
    await page.getByText('version 2 written').waitFor();
    await page.getByRole('button', { name: 'Roll back to 1' }).waitFor();
  });
});

test('ui: run a Redis rotation now and watch it promote (real agent process)', { timeout: 90_000 }, async () => {
  const before = await h.read();
  await check('rotation', async () => {
    await go('#/projects/db/secrets/app', /^Secret db\/app$/);
    await page.getByRole('button', { name: 'Run now' }).click();
    await page.getByTestId('rotation-state').getByText('promoted').waitFor({ timeout: 60_000 });
    await page.getByText('rotation promoted').waitFor();
    // the timeline: the vault's transitions and the agent's own timed steps
    await page.locator('tr[data-step="vault:promoted"]').waitFor();
    await page.locator('tr[data-step="agent:verified"]').waitFor();
  });
  const polls = sent.filter((r) => /^\/v1\/rotations\/[^/?]+\?wait=\d+&afterState=\w+$/.test(new URL(r.url).pathname + new URL(r.url).search));
  assert.ok(polls.length >= 1, 'the live progress followed the job with the operator long-poll');
  const now = await h.read();
  assert.ok(now.version > before.version, `a new version was promoted (${before.version} → ${now.version})`);
  secretValues.push(now.fields.password ?? '');
});

test('ui: a bootstrap token made on the Machines page enrolls a machine, which the browser approves and grants one field, then removes the grant', async () => {
  await check('machines', async () => {
    await go('#/machines', /^Machines$/);
    const form = page.getByRole('region', { name: 'New bootstrap token' });
    await form.getByLabel('Project').fill('db');
    await form.getByRole('button', { name: 'Make bootstrap token' }).click();
    const token = (await page.getByTestId('bootstrap-token').textContent()) ?? '';
    assert.match(token, /\S{20,}/);
    const enrolled = jsonOf<{ name: string; status: string }>(await runBin('sikkerkey-agent', ['enroll', '--url', h.url, '--token', token, '--key-file', join(dir, 'web1.key'), '--hostname', 'web-1', '--json']));
    assert.equal(enrolled.status, 'pending_approval');
    await page.getByRole('button', { name: 'Hide token' }).click();
    assert.equal(await page.getByTestId('bootstrap-token').count(), 0, 'the token is gone once hidden');
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Machines' }).waitFor();
    await page.getByRole('button', { name: `Approve ${enrolled.name}` }).click();
    await page.locator(`tr[data-machine="${enrolled.name}"]`).getByText('active', { exact: true }).waitFor();
    const listed = jsonOf<{ machines: Array<{ name: string; status: string }> }>(await h.sk(['machine', 'list', '--json']));
    assert.equal(listed.machines.find((m) => m.name === enrolled.name)?.status, 'active');

    // Grants: one field of db/app to the new machine, added and removed on this page.
    const grants = page.getByRole('region', { name: 'Grants' });
    await grants.getByLabel('Machine (or label:NAME)').fill(enrolled.name);
    await grants.getByLabel('Grant project').fill('db');
    await grants.getByLabel('Secret (empty: the whole project)').fill('app');
    await grants.getByLabel('Fields (comma-separated; empty: all)').fill('username');
    await grants.getByRole('button', { name: 'Add grant' }).click();
    const removeButton = grants.getByRole('button', { name: `Remove grant of db/app [username] to ${enrolled.name}` });
    await removeButton.waitFor();
    // (the bootstrap token gave the machine its project, db, as a whole: that grant stays)
    type Listed = { grants: Array<{ secret?: string | null; fields?: string[] | null }> };
    const ofMachine = async (): Promise<Array<[string | null, string[] | null]>> =>
      jsonOf<Listed>(await h.sk(['grant', 'list', '--machine', enrolled.name, '--json'])).grants.map((g) => [g.secret ?? null, g.fields ?? null]);
    assert.deepEqual(await ofMachine(), [[null, null], ['app', ['username']]], 'the vault holds the grant the page made');
    await removeButton.click();
    await grants.getByText(`grant removed: ${enrolled.name}`).waitFor();
    assert.deepEqual(await ofMachine(), [[null, null]], 'removed in the vault; the token\'s grant stays');
  });
});

test('ui: the audit log is searchable and its chain verifies', async () => {
  await check('audit', async () => {
    await go('#/audit', /^Audit log$/);
    await page.getByTestId('chain-state').getByText('intact').waitFor();
    await page.getByLabel('Action', { exact: true }).fill('machine.approve');
    await page.getByRole('button', { name: 'Search' }).click();
    // The unfiltered table shown before holds a machine.approve row too: wait for the filtered answer to replace it.
    const onlyApprovals = (rows: string[]): boolean => rows.length >= 1 && rows.every((a) => a === 'machine.approve');
    const actions = await waitFor(() => page.locator('tbody tr td:nth-child(4)').allTextContents(), {
      what: 'the table to show the filtered search', timeoutMs: 15_000, intervalMs: 100, until: onlyApprovals,
    }).catch(() => page.locator('tbody tr td:nth-child(4)').allTextContents());
    assert.ok(onlyApprovals(actions), `only machine.approve events: ${actions.join(', ')}`);
  });
});

test('ui: team lists this browser\'s key', async () => {
  await check('team', async () => {
    const answered = page.waitForResponse((r) => new URL(r.url()).pathname === '/v1/operators');
    // the main navigation works by keyboard: focus the link, press Enter
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Team' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Team' }).waitFor();
    await page.getByText('(this browser)').waitFor();
    await answered; // the request the replay test sends again
  });
});

test('ui: webhooks and alert rules', async () => {
  await check('webhooks', async () => {
    await go('#/webhooks', /^Webhooks and alerts$/);
    await page.getByRole('region', { name: 'Alert rules' }).getByText('No alert rules').waitFor();
  });
});

test('ui: on plain HTTP off localhost the page says how to fix it instead of failing', async () => {
  await check('insecure-context', async () => {
    // the same vault under a name that is not localhost: not a secure context, no WebCrypto
    await page.goto(`http://${NOT_LOCAL_HOST}:${new URL(h.url).port}/ui/`);
    await page.getByRole('heading', { level: 1, name: 'Secure connection needed' }).waitFor();
    assert.match((await page.getByRole('alert').textContent()) ?? '', /TLS.*localhost/s);
  });
});

test('ui: a request replayed from the browser\'s traffic is refused', async () => {
  const captured = sent.filter((r) => r.method === 'GET' && new URL(r.url).pathname === '/v1/operators').at(-1);
  assert.ok(captured, 'a GET /v1/operators from the browser');
  const headers = Object.fromEntries(Object.entries(captured.headers).filter(([k]) => ['signature', 'signature-input', 'content-digest'].includes(k)));
  const res = await fetch(captured.url, { headers });
  assert.equal(res.status, 401);
  assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'SK_ERR_SIGNATURE_REPLAYED');
});

test('ui: after the browser\'s key is revoked, its next request is refused at once', async () => {
  jsonOf(await h.sk(['operator', 'key', 'revoke', '--json', '--', 'ana', acceptedKeyId]));
  const from = statuses.length;
  await go('#/projects', /^Projects$/);
  await page.getByRole('alert').waitFor();
  assert.match((await page.getByRole('alert').textContent()) ?? '', /SK_ERR_/);
  const projects = statuses.slice(from).find((s) => new URL(s.url).pathname === '/v1/projects');
  assert.equal(projects?.status, 401);
});

test('ui: summary — no secret value in any response or page, no CSP violation', async () => {
  const texts = [...(await Promise.all(bodies)), ...doms];
  // the scan sees what the browser was sent: the secret's name is there, its values are not
  assert.ok(texts.some((t) => t.includes('api-key')) && texts.some((t) => t.includes('machine.approve')), 'the scan covers the responses and pages');
  let seen = 0;
  for (const v of secretValues.filter((s) => s.length >= 8)) for (const t of texts) if (t.includes(v)) seen += 1;
  assert.deepEqual(cspViolations, [], 'no CSP violation or page error');
  console.log(`ui: ${pagesChecked.length} pages, ${pagesFailed.length} failed, ${seriousViolations} serious a11y violations, ${seen} secret values seen`);
  assert.equal(seen, 0);
  assert.equal(pagesFailed.length, 0);
  assert.ok(pagesChecked.length >= 11, `pages checked: ${pagesChecked.join(', ')}`);
});
