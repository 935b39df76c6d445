// Per-project audit retention (issue 25: "a per-project setting may only keep longer"), on both
// stores: the vault's retention would prune about half the log; a project that keeps its events
// longer holds the prune boundary just before its oldest event still within its own retention;
// `audit verify` passes from the signed boundary and reports exactly the pruned range; lowering,
// then clearing, the setting lets the next sweeps prune further. A setting shorter than the
// vault's is refused with SK_ERR_AUDIT_RETENTION.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachStore } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import { pruneAudit } from '../../vault-server/modules/audit/audit-retention.js';
import { appendAudit } from '../../vault-server/modules/audit/audit-store.js';
import type { ChainReport } from '../../vault-server/modules/audit/audit-store.js';
import { transaction } from '../../vault-server/store/locks.js';
import { codeOf } from '../support/enrollment.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

interface ProjectBody { project: { name: string; auditRetentionMs: number | null; effectiveAuditRetentionMs: number | null } }

forEachStore('per-project audit retention', ({ open }) => {
  test('a project that keeps longer holds the boundary before its oldest kept event; verify reports the exact range; lowering and clearing prune further', async () => {
    const store = await open();
    // After the vault's set-up events (written at the real time), like every event of this test.
    const base = Date.now() + 1000;
    let now = base;
    const vaultRetention = 8 * DAY;
    const v = await startTestVault(store, { now: () => now, auditRetentionMs: vaultRetention });
    try {
      for (const name of ['keep', 'other']) assert.equal((await v.call(v.operator, 'POST', '/v1/projects', { name })).status, 201);
      const ids = Object.fromEntries(((await v.call(v.operator, 'GET', '/v1/projects')).body as { projects: Array<{ name: string; id: string }> }).projects.map((p) => [p.name, p.id]));
      // 400 events, one an hour: every 4th is `keep`'s, the next `other`'s, the rest have no project.
      const first = Number((await store.db.selectFrom('audit_head').select('seq').executeTakeFirstOrThrow()).seq) + 1;
      await transaction(store, async (trx) => {
        for (let i = 0; i < 400; i++) {
          const projectId = i % 4 === 0 ? ids.keep : i % 4 === 1 ? ids.other : null;
          await appendAudit(trx, store.dialect, {
            actorKind: 'machine', actorId: 'm-1', actorName: 'web-1', action: 'secret.read', projectId, target: 'secret:x/y', outcome: 'success', details: { i },
          }, base + (i + 1) * HOUR, v.ctx.auditKeys);
        }
      });
      const seqOf = (i: number): number => first + i;
      now = base + 401 * HOUR;
      // The vault's 8 days keep events from base + 209 h on: events 0..207 (and the set-up) would go.
      const globalLast = seqOf(207);

      // Shorter than the vault's: refused, nothing stored.
      const shorter = await v.call(v.operator, 'PUT', '/v1/projects/keep/audit-retention', { retention: '7d' });
      assert.equal(shorter.status, 400, shorter.raw);
      assert.equal(codeOf(shorter), 'SK_ERR_AUDIT_RETENTION');
      const set = await v.call(v.operator, 'PUT', '/v1/projects/keep/audit-retention', { retention: '12d' });
      assert.equal(set.status, 200, set.raw);
      assert.deepEqual((set.body as ProjectBody).project.auditRetentionMs, 12 * DAY);
      assert.deepEqual((set.body as ProjectBody).project.effectiveAuditRetentionMs, 12 * DAY);
      const other = ((await v.call(v.operator, 'GET', '/v1/projects/other')).body as ProjectBody).project;
      assert.deepEqual([other.auditRetentionMs, other.effectiveAuditRetentionMs], [null, vaultRetention]);
      const changed = ((await v.call(v.operator, 'GET', '/v1/audit?action=project.audit_retention_changed')).body as { events: Array<{ severity: string; details: Record<string, unknown> }> }).events;
      assert.equal(changed.length, 1, 'the refused setting changed nothing and is not a change event');
      assert.deepEqual([changed[0]!.severity, changed[0]!.details.fromMs, changed[0]!.details.toMs, changed[0]!.details.vaultRetentionMs], ['warning', null, 12 * DAY, vaultRetention]);

      // keep's 12 days keep its events from base + 113 h on: event 112 is its oldest kept one.
      const r1 = await pruneAudit(v.ctx, vaultRetention);
      assert.deepEqual(r1, { ran: true, pruned: seqOf(112) - 1, firstSeq: 1, lastSeq: seqOf(112) - 1, heldBy: { project: 'keep', retentionMs: 12 * DAY, seq: seqOf(112) } });
      const kept = await store.db.selectFrom('audit_events').select(['seq', 'project_id']).where('seq', '<=', globalLast).orderBy('seq', 'asc').execute();
      assert.equal(Number(kept[0]!.seq), seqOf(112), 'the boundary is just before keep\'s oldest kept event');
      assert.ok(kept.some((e) => e.project_id === ids.other), 'other\'s old events after the boundary stay too: only a prefix goes');
      let report = (await v.call(v.operator, 'GET', '/v1/audit/verify')).body as ChainReport;
      assert.equal(report.ok, true, JSON.stringify(report));
      assert.deepEqual({ ...report.pruned, prunedAt: 0 }, { firstSeq: 1, lastSeq: seqOf(112) - 1, prunedAt: 0, events: seqOf(112) - 1, sweeps: 1 });
      const pruned = ((await v.call(v.operator, 'GET', '/v1/audit?action=audit.pruned')).body as { events: Array<{ details: Record<string, unknown> }> }).events;
      assert.deepEqual(pruned[0]!.details.heldBy, { project: 'keep', retentionMs: 12 * DAY, seq: seqOf(112) });

      // Lowered to 9 days: keep's events from base + 185 h on stay; event 184 is the new boundary's.
      assert.equal((await v.call(v.operator, 'PUT', '/v1/projects/keep/audit-retention', { retention: '9d' })).status, 200);
      const r2 = await pruneAudit(v.ctx, vaultRetention);
      assert.deepEqual([r2.firstSeq, r2.lastSeq, r2.heldBy?.seq], [seqOf(112), seqOf(184) - 1, seqOf(184)]);
      report = (await v.call(v.operator, 'GET', '/v1/audit/verify')).body as ChainReport;
      assert.equal(report.ok, true, JSON.stringify(report));
      assert.deepEqual([report.pruned?.firstSeq, report.pruned?.lastSeq, report.pruned?.sweeps], [1, seqOf(184) - 1, 2]);

      // Cleared: the vault's retention alone, up to event 207.
      const cleared = await v.call(v.operator, 'PUT', '/v1/projects/keep/audit-retention', { retention: null });
      assert.deepEqual([(cleared.body as ProjectBody).project.auditRetentionMs, (cleared.body as ProjectBody).project.effectiveAuditRetentionMs], [null, vaultRetention]);
      const r3 = await pruneAudit(v.ctx, vaultRetention);
      assert.deepEqual(r3, { ran: true, pruned: globalLast - seqOf(184) + 1, firstSeq: seqOf(184), lastSeq: globalLast });
      report = (await v.call(v.operator, 'GET', '/v1/audit/verify')).body as ChainReport;
      assert.equal(report.ok, true, JSON.stringify(report));
      assert.deepEqual([report.pruned?.firstSeq, report.pruned?.lastSeq, report.pruned?.sweeps], [1, globalLast, 3]);
      const oldest = await store.db.selectFrom('audit_events').select('at').orderBy('seq', 'asc').limit(1).executeTakeFirstOrThrow();
      assert.ok(Number(oldest.at) >= now - vaultRetention);

      // Refusals: an unknown project, a bad duration, less than a day.
      assert.equal(codeOf(await v.call(v.operator, 'PUT', '/v1/projects/nope/audit-retention', { retention: '30d' })), 'SK_ERR_NOT_FOUND');
      for (const retention of ['forever', '1h', 12]) {
        const res = await v.call(v.operator, 'PUT', '/v1/projects/keep/audit-retention', { retention });
        assert.deepEqual([res.status, codeOf(res)], [400, 'SK_ERR_VALIDATION'], String(retention));
      }
    } finally {
      await v.close();
    }
  });
});
