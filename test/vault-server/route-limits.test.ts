// Numbers at the edge: every integer or number a route accepts has a finite maximum, and values
// beyond the safe range (JSON 1e400 = Infinity, 1e20 > 2^53) or beyond a 32-bit version column
// answer 400 SK_ERR_VALIDATION on both stores — never a database error (500).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import type { RouteOptions } from 'fastify';
import { forEachStore } from '../support/stores.js';
import { startTestVault, TEST_AUTHORITY } from '../support/vault-app.js';
import type { TestVault } from '../support/vault-app.js';
import { signRequest } from '../../protocol/signing.js';
import { installValidation, unboundedNumbers } from '../../vault-server/http/validation.js';

function codeOf(res: { body: unknown }): string | undefined {
  return (res.body as { error?: { code?: string } } | undefined)?.error?.code;
}

/** A signed POST whose body is exactly `raw` (JSON.stringify cannot write 1e400). */
async function postRaw(v: TestVault, target: string, raw: string): Promise<{ status: number; body: unknown; raw: string }> {
  const payload = Buffer.from(raw);
  const headers = signRequest({ method: 'POST', authority: TEST_AUTHORITY, target, body: payload, contentType: 'application/json' },
    { keyId: v.operator.keyId, privateKey: v.operator.privateKey });
  return v.send('POST', target, headers, payload);
}

const HUGE = ['1e400', '100000000000000000000', '-1e400', '9007199254740993'];

forEachStore('route number limits', (s) => {
  let v: TestVault;
  const routes: RouteOptions[] = [];

  before(async () => {
    v = await startTestVault(await s.open(), { onRoute: (r) => routes.push(r) });
    assert.equal((await v.call(v.operator, 'POST', '/v1/projects', { name: 'shop' })).status, 201);
    assert.equal((await v.call(v.operator, 'PUT', '/v1/projects/shop/secrets/db', { value: 'one-value-aaaa' })).status, 200);
    assert.equal((await v.call(v.operator, 'PUT', '/v1/projects/shop/secrets/db', { value: 'two-value-aaaa' })).status, 200);
  });
  after(async () => v.close());

  test('every route schema bounds every integer and number', () => {
    assert.ok(routes.length > 20, `routes seen: ${routes.length}`);
    const found: string[] = [];
    let numbers = 0;
    for (const r of routes) {
      for (const part of ['body', 'querystring', 'params', 'headers'] as const) {
        const schema = (r.schema as Record<string, unknown> | undefined)?.[part];
        if (!schema) continue;
        numbers += JSON.stringify(schema).match(/"(integer|number)"/g)?.length ?? 0;
        for (const path of unboundedNumbers(schema)) found.push(`${String(r.method)} ${r.url} ${part} ${path}`);
      }
    }
    assert.ok(numbers >= 10, `integers seen in schemas: ${numbers}`);
    assert.deepEqual(found, []);
  });

  test('secret rollback --to beyond the safe range or a version column is 400, not 5xx', async () => {
    for (const n of [...HUGE, '2147483648']) {
      const res = await postRaw(v, '/v1/projects/shop/secrets/db/rollback', `{"to":${n}}`);
      assert.equal(res.status, 400, `to=${n}: ${res.raw}`);
      assert.equal(codeOf(res), 'SK_ERR_VALIDATION', `to=${n}`);
    }
    // A version that could exist but does not is still the service's answer, not a 500.
    const absent = await postRaw(v, '/v1/projects/shop/secrets/db/rollback', '{"to":2147483647}');
    assert.ok(absent.status >= 400 && absent.status < 500, absent.raw);
    assert.equal((await postRaw(v, '/v1/projects/shop/secrets/db/rollback', '{"to":1}')).status, 200);
  });

  test('names of the longest length NAME_PATTERN allows (128) are reachable in paths, not only creatable', async () => {
    const project = `p${'x'.repeat(127)}`;
    const secret = `s${'y'.repeat(127)}`;
    assert.equal((await v.call(v.operator, 'POST', '/v1/projects', { name: project })).status, 201);
    const put = await v.call(v.operator, 'PUT', `/v1/projects/${project}/secrets/${secret}`, { value: 'long-name-value' });
    assert.equal(put.status, 200, put.raw);
    assert.equal((await v.call(v.operator, 'GET', `/v1/projects/${project}/secrets`)).status, 200);
    // One past the pattern is the pattern's refusal, not the router's.
    const over = await v.call(v.operator, 'GET', `/v1/projects/${project}z/secrets`);
    assert.equal(over.status, 400, over.raw);
    assert.equal(codeOf(over), 'SK_ERR_VALIDATION');
  });

  test('audit ?since= and ?after= beyond the safe range are 400, not 5xx', async () => {
    for (const param of ['since', 'after']) {
      for (const n of [...HUGE, 'Infinity']) {
        const res = await v.call(v.operator, 'GET', `/v1/audit?${param}=${n}`);
        assert.equal(res.status, 400, `${param}=${n}: ${res.raw}`);
        assert.equal(codeOf(res), 'SK_ERR_VALIDATION', `${param}=${n}`);
      }
      const ok = await v.call(v.operator, 'GET', `/v1/audit?${param}=${Number.MAX_SAFE_INTEGER}`);
      assert.equal(ok.status, 200, ok.raw);
    }
  });
});

test('a route whose schema has an unbounded integer is refused at start-up', async () => {
  const app = Fastify();
  installValidation(app);
  app.post('/x', { schema: { body: { type: 'object', properties: { n: { type: 'integer', minimum: 0 } } } } }, async () => ({}));
  await assert.rejects(async () => { await app.ready(); }, /numbers without a finite maximum.*\$\.n/);
  await app.close().catch(() => undefined);
});

test('unboundedNumbers looks inside properties, items and combinators', () => {
  assert.deepEqual(unboundedNumbers({ type: 'object', properties: { a: { type: 'integer', maximum: 5 }, b: { type: ['number', 'null'] },
    c: { type: 'array', items: { type: 'integer', maximum: Infinity } }, d: { anyOf: [{ type: 'integer', maximum: 2 ** 60 }] } } }),
  ['$.b', '$.c.items', '$.d.anyOf[0]']);
});
