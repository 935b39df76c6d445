// GET /v1/openapi.json describes exactly the routes the vault registered — no more, no fewer — as
// a well-formed OpenAPI 3.1 document, unsigned and without values; docs/api.md's generated
// sections (routes, errors, states) match the live route table and the registries.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { RouteOptions } from 'fastify';
import { forEachStore } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import type { TestVault } from '../support/vault-app.js';
import { ERROR_CODES } from '../../protocol/errors.js';
import { buildOpenApiDocument, openApiPath, operationId } from '../../vault-server/http/openapi.js';
import type { OpenApiDocument } from '../../vault-server/http/openapi.js';
import { API_DOC, REGENERATE, applyApiSections, renderApiSections } from '../../scripts/gen-api-doc.js';

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

/**
 * Every `METHOD /path` the server registered, minus the HEAD routes fastify adds beside each GET
 * and the routes that say they are not API (`config.openApi: false`: the dashboard's files at /ui/).
 */
function registered(routes: readonly RouteOptions[]): string[] {
  const all = routes.filter((r) => (r.config as { openApi?: boolean } | undefined)?.openApi !== false).flatMap((r) => (Array.isArray(r.method) ? r.method : [r.method]).map((m) => ({ method: String(m).toUpperCase(), url: r.url })));
  const gets = new Set(all.filter((r) => r.method === 'GET').map((r) => r.url));
  return all.filter((r) => !(r.method === 'HEAD' && gets.has(r.url))).map((r) => `${r.method} ${openApiPath(r.url).path}`).sort();
}

function operations(doc: OpenApiDocument): string[] {
  return Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)).sort();
}

forEachStore('GET /v1/openapi.json', (s) => {
  let v: TestVault;
  let doc: OpenApiDocument;
  let raw: string;
  const routes: RouteOptions[] = [];

  before(async () => {
    v = await startTestVault(await s.open(), { onRoute: (r) => routes.push(r) });
    // Something stored, so a leak of values would have something to leak.
    assert.equal((await v.call(v.operator, 'POST', '/v1/projects', { name: 'shop' })).status, 201);
    assert.equal((await v.call(v.operator, 'PUT', '/v1/projects/shop/secrets/db', { value: 'value-that-must-not-appear' })).status, 200);
    const res = await v.send('GET', '/v1/openapi.json', {});
    assert.equal(res.status, 200, res.raw);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    doc = res.body as OpenApiDocument;
    raw = res.raw;
  });
  after(async () => v.close());

  test('is served unsigned and holds no stored value', () => {
    assert.equal(doc.openapi, '3.1.0');
    assert.ok(!raw.includes('value-that-must-not-appear'));
    assert.ok(!raw.includes(v.operator.keyId), 'no key id of an identity');
  });

  test('has an operation for every registered route and none that is not a route', () => {
    const expected = registered(routes);
    assert.ok(expected.length > 20, `routes seen: ${expected.length}`);
    for (const must of ['GET /healthz', 'GET /readyz', 'GET /metrics', 'POST /v1/enroll', 'GET /v1/openapi.json', 'POST /v1/secrets:batchGet', 'GET /v1/projects/{project}/secrets/{name}']) {
      assert.ok(expected.includes(must), `the server registers ${must}`);
    }
    assert.deepEqual(operations(doc), expected);
  });

  test('every operation names who may sign it, as the route declares', () => {
    const byKey = new Map(routes.map((r) => [`${String(r.method).toUpperCase()} ${openApiPath(r.url).path}`, r.config as { auth?: unknown; minRole?: unknown; scope?: string | string[]; returnsValues?: boolean } | undefined]));
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const config = byKey.get(`${method.toUpperCase()} ${path}`);
        assert.deepEqual(op['x-sikkerkey-auth'], config?.auth ?? 'none', `${method} ${path}`);
        assert.equal(op['x-sikkerkey-min-role'], config?.minRole, `${method} ${path}`);
        const scopes = config?.scope === undefined ? [] : typeof config.scope === 'string' ? [config.scope] : config.scope;
        assert.deepEqual(op['x-sikkerkey-scope'], Array.isArray(config?.auth) && config.auth.includes('ai_agent') ? scopes : undefined, `${method} ${path}: x-sikkerkey-scope`);
        assert.equal(op['x-sikkerkey-returns-values'], config?.returnsValues === true, `${method} ${path}: x-sikkerkey-returns-values`);
        assert.deepEqual(op.security, op['x-sikkerkey-auth'] === 'none' ? [] : [{ sikkerkeySignature: [] }], `${method} ${path}`);
      }
    }
    const read = doc.paths['/v1/projects/{project}/secrets/{name}']?.get;
    assert.deepEqual(read?.['x-sikkerkey-auth'], ['machine'], 'the value read is machines only');
    assert.equal(read?.['x-sikkerkey-returns-values'], true);
    assert.deepEqual(doc.paths['/v1/openapi.json']?.get?.['x-sikkerkey-auth'], 'none');
  });

  test('is well-formed OpenAPI 3.1: path parameters declared, operationIds unique, references resolve', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    assert.equal(doc.info.version, pkg.version);
    const ids = new Set<string>();
    for (const [path, ops] of Object.entries(doc.paths)) {
      assert.ok(path.startsWith('/'), path);
      assert.ok(!/(^|\/):/.test(path), `${path}: fastify syntax left in`);
      const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
      for (const [method, op] of Object.entries(ops)) {
        assert.ok(HTTP_METHODS.has(method), `${path}: ${method}`);
        assert.ok(!ids.has(op.operationId), `operationId ${op.operationId} repeated`);
        ids.add(op.operationId);
        const params = (op.parameters ?? []) as Array<{ name: string; in: string; required?: boolean; schema?: unknown }>;
        const pathParams = params.filter((p) => p.in === 'path');
        assert.deepEqual(pathParams.map((p) => p.name).sort(), inPath, `${method} ${path}: path parameters`);
        for (const p of pathParams) assert.equal(p.required, true, `${method} ${path}: ${p.name} must be required`);
        for (const p of params) assert.ok(p.schema && ['path', 'query', 'header'].includes(p.in), `${method} ${path}: ${p.name}`);
        assert.ok(Object.keys(op.responses).length > 0, `${method} ${path}: responses`);
        assert.ok(op.responses['4XX'] && op.responses['5XX'], `${method} ${path}: error responses`);
        if (op.requestBody) assert.ok(['post', 'put', 'patch'].includes(method), `${method} ${path} has a body`);
      }
    }
    // Every local $ref points at something in the document.
    for (const m of raw.matchAll(/"\$ref":"#\/([^"]+)"/g)) {
      let at: unknown = doc;
      for (const part of (m[1] as string).split('/')) at = (at as Record<string, unknown> | undefined)?.[part];
      assert.ok(at !== undefined, `unresolved $ref #/${m[1]}`);
    }
    const scheme = (doc.components.securitySchemes as Record<string, { type: string; description: string }>).sikkerkeySignature;
    assert.equal(scheme?.type, 'apiKey');
    for (const fact of ['RFC 9421', 'Content-Digest', 'RFC 7638', 'sikkerkey/v1', '"@authority"', 'nonce', 'docs/protocol.md']) {
      assert.ok(scheme.description.includes(fact), `the signing scheme's description mentions ${fact}`);
    }
    const errorCodes = ((doc.components.schemas as Record<string, { properties: { error: { properties: { code: { enum: string[] } } } } }>).Error)?.properties.error.properties.code.enum;
    assert.deepEqual(errorCodes, Object.keys(ERROR_CODES));
  });

  test('docs/api.md is what `npm run gen:api-doc` writes from this route table and the registries', () => {
    const text = readFileSync(API_DOC, 'utf8');
    assert.equal(applyApiSections(text, renderApiSections(doc)), text, `${API_DOC} is out of date: run ${REGENERATE}`);
    assert.ok(text.includes('/v1/openapi.json'));
    assert.ok(text.includes('(protocol.md)'), 'links the signing protocol');
  });
});

test('fastify paths become OpenAPI paths', () => {
  assert.deepEqual(openApiPath('/v1/projects/:project/secrets/:name'), { path: '/v1/projects/{project}/secrets/{name}', params: [{ name: 'project' }, { name: 'name' }] });
  assert.deepEqual(openApiPath('/v1/secrets::batchGet'), { path: '/v1/secrets:batchGet', params: [] });
  assert.deepEqual(openApiPath('/v1/x/:id(^\\d+)/y'), { path: '/v1/x/{id}/y', params: [{ name: 'id', pattern: '^\\d+' }] });
  assert.equal(operationId('GET', '/v1/projects/{project}/secrets'), 'getV1ProjectsByProjectSecrets');
  assert.equal(operationId('POST', '/v1/secrets:batchGet'), 'postV1SecretsBatchGet');
});

test('a route without a declared answer gets the generic success and the error shape; a declared one keeps its schema', () => {
  const doc = buildOpenApiDocument([
    { method: 'GET', url: '/a', auth: 'none', schema: {} },
    { method: 'POST', url: '/b/:id', auth: ['operator'], minRole: 'owner', schema: { body: { type: 'object' }, response: { 201: { type: 'object', properties: { id: { type: 'string' } } } } } },
  ], '9.9.9');
  assert.deepEqual(Object.keys(doc.paths['/a']?.get?.responses ?? {}), ['2XX', '4XX', '5XX']);
  const b = doc.paths['/b/{id}']?.post;
  assert.deepEqual(Object.keys(b?.responses ?? {}), ['201', '4XX', '5XX']);
  assert.deepEqual(b?.security, [{ sikkerkeySignature: [] }]);
  assert.equal(b?.['x-sikkerkey-min-role'], 'owner');
  assert.deepEqual((b?.parameters ?? [])[0], { name: 'id', in: 'path', required: true, schema: { type: 'string' } });
});

