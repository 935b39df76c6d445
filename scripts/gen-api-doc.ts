#!/usr/bin/env node
/**
 * `npm run gen:api-doc`: rewrites the generated sections of docs/api.md from the running code —
 * the route table from the vault's own `GET /v1/openapi.json` (an in-process vault over a
 * throwaway SQLite store), the error codes from `protocol/errors.ts`, the states from
 * `vault-server/http/api-states.ts`, the AI agent scopes from `vault-server/http/ai-scopes.ts`
 * and the routes that name them. Only the text between `<!-- NAME:begin -->` and
 * `<!-- NAME:end -->` changes. test/vault-server/api-openapi.test.ts fails while the file differs.
 *
 *   node dist/scripts/gen-api-doc.js [--check]    (--check: exit 1 if docs/api.md is out of date)
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { ERROR_CODES } from '../protocol/errors.js';
import { generateIdentityKey } from '../protocol/keys.js';
import { API_ENUMS } from '../vault-server/http/api-states.js';
import { AI_SCOPES, ALL_AI_SCOPES } from '../vault-server/http/ai-scopes.js';
import type { OpenApiDocument } from '../vault-server/http/openapi.js';
import { buildApp } from '../vault-server/app.js';
import { openStore } from '../vault-server/store/open-store.js';
import { initVault, openVault } from '../vault-server/vault-state.js';

export const API_DOC = 'docs/api.md';
export const REGENERATE = 'npm run gen:api-doc';

const METHOD_ORDER = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const KIND_NAMES: Record<string, string> = { operator: 'operator', machine: 'machine', ai_agent: 'AI agent' };

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** The generated sections of docs/api.md, by marker name. */
export function renderApiSections(doc: OpenApiDocument): Record<'routes' | 'errors' | 'states' | 'scopes', string> {
  const rows: Array<{ method: string; path: string; line: string; scopes: readonly string[] }> = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const auth = op['x-sikkerkey-auth'];
      const who = auth === 'none' ? 'anyone (unsigned)' : auth.map((k) => KIND_NAMES[k] ?? k).join(', ');
      const role = auth !== 'none' && auth.includes('operator') ? (op['x-sikkerkey-min-role'] ?? 'viewer') : '—';
      const scopes = op['x-sikkerkey-scope'] ?? [];
      const scope = scopes.length > 0 ? scopes.map((x) => `\`${x}\``).join(' or ') : '—';
      const values = op['x-sikkerkey-returns-values'] ? '**yes**' : 'no';
      rows.push({ method: method.toUpperCase(), path, scopes, line: `| ${method.toUpperCase()} | \`${cell(path)}\` | ${who} | ${role} | ${scope} | ${values} |` });
    }
  }
  const order = (m: string): number => (METHOD_ORDER.includes(m) ? METHOD_ORDER.indexOf(m) : METHOD_ORDER.length);
  rows.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : order(a.method) - order(b.method)));
  const routes = ['| method | path | who may sign | least operator role | AI agent scope | returns values |', '|---|---|---|---|---|---|', ...rows.map((r) => r.line)].join('\n');

  // One row per catalog scope: what it allows and every route that accepts it.
  const scopes = ['| scope | allows | routes |', '|---|---|---|', ...ALL_AI_SCOPES.map((name) => {
    const routesOf = rows.filter((r) => r.scopes.includes(name)).map((r) => `\`${r.method} ${cell(r.path)}\``);
    return `| \`${name}\` | ${cell(AI_SCOPES[name])} | ${routesOf.length > 0 ? routesOf.join('<br>') : '(none yet)'} |`;
  })].join('\n');

  const errors = ['| code | status | meaning |', '|---|---|---|',
    ...Object.entries(ERROR_CODES).map(([code, e]) => `| \`${code}\` | ${e.status} | ${cell(e.what)} |`)].join('\n');

  const states = ['| name | where | values |', '|---|---|---|',
    ...API_ENUMS.map((e) => `| \`${e.name}\` | ${cell(e.where)} | ${e.values.map((v) => `\`${v}\``).join(' · ')} |`)].join('\n');
  return { routes, errors, states, scopes };
}

/** `markdown` with the text between each section's markers replaced; throws if a marker is missing. */
export function applyApiSections(markdown: string, sections: Record<string, string>): string {
  let out = markdown;
  for (const [name, body] of Object.entries(sections)) {
    const begin = `<!-- ${name}:begin -->`;
    const end = `<!-- ${name}:end -->`;
    const at = out.indexOf(begin);
    const until = out.indexOf(end);
    if (at === -1 || until === -1 || until < at) throw new Error(`${API_DOC} lacks the markers ${begin} … ${end}`);
    out = `${out.slice(0, at + begin.length)}\n${body}\n${out.slice(until)}`;
  }
  return out;
}

/** The OpenAPI document of a vault built in-process over a throwaway SQLite store. */
export async function liveOpenApiDocument(): Promise<OpenApiDocument> {
  const dir = mkdtempSync(join(tmpdir(), 'sk-api-doc-'));
  const store = await openStore({ dataDir: dir });
  try {
    const operator = generateIdentityKey();
    const { rootKey } = await initVault(store, { operatorPublicKey: Buffer.from(operator.publicKey).toString('base64'), operatorName: 'owner' });
    const keyring = await openVault(store, rootKey);
    const { app } = await buildApp({ store, keyring, log: pino({ level: 'silent' }), authorities: ['localhost:8200'] });
    try {
      const res = await app.inject({ method: 'GET', url: '/v1/openapi.json' });
      if (res.statusCode !== 200) throw new Error(`GET /v1/openapi.json answered ${res.statusCode}: ${res.body}`);
      return JSON.parse(res.body) as OpenApiDocument;
    } finally {
      await app.close();
    }
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  const before = readFileSync(API_DOC, 'utf8');
  const after = applyApiSections(before, renderApiSections(await liveOpenApiDocument()));
  if (check) {
    if (after !== before) {
      console.error(`${API_DOC} is out of date: run ${REGENERATE}`);
      process.exitCode = 1;
    }
    return;
  }
  if (after !== before) writeFileSync(API_DOC, after);
  console.log(after === before ? `${API_DOC} is up to date` : `${API_DOC} rewritten`);
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
