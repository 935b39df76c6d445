// Batch reads (one signature, one transaction, one audit event per item) and the cheap defences
// in front of signature verification: failure budgets and the vault-wide allowlist.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { forEachStore } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import type { TestVault } from '../support/vault-app.js';
import type { IdentityKey } from '../../protocol/keys.js';
import { buildApp } from '../../vault-server/app.js';
import { openVault } from '../../vault-server/vault-state.js';
import { pino } from 'pino';

forEachStore('batch read', (s) => {
  let v: TestVault;
  let m: IdentityKey;
  before(async () => {
    v = await startTestVault(await s.open());
    await v.call(v.operator, 'POST', '/v1/projects', { name: 'a' });
    await v.call(v.operator, 'POST', '/v1/projects', { name: 'b' });
    for (let i = 0; i < 4; i++) await v.call(v.operator, 'PUT', `/v1/projects/a/secrets/s${i}`, { value: `value-a-${i}` });
    await v.call(v.operator, 'PUT', '/v1/projects/b/secrets/t0', { value: 'value-b-0' });
    await v.call(v.operator, 'PUT', '/v1/projects/b/secrets/db', { fields: { user: 'u', password: 'value-b-pw' } });
    m = await v.addMachine('batcher');
    await v.call(v.operator, 'POST', '/v1/grants', { machine: 'batcher', project: 'a' });
    await v.call(v.operator, 'POST', '/v1/grants', { machine: 'batcher', project: 'b', secret: 'db', fields: ['user'] });
  });
  after(async () => v.close());

  test('a batch of 10 returns 10 results mixing granted, ungranted and unknown items', async () => {
    const items = [
      { project: 'a', name: 's0' }, { project: 'a', name: 's1' }, { project: 'a', name: 's2' }, { project: 'a', name: 's3' },
      { project: 'a', name: 'missing' }, { project: 'b', name: 't0' }, { project: 'b', name: 'db' }, { project: 'b', name: 'missing' },
      { project: 'nope', name: 'x' }, { project: 'a', name: 's0' },
    ];
    const auditBefore = (await v.ctx.store.db.selectFrom('audit_events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n;
    const res = await v.call(m, 'POST', '/v1/secrets:batchGet', { items });
    assert.equal(res.status, 200, res.raw);
    const results = (res.body as { results: Array<{ status: number; value?: string; fields?: Record<string, string>; error?: { code: string } }> }).results;
    assert.equal(results.length, 10);
    assert.deepEqual(results.map((r) => r.status), [200, 200, 200, 200, 404, 403, 200, 403, 403, 200]);
    assert.deepEqual(results.slice(0, 4).map((r) => r.value), ['value-a-0', 'value-a-1', 'value-a-2', 'value-a-3']);
    assert.deepEqual(results[6]?.fields, { user: 'u' });
    assert.equal(results[5]?.error?.code, 'SK_ERR_NO_GRANT');
    assert.equal(results[4]?.error?.code, 'SK_ERR_NOT_FOUND');
    const auditAfter = (await v.ctx.store.db.selectFrom('audit_events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n;
    // One event per item that was read or refused (not for the plain 404 of a missing secret).
    assert.equal(Number(auditAfter) - Number(auditBefore), 9);
    assert.equal(((await v.call(v.operator, 'GET', '/v1/audit/verify')).body as { ok: boolean }).ok, true);
  });

  test('a batch is validated: empty, oversized or malformed item lists are 400', async () => {
    for (const body of [{ items: [] }, { items: Array.from({ length: 101 }, () => ({ project: 'a', name: 's0' })) }, { items: [{ project: 'a' }] }, { items: 'x' }]) {
      const res = await v.call(m, 'POST', '/v1/secrets:batchGet', body);
      assert.equal(res.status, 400);
      assert.equal((res.body as { error: { code: string } }).error.code, 'SK_ERR_VALIDATION');
    }
  });
});

forEachStore('auth guard', (s) => {
  test('1,000 bad signatures from one address: 20 answered 401, the rest 429 with Retry-After and no signature work', async () => {
    const store = await s.openAt(await s.freshLocation());
    const v = await startTestVault(store, { authFailureLimit: 20 });
    const m = await v.addMachine('victim');
    const other = await v.addMachine('bystander');
    const counts = new Map<number, number>();
    const verifyBefore = await verificationCount(v);
    let retryAfter: string | undefined;
    for (let i = 0; i < 1000; i++) {
      const signed = v.sign(m, 'GET', '/v1/projects/p/secrets/s');
      const sig = signed.headers['signature'] as string;
      // Flip one character of the signature bytes: a well-formed but invalid signature.
      signed.headers['signature'] = sig.slice(0, 6) + (sig[6] === 'A' ? 'B' : 'A') + sig.slice(7);
      const res = await v.send('GET', '/v1/projects/p/secrets/s', signed.headers);
      counts.set(res.status, (counts.get(res.status) ?? 0) + 1);
      if (res.status === 429) retryAfter = res.headers['retry-after'] as string | undefined;
    }
    assert.deepEqual([...counts.entries()].sort(), [[401, 20], [429, 980]]);
    assert.ok(Number(retryAfter) > 0 && Number(retryAfter) <= 60, `retry-after ${retryAfter}`);
    assert.equal(await verificationCount(v) - verifyBefore, 20, 'only the first 20 were verified');
    // The key's own budget is spent too, even from another address…
    const sameKey = await v.app.inject({ method: 'GET', url: '/v1/projects/p/secrets/s', remoteAddress: '10.9.8.7', headers: { host: 'vault.test:8200', ...v.sign(m, 'GET', '/v1/projects/p/secrets/s').headers } });
    assert.equal(sameKey.statusCode, 429);
    // …while another machine from another address is unaffected.
    const fine = await v.app.inject({ method: 'GET', url: '/v1/projects/p/secrets/s', remoteAddress: '10.9.8.7', headers: { host: 'vault.test:8200', ...v.sign(other, 'GET', '/v1/projects/p/secrets/s').headers } });
    assert.equal(fine.statusCode, 403, fine.body);
    await v.close();
  });

  test('an address outside --allow-cidr is refused before verification; health checks stay open', async () => {
    const store = await s.openAt(await s.freshLocation());
    const v = await startTestVault(store);
    const { app, metrics } = await buildApp({ store, keyring: await openVault(store, v.rootKey), log: pino({ level: 'silent' }), authorities: ['vault.test:8200'], allowCidrs: ['10.0.0.0/8'] });
    const verified = async (): Promise<number> => (await metrics.verifications.get()).values[0]?.value ?? 0;
    const signed = v.sign(v.operator, 'GET', '/v1/projects');
    const outside = await app.inject({ method: 'GET', url: '/v1/projects', remoteAddress: '192.0.2.1', headers: { host: 'vault.test:8200', ...signed.headers } });
    assert.equal(outside.statusCode, 403);
    assert.equal(JSON.parse(outside.body).error.code, 'SK_ERR_IP_NOT_ALLOWED');
    assert.equal(await verified(), 0, 'the refused request\'s signature was never verified');
    const inside = await app.inject({ method: 'GET', url: '/v1/projects', remoteAddress: '10.1.2.3', headers: { host: 'vault.test:8200', ...v.sign(v.operator, 'GET', '/v1/projects').headers } });
    assert.equal(inside.statusCode, 200);
    assert.equal(await verified(), 1, 'the allowed one was');
    assert.equal((await app.inject({ method: 'GET', url: '/healthz', remoteAddress: '192.0.2.1' })).statusCode, 200);
    await app.close();
    await v.close();
  });

  test('X-Forwarded-For is believed only from a --trust-proxy address', async () => {
    const store = await s.openAt(await s.freshLocation());
    const v = await startTestVault(store);
    const { app } = await buildApp({ store, keyring: await openVault(store, v.rootKey), log: pino({ level: 'silent' }), authorities: ['vault.test:8200'], allowCidrs: ['10.0.0.0/8'], trustProxy: ['192.0.2.0/24'] });
    const viaProxy = await app.inject({ method: 'GET', url: '/v1/projects', remoteAddress: '192.0.2.5', headers: { host: 'vault.test:8200', 'x-forwarded-for': '10.1.1.1', ...v.sign(v.operator, 'GET', '/v1/projects').headers } });
    assert.equal(viaProxy.statusCode, 200);
    const spoofed = await app.inject({ method: 'GET', url: '/v1/projects', remoteAddress: '198.51.100.9', headers: { host: 'vault.test:8200', 'x-forwarded-for': '10.1.1.1', ...v.sign(v.operator, 'GET', '/v1/projects').headers } });
    assert.equal(spoofed.statusCode, 403);
    await app.close();
    await v.close();
  });
});

async function verificationCount(v: TestVault): Promise<number> {
  const metric = await v.metrics.verifications.get();
  return metric.values[0]?.value ?? 0;
}

