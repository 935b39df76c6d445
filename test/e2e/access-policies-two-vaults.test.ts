// Two vault processes on one PostgreSQL count one policy's reads together: per-minute and per-day
// caps refuse the read after the cap whichever process it reaches, and parallel reads split across
// both processes against maxReads serve exactly that many.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SikkerKeyError } from '../../protocol/errors.js';
import { VaultClient } from '../../protocol/client.js';
import { tempPgDatabase } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import { startBin } from '../support/processes.js';
import type { RunningProcess } from '../support/processes.js';
import { openStore } from '../../vault-server/store/open-store.js';
import { listAudit } from '../../vault-server/modules/audit/audit-store.js';

test('per-minute and per-day caps and maxReads are counted across two vault processes on PostgreSQL', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sk-policy2-'));
  const pgdb = await tempPgDatabase();
  const procs: RunningProcess[] = [];
  const clients: VaultClient[] = [];
  after(async () => {
    for (const c of clients) c.close();
    for (const p of procs) await p.stop('SIGKILL');
    await pgdb.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  // Set the vault up in-process (fast), then hand the store to two real processes.
  const setupStore = await openStore(pgdb.location);
  const v = await startTestVault(setupStore);
  const ok = async (method: string, target: string, body?: unknown): Promise<void> => {
    const r = await v.call(v.operator, method, target, body);
    assert.ok(r.status < 300, r.raw);
  };
  await ok('POST', '/v1/projects', { name: 'p' });
  for (const s of ['minute', 'day', 'reads']) await ok('PUT', `/v1/projects/p/secrets/${s}`, { value: `value-of-${s}` });
  const reader = await v.addMachine('reader');
  await ok('POST', '/v1/grants', { machine: 'reader', project: 'p' });
  await ok('POST', '/v1/projects/p/policies', { name: 'per-minute', rateCap: { maxReadsPerMinute: 3 } });
  await ok('POST', '/v1/projects/p/policies', { name: 'per-day', rateCap: { maxReadsPerDay: 3 } });
  await ok('POST', '/v1/projects/p/policies', { name: 'ten', ttl: { maxReads: 10 } });
  await ok('PUT', '/v1/projects/p/policies/bindings/minute', { policy: 'per-minute' });
  await ok('PUT', '/v1/projects/p/policies/bindings/day', { policy: 'per-day' });
  await ok('PUT', '/v1/projects/p/policies/bindings/reads', { policy: 'ten' });
  await v.close();
  await setupStore.close();
  writeFileSync(join(dir, 'root'), v.rootKey.toString('base64'), { mode: 0o600 });

  const urls: string[] = [];
  for (let i = 0; i < 2; i++) {
    const p = startBin('sikkerkey-vault', ['serve', '--database-url', pgdb.location.databaseUrl, '--root-key-file', join(dir, 'root'), '--listen', '127.0.0.1:0']);
    procs.push(p);
    const m = await p.waitFor(/"url":"(http:\/\/127\.0\.0\.1:\d+)"/);
    urls.push(m[1] as string);
  }
  const [a, b] = urls.map((url) => {
    const c = new VaultClient({ url, key: { keyId: reader.keyId, privateKey: reader.privateKey }, timeoutMs: 60_000 });
    clients.push(c);
    return c;
  }) as [VaultClient, VaultClient];
  const readAt = async (c: VaultClient, secret: string): Promise<{ status: number; code?: string; retryAfter?: number }> => {
    try {
      const r = await c.request<{ value: string }>('GET', `/v1/projects/p/secrets/${secret}`);
      assert.equal(r.body.value, `value-of-${secret}`);
      return { status: r.status };
    } catch (err) {
      if (!(err instanceof SikkerKeyError)) throw err;
      const retry = err.details?.['retryAfter'];
      return { status: err.statusCode, code: err.code, ...(typeof retry === 'number' ? { retryAfter: retry } : {}) };
    }
  };

  // Per minute: three reads across both processes are served; the fourth, on either, is 429.
  assert.deepEqual([(await readAt(a, 'minute')).status, (await readAt(b, 'minute')).status, (await readAt(a, 'minute')).status], [200, 200, 200]);
  const minuteRefused = await readAt(b, 'minute');
  assert.equal(minuteRefused.code, 'SK_ERR_POLICY_RATE');
  assert.ok(minuteRefused.retryAfter !== undefined && minuteRefused.retryAfter >= 1 && minuteRefused.retryAfter <= 60, JSON.stringify(minuteRefused));
  assert.equal((await readAt(a, 'minute')).code, 'SK_ERR_POLICY_RATE');

  // Per day likewise; the oldest counted read leaves the window in about a day.
  assert.deepEqual([(await readAt(b, 'day')).status, (await readAt(a, 'day')).status, (await readAt(b, 'day')).status], [200, 200, 200]);
  const dayRefused = await readAt(a, 'day');
  assert.equal(dayRefused.code, 'SK_ERR_POLICY_RATE');
  assert.ok(dayRefused.retryAfter !== undefined && dayRefused.retryAfter > 80_000, JSON.stringify(dayRefused));

  // maxReads 10: 40 parallel reads, half to each process, serve exactly 10.
  const results = await Promise.all(Array.from({ length: 40 }, (_, i) => readAt(i % 2 === 0 ? a : b, 'reads')));
  assert.equal(results.filter((r) => r.status === 200).length, 10, JSON.stringify(results.map((r) => r.status)));
  assert.equal(results.filter((r) => r.code === 'SK_ERR_SECRET_EXPIRED').length, 30);

  const store = await openStore(pgdb.location);
  try {
    const reads = (await listAudit(store.db, { limit: 10_000 })).filter((e) => e.action === 'secret.read');
    assert.equal(reads.filter((e) => e.outcome === 'success').length, 3 + 3 + 10);
    assert.equal(reads.filter((e) => e.outcome === 'denied' && e.details['policy'] === 'rateCap').length, 3);
    assert.equal(reads.filter((e) => e.outcome === 'denied' && e.details['policy'] === 'ttl').length, 30);
  } finally {
    await store.close();
  }
});
