// The project locks a machine read takes on PostgreSQL (vault-server/modules/canaries/canaries-tripwire.ts:
// an advisory lock, then the row FOR SHARE) are taken once per group-commit batch: an earlier job
// of the batch holds them for the transaction, so later reads skip two round trips each. A job
// rolled back to its savepoint released what it took (PostgreSQL releases a savepoint's locks),
// and the next job takes them again — checked in pg_locks, inside the batch. PostgreSQL only:
// on SQLite a read takes no locks (the batch holds the one writer).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { tempPgDatabase } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import type { TestVault } from '../support/vault-app.js';
import { openStore } from '../../vault-server/store/open-store.js';
import { writeTx } from '../../vault-server/context.js';
import type { Tx } from '../../vault-server/context.js';
import { lockProjectsInOrder } from '../../vault-server/modules/canaries/canaries-tripwire.js';
import { SikkerKeyError } from '../../protocol/errors.js';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function pgVault(): Promise<TestVault> {
  const made = await tempPgDatabase();
  const store = await openStore(made.location);
  const v = await startTestVault(store);
  cleanups.push(made.remove, async () => store.close(), async () => v.close());
  return v;
}

/** Advisory locks this transaction's backend holds in ShareLock mode. */
async function sharedAdvisoryLocks(trx: Tx): Promise<number> {
  const { rows } = await sql<{ n: string }>`select count(*) as n from pg_locks where locktype = 'advisory' and mode = 'ShareLock' and pid = pg_backend_pid()`.execute(trx);
  return Number(rows[0]?.n ?? 0);
}

test('postgres: a batch takes a project\'s read locks once; a job rolled back gives them up and the next job takes them again', async () => {
  const v = await pgVault();
  const created = await v.call(v.operator, 'POST', '/v1/projects', { name: 'p' });
  assert.equal(created.status, 201, created.raw);
  const project = await v.ctx.store.db.selectFrom('projects').select('id').where('name', '=', 'p').executeTakeFirstOrThrow();
  const shared = { exclusive: new Set<string>(), shared: [project.id] };
  const seen: Array<{ took: boolean; locks: number }> = [];
  const job = (refuse: boolean) => writeTx(v.ctx, async (trx) => {
    const took = await lockProjectsInOrder(v.ctx, trx, shared);
    seen.push({ took, locks: await sharedAdvisoryLocks(trx) });
    if (refuse) throw new SikkerKeyError('SK_ERR_NOT_FOUND', 'refused after taking the locks');
  });
  // Queued in one turn of the event loop: one batch, jobs in this order.
  const results = await Promise.allSettled([job(true), job(false), job(false)]);
  assert.deepEqual(results.map((r) => r.status), ['rejected', 'fulfilled', 'fulfilled']);
  assert.deepEqual(seen, [
    { took: true, locks: 1 },
    { took: true, locks: 1 }, // the first job's lock went with its savepoint: taken again
    { took: false, locks: 1 }, // held since the second job: not taken again, still held
  ]);
});

test('postgres: twenty jobs of one batch take a project\'s locks once; signed reads are served', async () => {
  const v = await pgVault();
  assert.equal((await v.call(v.operator, 'POST', '/v1/projects', { name: 'p' })).status, 201);
  assert.equal((await v.call(v.operator, 'PUT', '/v1/projects/p/secrets/s', { value: 'batch-lock-value-3e1d' })).status, 200);
  const reader = await v.addMachine('reader');
  assert.equal((await v.call(v.operator, 'POST', '/v1/grants', { machine: 'reader', project: 'p' })).status, 201);
  const project = await v.ctx.store.db.selectFrom('projects').select('id').where('name', '=', 'p').executeTakeFirstOrThrow();
  const taken: boolean[] = [];
  // Queued in one turn of the event loop: one batch.
  const reads = await Promise.all(Array.from({ length: 20 }, () => writeTx(v.ctx, async (trx) => {
    taken.push(await lockProjectsInOrder(v.ctx, trx, { exclusive: new Set(), shared: [project.id] }));
  })));
  assert.equal(reads.length, 20);
  assert.deepEqual([taken.length, taken.filter(Boolean).length], [20, 1], 'one batch: the first job takes the locks, the other 19 find them held');
  const served = await Promise.all(Array.from({ length: 20 }, () => v.call(reader, 'GET', '/v1/projects/p/secrets/s')));
  assert.deepEqual([...new Set(served.map((r) => r.status))], [200]);
});
