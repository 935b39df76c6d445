// Audit retention (issue 25, "Done when" 4), on both stores: pruning the oldest half writes a
// signed boundary first and audits itself; `audit verify` passes from the boundary and reports the
// pruned range; deleting a kept event, dropping the boundary or forging it still fails; a
// tampered prefix is refused, not laundered by deleting it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachStore } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import { writeVariedEvents } from '../support/audit-events.js';
import { pruneAudit } from '../../vault-server/modules/audit/audit-retention.js';
import { verifyAuditChain } from '../../vault-server/modules/audit/audit-store.js';
import type { ChainReport } from '../../vault-server/modules/audit/audit-store.js';
import { isSikkerKeyError } from '../../protocol/errors.js';
import type { Tx } from '../../vault-server/context.js';
import type { AuditKeys } from '../../vault-server/modules/audit/audit-store.js';

class Rollback extends Error {}

/** Tampers inside a transaction, verifies, rolls back. */
async function verifyAfter(db: Tx, keys: AuditKeys, tamper: (trx: Tx) => Promise<void>): Promise<ChainReport> {
  let report: ChainReport | undefined;
  await db.transaction().execute(async (trx) => {
    await tamper(trx);
    report = await verifyAuditChain(trx, keys);
    throw new Rollback();
  }).catch((err: unknown) => { if (!(err instanceof Rollback)) throw err; });
  return report!;
}

forEachStore('audit retention', ({ open }) => {
  test('prunes the oldest half behind a signed boundary; verify passes from it, reports the range, and still catches a deleted kept event', async () => {
    const store = await open();
    let now = Date.now();
    const v = await startTestVault(store, { now: () => now });
    try {
      const base = now + 1000;
      await writeVariedEvents(store, v.ctx.auditKeys, 1000, { base, legacyMachineId: 'm-x' });
      const lastOld = Number((await store.db.selectFrom('audit_events').select('seq').where('at', '<', base + 500 * 1000).orderBy('seq', 'desc').limit(1).executeTakeFirstOrThrow()).seq);
      const head = Number((await store.db.selectFrom('audit_head').select('seq').executeTakeFirstOrThrow()).seq);
      now = base + 2000 * 1000;
      const retentionMs = 1500 * 1000;

      // A tampered prefix is refused and nothing is deleted.
      const victim = await store.db.selectFrom('audit_events').select(['seq', 'target']).where('seq', '=', 10).executeTakeFirstOrThrow();
      await store.db.updateTable('audit_events').set({ target: 'secret:shop/forged' }).where('seq', '=', 10).execute();
      await assert.rejects(pruneAudit(v.ctx, retentionMs), (err: unknown) => isSikkerKeyError(err, 'SK_ERR_AUDIT_CHAIN') && /broken at event 10/.test(err.message));
      assert.equal(Number((await store.db.selectFrom('audit_events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n), head);
      await store.db.updateTable('audit_events').set({ target: victim.target }).where('seq', '=', 10).execute();

      const r = await pruneAudit(v.ctx, retentionMs);
      assert.deepEqual(r, { ran: true, pruned: lastOld, firstSeq: 1, lastSeq: lastOld });
      assert.equal(lastOld > 400 && lastOld < 600, true, `about half: ${lastOld}`);
      const oldest = await store.db.selectFrom('audit_events').select(['seq', 'at']).orderBy('seq', 'asc').limit(1).executeTakeFirstOrThrow();
      assert.equal(Number(oldest.seq), lastOld + 1);
      assert.ok(Number(oldest.at) >= now - retentionMs, 'nothing within the retention went');

      const res = await v.call(v.operator, 'GET', '/v1/audit/verify');
      const report = res.body as ChainReport;
      assert.equal(report.ok, true, res.raw);
      assert.equal(report.events, head - lastOld + 1, 'the kept events and the audit.pruned event');
      assert.deepEqual({ ...report.pruned, prunedAt: undefined }, { firstSeq: 1, lastSeq: lastOld, prunedAt: undefined, events: lastOld, sweeps: 1 });
      assert.equal(report.pruned!.prunedAt, now);
      const pruneEvent = ((await v.call(v.operator, 'GET', '/v1/audit?action=audit.pruned')).body as { events: Array<{ details: Record<string, unknown> }> }).events;
      assert.equal(pruneEvent.length, 1);
      assert.deepEqual([pruneEvent[0]!.details.firstSeq, pruneEvent[0]!.details.lastSeq, pruneEvent[0]!.details.events], [1, lastOld, lastOld]);

      // Deleting a kept event, the boundary, or forging the boundary: each still fails.
      const keys = v.ctx.auditKeys;
      const deleted = await verifyAfter(store.db, keys, (trx) => trx.deleteFrom('audit_events').where('seq', '=', lastOld + 100).execute().then(() => undefined));
      assert.deepEqual([deleted.ok, deleted.firstBad?.seq], [false, lastOld + 100]);
      const firstKept = await verifyAfter(store.db, keys, (trx) => trx.deleteFrom('audit_events').where('seq', '=', lastOld + 1).execute().then(() => undefined));
      assert.deepEqual([firstKept.ok, firstKept.firstBad?.seq], [false, lastOld + 1], 'pruning one more without a boundary is caught');
      const noBoundary = await verifyAfter(store.db, keys, (trx) => trx.deleteFrom('audit_prunes').execute().then(() => undefined));
      assert.deepEqual([noBoundary.ok, noBoundary.firstBad?.seq], [false, 1]);
      const moved = await verifyAfter(store.db, keys, async (trx) => {
        // Claim more was pruned than was: the signature does not cover the moved boundary.
        await trx.updateTable('audit_prunes').set({ last_seq: lastOld + 50 }).execute();
        await trx.deleteFrom('audit_events').where('seq', '<=', lastOld + 50).execute();
      });
      assert.equal(moved.ok, false);
      assert.match(moved.firstBad!.reason, /not signed by this vault/);

      // Nothing more is old enough: a second sweep prunes nothing.
      assert.deepEqual(await pruneAudit(v.ctx, retentionMs), { ran: true, pruned: 0 });
      assert.equal(((await v.call(v.operator, 'GET', '/v1/audit/verify')).body as ChainReport).ok, true);
    } finally {
      await v.close();
    }
  });
});
