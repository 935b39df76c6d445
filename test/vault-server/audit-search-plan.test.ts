// The audit search's plan (issue 25: indexed search) never changes an answer, on both stores:
// a time window whose events are not one run of sequence numbers (the clock stepped back while
// they were written), and globs matching more distinct values than are queried one by one
// (MAX_BRANCHES), still return exactly the events the filter selects, newest first and oldest
// first, across pages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachStore } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import { transaction } from '../../vault-server/store/locks.js';
import { appendAudit } from '../../vault-server/modules/audit/audit-store.js';
import { MAX_BRANCHES, searchAudit } from '../../vault-server/modules/audit/audit-search.js';
import type { AuditFilter } from '../../vault-server/modules/audit/audit-search.js';
import { allEvents } from '../support/audit-events.js';
import type { Store } from '../../vault-server/store/open-store.js';
import type { StoredAuditEvent } from '../../vault-server/modules/audit/audit-store.js';

async function everyPage(store: Store, f: AuditFilter, order: 'asc' | 'desc'): Promise<number[]> {
  const seqs: number[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await searchAudit(store.db, store.dialect, { ...f, order, limit: 37, ...(cursor ? { cursor } : {}) });
    seqs.push(...page.events.map((e) => e.seq));
    if (!page.hasMore) return seqs;
    cursor = page.nextCursor;
  }
}

forEachStore('audit search plans', ({ open }) => {
  test('a clock step back inside a time window, and globs of more values than MAX_BRANCHES, return exactly the matching events', async () => {
    const store = await open();
    const v = await startTestVault(store);
    try {
      const base = Date.now() + 10_000_000;
      // 600 events, one a second, except that events 300..399 were written with a clock 250 s behind.
      await transaction(store, async (trx) => {
        for (let i = 0; i < 600; i++) {
          const at = base + i * 1000 - (i >= 300 && i < 400 ? 250_000 : 0);
          await appendAudit(trx, store.dialect, {
            actorKind: 'machine', actorId: 'm-1', actorName: 'web-1', action: `act${i % (MAX_BRANCHES + 6)}.done`, target: `secret:p/s${i % (MAX_BRANCHES + 9)}`,
            outcome: 'success', details: { i },
          }, at, v.ctx.auditKeys);
        }
      });
      const events = await allEvents(store.db);
      const cases: Array<{ name: string; f: AuditFilter; keep: (e: StoredAuditEvent) => boolean }> = [
        { name: 'a window the stepped-back events fall into', f: { sinceMs: base + 100_000, untilMs: base + 200_000 }, keep: (e) => e.at >= base + 100_000 && e.at <= base + 200_000 },
        { name: 'since, across the step', f: { sinceMs: base + 120_000 }, keep: (e) => e.at >= base + 120_000 },
        { name: 'until, across the step', f: { untilMs: base + 140_000 }, keep: (e) => e.at <= base + 140_000 },
        { name: 'an action glob of more values than MAX_BRANCHES', f: { action: 'act*.done' }, keep: (e) => /^act\d+\.done$/.test(e.action) },
        { name: 'a target glob of more values than MAX_BRANCHES, with a window', f: { target: 'secret:p/s*', sinceMs: base + 50_000 }, keep: (e) => e.target.startsWith('secret:p/s') && e.at >= base + 50_000 },
        { name: 'a glob with a suffix', f: { action: 'act1*.done' }, keep: (e) => /^act1\d*\.done$/.test(e.action) },
      ];
      for (const c of cases) {
        const want = events.filter(c.keep).map((e) => e.seq);
        assert.ok(want.length > 37, `${c.name}: more than a page (${want.length})`);
        assert.deepEqual(await everyPage(store, c.f, 'asc'), want, `${c.name}, oldest first`);
        assert.deepEqual(await everyPage(store, c.f, 'desc'), [...want].reverse(), `${c.name}, newest first`);
      }
    } finally {
      await v.close();
    }
  });
});
