// Audit retention (issue 25, "Done when" 4), on both stores: pruning the oldest half writes a
// signed boundary first and audits itself; `audit verify` passes from the boundary and reports the
// pruned range; deleting a kept event, dropping the boundary or forging it still fails; a
// tampered prefix is refused, not laundered by deleting it.
import { sign, verify } from 'node:crypto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachStore } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import { writeVariedEvents } from '../support/audit-events.js';
import { pruneAudit } from '../../vault-server/modules/audit/audit-retention.js';
import { verifyAuditChain } from '../../vault-server/modules/audit/audit-store.js';
import type { ChainReport } from '../../vault-server/modules/audit/audit-store.js';
import { isSikkerKeyError } from '../../protocol/errors.js';
import type { Tx, VaultContext } from '../../vault-server/context.js';
import type { AuditKeys } from '../../vault-server/modules/audit/audit-store.js';
import { loadAuditKeys } from '../../vault-server/modules/audit/audit-keys.js';
import { checkpointMessage, pruneBoundaryMessage } from '../../protocol/audit-checkpoint.js';
import type { AuditCheckpoint } from '../../protocol/audit-checkpoint.js';
import type { Store } from '../../vault-server/store/open-store.js';

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

const eventCount = async (store: Store): Promise<number> =>
  Number((await store.db.selectFrom('audit_events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

/** What a database writer does with a saved head checkpoint: makes it the newest boundary and deletes every event up to it. */
async function replayAsBoundary(trx: Tx, cp: AuditCheckpoint, firstSeq: number, now: number): Promise<void> {
  await trx.insertInto('audit_prunes').values({
    last_seq: cp.seq, first_seq: firstSeq, hash: cp.hash, at: cp.at, signature: cp.signature, public_key: cp.publicKey, pruned_at: now, events: cp.seq - firstSeq + 1,
  }).execute();
  await trx.deleteFrom('audit_events').where('seq', '<=', cp.seq).execute();
}

forEachStore('audit retention', ({ open, openAt, freshLocation }) => {
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

  test('a signed head checkpoint copied into audit_prunes is no boundary: verify and the next sweep refuse it; a genuine boundary, new or old format, holds', async () => {
    const store = await openAt(await freshLocation());
    let now = Date.now();
    const v = await startTestVault(store, { now: () => now });
    try {
      const keys = v.ctx.auditKeys;
      const base = now + 1000;
      await writeVariedEvents(store, keys, 300, { base, legacyMachineId: 'm-x' });
      const head = async (): Promise<AuditCheckpoint> => {
        const res = await v.call(v.operator, 'GET', '/v1/audit/head');
        assert.equal(res.status, 200, res.raw);
        return res.body as AuditCheckpoint;
      };
      const cp1 = await head();
      await writeVariedEvents(store, keys, 300, { base: base + 300_000, legacyMachineId: 'm-x' });

      // Before any prune: the head checkpoint as a boundary, events 1..cp1.seq deleted behind it.
      const forged = await verifyAfter(store.db, keys, (trx) => replayAsBoundary(trx, cp1, 1, now));
      assert.equal(forged.ok, false, JSON.stringify(forged));
      assert.equal(forged.firstBad?.seq, cp1.seq);
      assert.match(forged.firstBad!.reason, /audit\.pruned/);

      // A genuine prune signs its boundary in its own domain, and verifies.
      now = base + 1000_000;
      const r = await pruneAudit(v.ctx, 850_000);
      assert.ok(r.pruned > 100, JSON.stringify(r));
      const row = await store.db.selectFrom('audit_prunes').selectAll().executeTakeFirstOrThrow();
      const sig = Buffer.from(row.signature, 'base64');
      assert.equal(verify(null, pruneBoundaryMessage(1, r.lastSeq!, row.hash, Number(row.at)), keys.signingKey, sig), true);
      assert.equal(verify(null, checkpointMessage(r.lastSeq!, row.hash, Number(row.at)), keys.signingKey, sig), false, 'not a head checkpoint\'s message');
      const genuine = (await v.call(v.operator, 'GET', '/v1/audit/verify')).body as ChainReport;
      assert.equal(genuine.ok, true, JSON.stringify(genuine));
      assert.equal(genuine.pruned?.lastSeq, r.lastSeq);

      // After a prune: a later head checkpoint replayed as the newest boundary.
      const cp2 = await head();
      const later = await verifyAfter(store.db, keys, (trx) => replayAsBoundary(trx, cp2, r.lastSeq! + 1, now));
      assert.equal(later.ok, false, JSON.stringify(later));
      assert.equal(later.firstBad?.seq, cp2.seq);

      // A boundary signed the old way (checkpointMessage) still holds with its audit.pruned event,
      // and the next sweep prunes on from it.
      const legacy = sign(null, checkpointMessage(r.lastSeq!, row.hash, Number(row.at)), keys.signingKey).toString('base64');
      await store.db.updateTable('audit_prunes').set({ signature: legacy }).where('last_seq', '=', r.lastSeq!).execute();
      assert.equal(((await v.call(v.operator, 'GET', '/v1/audit/verify')).body as ChainReport).ok, true);
      now = base + 1200_000;
      const r2 = await pruneAudit(v.ctx, 850_000);
      assert.equal(r2.firstSeq, r.lastSeq! + 1, JSON.stringify(r2));
      const afterLegacy = (await v.call(v.operator, 'GET', '/v1/audit/verify')).body as ChainReport;
      assert.equal(afterLegacy.ok, true, JSON.stringify(afterLegacy));
      assert.deepEqual([afterLegacy.pruned?.lastSeq, afterLegacy.pruned?.sweeps], [r2.lastSeq, 2]);

      // The replay committed: the next sweep refuses to prune on from it and deletes nothing.
      const cp3 = await head();
      await writeVariedEvents(store, keys, 20, { base: now, legacyMachineId: 'm-x' });
      await store.db.transaction().execute((trx) => replayAsBoundary(trx, cp3, r2.lastSeq! + 1, now));
      const kept = await eventCount(store);
      now = base + 5000_000;
      await assert.rejects(pruneAudit(v.ctx, 850_000), (err: unknown) => isSikkerKeyError(err, 'SK_ERR_AUDIT_CHAIN') && /audit\.pruned/.test(err.message));
      assert.equal(await eventCount(store), kept, 'nothing was deleted');
      assert.equal(((await v.call(v.operator, 'GET', '/v1/audit/verify')).body as ChainReport).ok, false);
    } finally {
      await v.close();
    }
  });

  test('a raised audit_keyed_from (no audit.keys.created event there) stops the sweep from pruning recent, backdated events unchecked', async () => {
    const store = await openAt(await freshLocation());
    let now = Date.now();
    const v = await startTestVault(store, { now: () => now });
    try {
      const base = now + 1000;
      await writeVariedEvents(store, v.ctx.auditKeys, 300, { base, legacyMachineId: 'm-x' });
      now = base + 1000_000;
      const cutoff = now - 850_000;
      const firstRecent = Number((await store.db.selectFrom('audit_events').select('seq').where('at', '>=', cutoff).orderBy('seq', 'asc').limit(1).executeTakeFirstOrThrow()).seq);
      const headSeq = Number((await store.db.selectFrom('audit_head').select('seq').executeTakeFirstOrThrow()).seq);
      const raisedTo = headSeq - 10;
      // The database writer: backdates recent events and raises audit_keyed_from past them; the vault restarts.
      await store.db.updateTable('audit_events').set({ at: base }).where('seq', '>=', firstRecent).where('seq', '<', raisedTo).execute();
      await store.db.updateTable('vault_meta').set({ value: Buffer.from(String(raisedTo), 'utf8') }).where('key', '=', 'audit_keyed_from').execute();
      const restarted = Object.create(v.ctx, { auditKeys: { value: (await loadAuditKeys(store.db, v.ctx.keyring))! } }) as VaultContext;
      assert.equal(restarted.auditKeys.keyedFrom, raisedTo);
      const kept = await eventCount(store);
      await assert.rejects(pruneAudit(restarted, 850_000), (err: unknown) => isSikkerKeyError(err, 'SK_ERR_AUDIT_CHAIN') && /audit\.keys\.created/.test(err.message));
      assert.equal(await eventCount(store), kept, 'nothing was deleted');
      const report = await verifyAuditChain(store.db, restarted.auditKeys);
      assert.deepEqual([report.ok, report.firstBad?.seq], [false, raisedTo]);
    } finally {
      await v.close();
    }
  });
});
