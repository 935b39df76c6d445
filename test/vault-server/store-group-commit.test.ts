// Group commit (vault-server/store/group-commit.ts) on both stores: concurrent jobs share one
// transaction; a job that throws is rolled back alone (its audit events too); a failed COMMIT
// answers every job 503 and keeps nothing; with a deferred-durability store, a job is answered
// only once its batch is durable, and `until: 'commit'` jobs earlier.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachStore } from '../support/stores.js';
import { GroupCommitter } from '../../vault-server/store/group-commit.js';
import type { BatchDurability } from '../../vault-server/store/group-commit.js';
import { appendAuditInBatch, holdAuditHead, verifyAuditChain } from '../../vault-server/modules/audit/audit-store.js';
import { SikkerKeyError, isSikkerKeyError } from '../../protocol/errors.js';
import type { Store } from '../../vault-server/store/open-store.js';

const key = (i: number): string => `gc-test-${i}`;

/** A job (or `before`) that writes the row `key(k)`. */
const write = (k: number) => async (trx: Parameters<Parameters<GroupCommitter['run']>[0]>[0]): Promise<void> => {
  await trx.insertInto('vault_meta').values({ key: key(k), value: Buffer.from('x'), updated_at: 1 }).execute();
};

async function metaKeys(store: Store): Promise<string[]> {
  const rows = await store.db.selectFrom('vault_meta').select('key').where('key', 'like', 'gc-test-%').orderBy('key').execute();
  return rows.map((r) => r.key);
}

forEachStore('group commit', ({ open, freshLocation, openAt }) => {
  test('ten concurrent jobs commit together; the one that throws is rolled back alone, with its audit event', async () => {
    const store = await openAt(await freshLocation());
    const batches: number[] = [];
    const commits = new GroupCommitter(store, {
      prologue: (trx, scope) => holdAuditHead(trx, store.dialect, scope),
      onBatch: ({ jobs, committed }) => { if (committed) batches.push(jobs); },
    });
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => commits.run(async (trx, scope) => {
      await trx.insertInto('vault_meta').values({ key: key(i), value: Buffer.from('x'), updated_at: 1 }).execute();
      await appendAuditInBatch(trx, scope, { actorKind: 'system', actorId: null, action: 'test.job', target: `job:${i}`, outcome: 'success', details: { i } });
      if (i === 4) throw new Error('job 4 refuses');
      return i;
    })));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 9);
    const failed = results[4];
    assert.ok(failed?.status === 'rejected' && (failed.reason as Error).message === 'job 4 refuses', 'the failing job gets its own error');
    assert.deepEqual(await metaKeys(store), [0, 1, 2, 3, 5, 6, 7, 8, 9].map(key));
    assert.ok(batches.length < 10 && Math.max(...batches) > 1, `jobs shared transactions (batches: ${batches.join(',')})`);
    const chain = await verifyAuditChain(store.db);
    assert.equal(chain.ok, true, JSON.stringify(chain.firstBad));
    const events = await store.db.selectFrom('audit_events').select(['target']).where('action', '=', 'test.job').orderBy('seq').execute();
    assert.deepEqual(events.map((e) => e.target), [0, 1, 2, 3, 5, 6, 7, 8, 9].map((i) => `job:${i}`), 'events chain in job order, without the rolled-back one');
  });

  test('a COMMIT that fails answers every job of the batch SK_ERR_STORE (503, retryable) and keeps nothing', async () => {
    const store = await open();
    let failNext = true;
    const commits = new GroupCommitter(store, {
      prologue: async (_trx, scope) => {
        scope.beforeCommit(async () => {
          if (failNext) throw new Error('disk full (simulated at the end of the batch)');
        });
      },
    });
    const results = await Promise.allSettled([1, 2, 3].map((i) => commits.run(async (trx) => {
      await trx.insertInto('vault_meta').values({ key: key(100 + i), value: Buffer.from('x'), updated_at: 1 }).execute();
    })));
    for (const r of results) {
      assert.equal(r.status, 'rejected');
      const err = (r as PromiseRejectedResult).reason as unknown;
      assert.ok(isSikkerKeyError(err) && err.code === 'SK_ERR_STORE' && err.statusCode === 503, String(err));
      assert.deepEqual((err as { details?: unknown }).details, { retryAfter: 1 });
    }
    assert.deepEqual((await metaKeys(store)).filter((k) => k >= key(100)), []);
    failNext = false;
    await commits.run(async (trx) => { await trx.insertInto('vault_meta').values({ key: key(200), value: Buffer.from('x'), updated_at: 1 }).execute(); });
    assert.ok((await metaKeys(store)).includes(key(200)), 'the next batch commits normally');
  });

  test('`before` commits with the batch even when its job is rolled back; a `before` that throws keeps nothing and its job never runs', async () => {
    const store = await open();
    const commits = new GroupCommitter(store);
    let ranAfterRefusedBefore = false;
    const [refusedJob, refusedBefore, plain] = await Promise.allSettled([
      commits.run(async (trx) => { await write(401)(trx); throw new Error('the job refuses'); }, { before: write(400) }),
      commits.run(async () => { ranAfterRefusedBefore = true; }, { before: async (trx) => { await write(402)(trx); throw new Error('before refuses'); } }),
      commits.run(write(403), { before: write(404) }),
    ]);
    assert.ok(refusedJob.status === 'rejected' && (refusedJob.reason as Error).message === 'the job refuses');
    assert.ok(refusedBefore.status === 'rejected' && (refusedBefore.reason as Error).message === 'before refuses');
    assert.equal(plain.status, 'fulfilled');
    assert.equal(ranAfterRefusedBefore, false, 'a job whose before threw does not run');
    assert.deepEqual((await metaKeys(store)).filter((k) => k >= key(400) && k <= key(404)), [400, 403, 404].map(key));
  });

  test('an atomic `before` (no savepoint): its refusal (a SikkerKeyError) skips only its job; any other error from it fails the whole batch 503', async () => {
    const store = await open();
    const commits = new GroupCommitter(store);
    let ranAfterRefusal = false;
    const [kept, refused, plain] = await Promise.allSettled([
      commits.run(async (trx) => { await write(501)(trx); throw new Error('the job refuses'); }, { before: write(500), atomicBefore: true }),
      commits.run(async () => { ranAfterRefusal = true; }, { before: async () => { throw new SikkerKeyError('SK_ERR_SIGNATURE_REPLAYED', 'used'); }, atomicBefore: true }),
      commits.run(write(503), { before: write(504), atomicBefore: true }),
    ]);
    assert.ok(kept.status === 'rejected' && (kept.reason as Error).message === 'the job refuses');
    assert.ok(refused.status === 'rejected' && isSikkerKeyError(refused.reason, 'SK_ERR_SIGNATURE_REPLAYED'));
    assert.equal(plain.status, 'fulfilled');
    assert.equal(ranAfterRefusal, false, 'a job whose before refused does not run');
    assert.deepEqual((await metaKeys(store)).filter((k) => k >= key(500) && k <= key(504)), [500, 503, 504].map(key), 'the before of a refused job is kept, its job is not');

    // Not a refusal: the statement may have left the transaction unusable (PostgreSQL), so nothing of the batch is kept.
    const [broken, neighbour] = await Promise.allSettled([
      commits.run(write(511), { before: async (trx) => { await write(510)(trx); throw new Error('the statement failed'); }, atomicBefore: true }),
      commits.run(write(512)),
    ]);
    for (const r of [broken, neighbour]) assert.ok(r.status === 'rejected' && isSikkerKeyError(r.reason, 'SK_ERR_STORE'), `503 for the whole batch: ${r.status === 'rejected' ? String(r.reason) : 'fulfilled'}`);
    assert.deepEqual((await metaKeys(store)).filter((k) => k >= key(510) && k <= key(512)), []);
  });

  test('deferred durability (stand-in flush): a job is answered only after its batch is durable; until:commit earlier', async () => {
    const store = await open();
    let release: (() => void) | undefined;
    let flushes = 0;
    const durability: BatchDurability = {
      relax: async () => undefined,
      restore: async () => undefined,
      flush: () => { flushes += 1; return new Promise<void>((resolve) => { release = resolve; }); },
    };
    const commits = new GroupCommitter(store, { durability });
    let durableDone = false;
    const visible = commits.run(async (trx) => { await trx.insertInto('vault_meta').values({ key: key(300), value: Buffer.from('x'), updated_at: 1 }).execute(); return 'visible'; }, { until: 'commit' });
    const durable = commits.run(async (trx) => { await trx.insertInto('vault_meta').values({ key: key(301), value: Buffer.from('x'), updated_at: 1 }).execute(); return 'durable'; })
      .then((v) => { durableDone = true; return v; });
    assert.equal(await visible, 'visible');
    const mark = commits.committedSeq();
    assert.ok(mark >= 1);
    let markDone = false;
    const waitMark = commits.durableThrough(mark).then(() => { markDone = true; });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(durableDone, false, 'not answered before the flush');
    assert.equal(markDone, false, 'durableThrough waits for the flush');
    assert.ok(flushes >= 1 && release);
    release?.();
    assert.equal(await durable, 'durable');
    await waitMark;
    assert.equal(markDone, true);
  });
});
