// The audit sink's pass over a long backlog: it renews the sink lease before every page and stops
// when another process holds it, and the durable cursor never moves backwards (a process that lost
// the lease mid-page cannot undo another's progress). In-process: shipAuditEvents with a recording
// stand-in for the sink's output.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { forEachStore } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import type { TestVault } from '../support/vault-app.js';
import { writeTx } from '../../vault-server/context.js';
import { shipAuditEvents, sinkName } from '../../vault-server/modules/audit/audit-sink.js';
import type { AuditEventView } from '../../vault-server/modules/audit/audit-search.js';

forEachStore('audit sink lease and cursor', (s) => {
  let v: TestVault;
  const sink = { kind: 'file' as const, path: '/nonexistent/sink-lease-test.jsonl' };
  const cursor = async (): Promise<number> =>
    Number((await v.ctx.store.db.selectFrom('audit_sink_cursor').select('seq').executeTakeFirst())?.seq ?? 0);

  before(async () => {
    v = await startTestVault(await s.open());
    // A backlog of more than two pages (500 events each).
    await Promise.all(Array.from({ length: 1_100 }, (_, i) => writeTx(v.ctx, (_trx, audit) => audit({ action: 'test.event', target: `t:${i}`, outcome: 'success' }))));
  });
  after(async () => v.close());

  test('a pass stops after the page during which it lost the sink lease', async () => {
    const pages: number[] = [];
    let renewals = 0;
    const shipped = await shipAuditEvents(v.ctx, sink, { send: async (events: AuditEventView[]) => { pages.push(events.length); } }, {
      renew: async () => (renewals += 1) < 2, // held for the second page, lost before the third
    });
    assert.deepEqual(pages, [500, 500]);
    assert.equal(shipped, 1_000);
    assert.equal(renewals, 2);
    const at = await cursor();
    assert.ok(at > 0);
    // The next holder goes on from the cursor: nothing twice, nothing missed.
    const rest: AuditEventView[] = [];
    await shipAuditEvents(v.ctx, sink, { send: async (events) => { rest.push(...events); } }, { renew: async () => true });
    assert.ok(rest.length > 0 && rest.every((e) => e.seq > at));
  });

  test('the cursor never moves backwards: a page a slower process ships late does not undo a newer cursor', async () => {
    await v.ctx.store.db.deleteFrom('audit_sink_cursor').execute();
    const ahead = Number.MAX_SAFE_INTEGER - 1;
    // While this pass sends its first page, another process records a cursor far ahead.
    await shipAuditEvents(v.ctx, sink, {
      send: async () => {
        await v.ctx.store.db.insertInto('audit_sink_cursor').values({ sink: sinkName(sink), seq: ahead, updated_at: Date.now() })
          .onConflict((oc) => oc.column('sink').doUpdateSet({ seq: ahead })).execute();
      },
    }, { renew: async () => false });
    assert.equal(await cursor(), ahead);
  });
});
