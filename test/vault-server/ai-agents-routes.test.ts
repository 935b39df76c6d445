// AI agents against the vault's whole route table (issue 23), on both stores. The routes are
// taken from the server's own onRoute catalog (the one GET /v1/openapi.json is built from), so a
// route added later is walked too and cannot be forgotten:
// - every route declares `returnsValues`; a route that returns values lists machines only;
// - an AI agent holding every scope calls every route: each value-returning route answers 401 or
//   403, and no answer anywhere carries a value planted in the vault;
// - each route that accepts AI agents refuses one lacking its scope (SK_ERR_SCOPE_MISSING), and
//   lets one holding just that scope through authentication.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { forEachStore } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import type { InjectedResponse, TestVault } from '../support/vault-app.js';
import { codeOf } from '../support/enrollment.js';
import { generateIdentityKey } from '../../protocol/keys.js';
import type { IdentityKey } from '../../protocol/keys.js';
import { createRouteCatalog } from '../../vault-server/http/openapi.js';
import type { CatalogRoute } from '../../vault-server/http/openapi.js';
import { ALL_AI_SCOPES, isAiScope } from '../../vault-server/http/ai-scopes.js';
import type { AiScope } from '../../vault-server/http/ai-scopes.js';

/** Planted in every value the vault holds here; no answer to an AI agent may carry it. */
const MARKER = 'MARKER-7f3e9a1c-do-not-leak';

/** Routes an AI agent must never reach, whatever its scopes (DESIGN §2: no detour through a machine of its own). */
const NEVER_AI = [
  'POST /v1/machines', 'POST /v1/machines/:machine/approve', 'POST /v1/machines/:machine/enable',
  'POST /v1/projects/:project/secrets/:name/rotation/approve', 'POST /v1/projects/:project/unlock',
  'POST /v1/ai-agents', 'GET /v1/ai-agents', 'POST /v1/ai-agents/:name/disable', 'POST /v1/ai-agents/:name/enable', 'POST /v1/ai-agents/:name/revoke',
  'POST /v1/operators', 'POST /v1/operator-invitations', 'POST /v1/operator-keys/rotate', 'POST /v1/trash/purge',
];

/** The value-returning routes the issue names; the walk must find each declared so. */
const VALUE_ROUTES = ['GET /v1/projects/:project/secrets/:name', 'POST /v1/secrets::batchGet', 'POST /v1/agent/rotations/:id/claim'];

const b64 = (k: IdentityKey): string => Buffer.from(k.publicKey).toString('base64');
const keyOf = (r: CatalogRoute): string => `${r.method} ${r.url}`;

/** Request bodies that get past validation for the routes that take one; anything else gets `{}`. */
function bodyFor(r: CatalogRoute): unknown {
  const samples: Record<string, unknown> = {
    'POST /v1/projects': { name: 'ai-made' },
    'PUT /v1/projects/:project/secrets/:name': { value: 'written-by-ai' },
    'POST /v1/projects/:project/secrets/:name/rollback': { to: 1 },
    'POST /v1/secrets::batchGet': { items: [{ project: 'shop', name: 'api' }] },
    'POST /v1/grants': { machine: 'app1', project: 'shop', secret: 'api' },
    'POST /v1/projects/:project/canaries': { name: 'decoy', value: 'decoy-value' },
    'PUT /v1/projects/:project/secrets/:name/rotation': { provider: 'postgres', adminSecret: 'admin', agent: 'agent1' },
    'POST /v1/projects/:project/secrets/:name/rotation/resolve': { use: 'live' },
    'POST /v1/enrollment-tokens': { project: 'shop', machineLifetime: '1d' },
    'POST /v1/bootstrap-tokens': { project: 'shop', lifetime: '1h' },
    'POST /v1/projects/:project/import': { onConflict: 'skip', secrets: [{ name: 'api', value: 'imported' }, { name: 'fresh', value: 'imported' }] },
    'POST /v1/projects/:project/secrets/:name/metadata': { description: 'described by an AI agent' },
    'POST /v1/machines/:machine/extend': { by: '1h', reason: 'walk' },
    'POST /v1/machines/:machine/rename': { name: 'renamed-by-ai' },
    'POST /v1/projects/:project/rename': { name: 'renamed-project' },
    'POST /v1/projects/:project/secrets/:name/rename': { name: 'renamed-secret' },
    'POST /v1/alert-rules': { events: ['canary.tripped'], webhook: 'nope' },
    'POST /v1/projects/:project/unlock': { reason: 'walk' },
  };
  if (keyOf(r) in samples) return samples[keyOf(r)];
  return r.method === 'POST' || r.method === 'PUT' ? {} : undefined;
}

/**
 * A concrete target: path parameters filled with names that exist (so handlers run) unless
 * `bogus`, plus the query variants of the value read (`?version=`, the watch).
 */
function targetsFor(r: CatalogRoute, bogus = false): string[] {
  const values: Record<string, string> = bogus
    ? { project: 'nope', name: 'nope', machine: 'nope', id: 'nope', keyId: 'nope' }
    : { project: 'shop', name: 'api', machine: 'app1', id: 'nope', keyId: 'nope' };
  const path = r.url.replace('::', ':').replace(/:([A-Za-z]+)/g, (m, p: string) => (p === 'batchGet' ? m : (values[p] ?? 'nope')));
  if (keyOf(r) === 'GET /v1/projects/:project/secrets/:name') return [path, `${path}?version=1`, `${path}?waitForVersionAfter=0&wait=0`];
  return [path];
}

/** Every destructive walk step last, so the rest of the walk reaches real handlers and rows. */
const destructive = (r: CatalogRoute): boolean => r.method === 'DELETE' || /\/(rename|purge)$/.test(r.url);

forEachStore('AI agents and the route table', (s) => {
  let v: TestVault;
  const catalog = createRouteCatalog();
  let routes: readonly CatalogRoute[];

  const createAgent = async (name: string, scopes: readonly string[]): Promise<IdentityKey> => {
    const key = generateIdentityKey();
    const res = await v.call(v.operator, 'POST', '/v1/ai-agents', { name, publicKey: b64(key), scopes });
    assert.equal(res.status, 201, res.raw);
    return key;
  };

  before(async () => {
    v = await startTestVault(await s.open(), { onRoute: (r) => catalog.record(r) });
    routes = catalog.routes();
    const must = async (method: string, path: string, body?: unknown): Promise<void> => {
      const res = await v.call(v.operator, method, path, body);
      assert.ok(res.status < 300, `${method} ${path}: ${res.raw}`);
    };
    await must('POST', '/v1/projects', { name: 'shop' });
    await must('POST', '/v1/projects', { name: 'scratch' });
    await must('PUT', '/v1/projects/shop/secrets/api', { value: `api-${MARKER}` });
    await must('PUT', '/v1/projects/shop/secrets/api', { value: `api-v2-${MARKER}` });
    const db = { host: `db-${MARKER}.internal`, port: '5432', username: `user-${MARKER}`, password: `pw-${MARKER}`, database: 'shop' };
    await must('PUT', '/v1/projects/shop/secrets/db', { fields: db });
    await must('PUT', '/v1/projects/shop/secrets/admin', { fields: { ...db, username: 'admin', password: `admin-${MARKER}` } });
    await v.addMachine('agent1', ['rotator']);
    await v.addMachine('app1');
    await must('POST', '/v1/grants', { machine: 'agent1', project: 'shop', secret: 'admin' });
    await must('POST', '/v1/grants', { machine: 'app1', project: 'shop', secret: 'api' });
    await must('PUT', '/v1/projects/shop/secrets/db/rotation', { provider: 'postgres', adminSecret: 'admin', agent: 'agent1' });
    await must('POST', '/v1/projects/shop/canaries', { name: 'honey', value: `canary-${MARKER}` });
  });
  after(async () => v.close());

  test('the route table is complete and every route declares returnsValues; value routes list machines only; AI routes name catalog scopes', () => {
    assert.ok(routes.length > 60, `routes seen: ${routes.length}`);
    const undeclared = routes.filter((r) => typeof r.returnsValues !== 'boolean').map(keyOf);
    assert.deepEqual(undeclared, [], 'routes without config.returnsValues (declare true or false on each)');
    const byKey = new Map(routes.map((r) => [keyOf(r), r]));
    for (const k of VALUE_ROUTES) assert.equal(byKey.get(k)?.returnsValues, true, `${k} returns values`);
    for (const r of routes.filter((x) => x.returnsValues)) {
      assert.deepEqual(r.auth, ['machine'], `${keyOf(r)} returns values: machines only`);
      assert.deepEqual(r.scopes ?? [], [], `${keyOf(r)} returns values: no AI scope`);
    }
    for (const r of routes) {
      const ai = r.auth !== 'none' && r.auth.includes('ai_agent');
      if (ai) {
        assert.ok((r.scopes ?? []).length > 0, `${keyOf(r)} accepts AI agents but names no scope`);
        for (const sc of r.scopes ?? []) assert.ok(isAiScope(sc), `${keyOf(r)}: ${sc} is not in the catalog`);
      } else {
        assert.deepEqual(r.scopes ?? [], [], `${keyOf(r)} names a scope but does not accept AI agents`);
      }
    }
    for (const k of NEVER_AI) {
      const r = byKey.get(k);
      assert.ok(r, `${k} is registered`);
      assert.ok(r.auth !== 'none' && !r.auth.includes('ai_agent'), `${k} must never accept an AI agent`);
    }
  });

  test('an AI agent with every scope walks every route: each value route answers 401/403, and no answer carries a stored value', async () => {
    const agent = await createAgent('walker', ['all']);
    const order = [...routes.filter((r) => !destructive(r)), ...routes.filter(destructive)];
    const seen: string[] = [];
    let reachedHandlers = 0;
    for (const r of order) {
      const methods = r.method === 'GET' ? ['GET', 'HEAD'] : [r.method];
      for (const method of methods) {
        for (const target of targetsFor(r)) {
          const body = method === 'HEAD' ? undefined : bodyFor(r);
          const res: InjectedResponse = await v.call(agent, method, target, body);
          seen.push(`${method} ${target} → ${res.status} ${codeOf(res) ?? ''}`);
          assert.ok(res.status < 500, `${method} ${target} as an AI agent: ${res.status} ${res.raw.slice(0, 300)}`);
          assert.equal(res.raw.includes(MARKER), false, `${method} ${target} answered a stored value: ${res.raw.slice(0, 300)}`);
          assert.equal(JSON.stringify(res.headers).includes(MARKER), false, `${method} ${target}: a value in a header`);
          if (r.returnsValues) {
            assert.ok(res.status === 401 || res.status === 403, `${method} ${target} returns values and answered an AI agent ${res.status}: ${res.raw}`);
          }
          if (r.auth !== 'none' && r.auth.includes('ai_agent') && ![401, 403].includes(res.status)) reachedHandlers += 1;
        }
      }
    }
    // The walk did reach the management handlers (not one uniform refusal).
    assert.ok(reachedHandlers > 40, `only ${reachedHandlers} AI agent calls got past authentication:\n${seen.join('\n')}`);
    const read = await v.call(agent, 'GET', '/v1/projects/shop/secrets/api');
    assert.equal(read.status, 401);
    assert.equal(codeOf(read), 'SK_ERR_SIGNATURE_UNKNOWN_KEY', 'the key id is not even looked up among machines');
    assert.equal(v.logs.join('\n').includes(MARKER), false, 'a stored value reached the log');
  });

  test('each route that accepts AI agents refuses one lacking its scope, and lets one holding only that scope past authentication', async () => {
    const aiRoutes = routes.filter((r) => r.auth !== 'none' && r.auth.includes('ai_agent'));
    assert.ok(aiRoutes.length > 40);
    const agents = new Map<string, IdentityKey>();
    const agentFor = async (scopes: readonly AiScope[]): Promise<IdentityKey> => {
      const id = [...scopes].sort().join(',');
      let key = agents.get(id);
      if (!key) {
        key = await createAgent(`scoped-${agents.size}`, scopes);
        agents.set(id, key);
      }
      return key;
    };
    for (const r of aiRoutes) {
      const needed = r.scopes ?? [];
      const lacking = await agentFor(ALL_AI_SCOPES.filter((sc) => !needed.includes(sc)));
      for (const target of targetsFor(r, true)) {
        const res = await v.call(lacking, r.method, target, bodyFor(r));
        assert.equal(res.status, 403, `${r.method} ${target} without ${needed.join('|')}: ${res.raw}`);
        assert.equal(codeOf(res), 'SK_ERR_SCOPE_MISSING', `${r.method} ${target}`);
      }
      for (const sc of needed) {
        const holding = await agentFor([sc]);
        for (const target of targetsFor(r, true)) {
          const res = await v.call(holding, r.method, target, bodyFor(r));
          assert.ok(res.status !== 401 && codeOf(res) !== 'SK_ERR_SCOPE_MISSING', `${r.method} ${target} with ${sc}: ${res.status} ${res.raw}`);
        }
      }
    }
  });

  test('the OpenAPI document shows each AI route\'s scopes and each route\'s returnsValues', async () => {
    const doc = (await v.send('GET', '/v1/openapi.json', {})).body as { paths: Record<string, Record<string, { 'x-sikkerkey-scope'?: string[]; 'x-sikkerkey-returns-values': boolean }>> };
    assert.deepEqual(doc.paths['/v1/projects']?.get?.['x-sikkerkey-scope'], ['projects:read']);
    assert.equal(doc.paths['/v1/projects']?.get?.['x-sikkerkey-returns-values'], false);
    assert.equal(doc.paths['/v1/projects/{project}/secrets/{name}']?.get?.['x-sikkerkey-returns-values'], true);
    assert.equal(doc.paths['/v1/projects/{project}/secrets/{name}']?.get?.['x-sikkerkey-scope'], undefined);
    assert.deepEqual(doc.paths['/v1/rotations/{id}']?.get?.['x-sikkerkey-scope'], ['rotations:read', 'rotations:trigger']);
  });
});
