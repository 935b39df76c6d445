// GET /v1/audit pages and filters (issue 25), on both stores: every filter, paged with a small
// page through the opaque cursor in both directions, returns exactly the events the same filter
// selects in plain JavaScript — nothing dropped, nothing repeated — and says when more remain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachStore } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import type { TestVault } from '../support/vault-app.js';
import { codeOf } from '../support/enrollment.js';
import { allEvents, filterCases, matches, writeVariedEvents } from '../support/audit-events.js';
import type { Filter } from '../support/audit-events.js';
import type { StoredAuditEvent } from '../../vault-server/modules/audit/audit-store.js';
import { globMatches } from '../../vault-server/modules/audit/audit-search.js';

interface Page { events: Array<{ seq: number; action: string; severity: string; actorName: string | null; actorNameRecorded: boolean }>; order: string; hasMore: boolean; nextCursor?: string }

function query(f: Filter): URLSearchParams {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) p.set(k, String(v));
  return p;
}

async function pageAll(v: TestVault, f: Filter, order: 'asc' | 'desc', limit: number): Promise<{ seqs: number[]; pages: number }> {
  const seqs: number[] = [];
  let cursor: string | undefined;
  let pages = 0;
  for (;;) {
    const p = query(f);
    p.set('limit', String(limit));
    if (order === 'asc') p.set('order', 'asc');
    if (cursor) p.set('cursor', cursor);
    const res = await v.call(v.operator, 'GET', `/v1/audit?${p.toString()}`);
    assert.equal(res.status, 200, res.raw);
    const body = res.body as Page;
    pages += 1;
    assert.equal(body.order, order);
    assert.ok(body.events.length <= limit);
    seqs.push(...body.events.map((e) => e.seq));
    assert.equal(body.nextCursor !== undefined, body.hasMore, 'a cursor exactly when more remain');
    if (!body.hasMore) return { seqs, pages };
    cursor = body.nextCursor;
  }
}

forEachStore('audit search', ({ openAt, freshLocation }) => {
  const open = async (): Promise<Awaited<ReturnType<typeof openAt>>> => openAt(await freshLocation());
  test('every filter, paged both ways through the cursor, returns exactly the matching events', async () => {
    const store = await open();
    const v = await startTestVault(store);
    try {
      await v.addMachine('legacy-m');
      const legacyId = (await store.db.selectFrom('machines').select('id').where('name', '=', 'legacy-m').executeTakeFirstOrThrow()).id;
      const base = Date.UTC(2026, 0, 1);
      await writeVariedEvents(store, v.ctx.auditKeys, 3000, { base, legacyMachineId: legacyId });
      const all = await allEvents(store.db);
      const currentName = (e: StoredAuditEvent): string | null => (e.actorId === legacyId ? 'legacy-m' : null);
      for (const { name, filter } of filterCases(base)) {
        const expected = all.filter((e) => matches(e, filter, currentName)).map((e) => e.seq);
        assert.ok(expected.length > 0, `${name}: the case selects something`);
        const desc = await pageAll(v, filter, 'desc', 997);
        assert.deepEqual(desc.seqs, [...expected].reverse(), `${name}: newest first`);
        const asc = await pageAll(v, filter, 'asc', 997);
        assert.deepEqual(asc.seqs, expected, `${name}: oldest first`);
        assert.ok(asc.pages >= Math.ceil(expected.length / 997), `${name}: pages`);
      }
      assert.equal(((await v.call(v.operator, 'GET', '/v1/audit/verify')).body as { ok: boolean }).ok, true);
    } finally {
      await v.close();
    }
  });

  test('listing: newest first by default, severity and recorded names shown, hasMore when a page is full; bad cursors are 400 SK_ERR_AUDIT_CURSOR', async () => {
    const store = await open();
    const v = await startTestVault(store);
    try {
      await v.call(v.operator, 'POST', '/v1/projects', { name: 'shop' });
      await v.call(v.operator, 'POST', '/v1/projects', { name: 'shop2' });
      const res = await v.call(v.operator, 'GET', '/v1/audit?limit=2');
      const body = res.body as Page;
      assert.equal(body.order, 'desc');
      assert.deepEqual(body.events.map((e) => e.action), ['project.create', 'project.create']);
      assert.ok(body.events[0]!.seq > body.events[1]!.seq);
      assert.equal(body.events[0]!.actorName, 'owner');
      assert.equal(body.events[0]!.actorNameRecorded, true);
      assert.equal(body.events[0]!.severity, 'info');
      assert.equal(body.hasMore, true, 'vault.init and more are older');
      const next = await v.call(v.operator, 'GET', `/v1/audit?limit=100&cursor=${body.nextCursor!}`);
      assert.equal((next.body as Page).events[0]!.seq, body.events[1]!.seq - 1, 'the next page starts right after the last shown');
      for (const bad of ['nope', 'YTEuZC4-', Buffer.from('a1.d.99999999999999999').toString('base64url'), 'x'.repeat(65)]) {
        const r = await v.call(v.operator, 'GET', `/v1/audit?cursor=${bad}`);
        assert.equal(r.status, 400, r.raw);
        assert.ok(['SK_ERR_AUDIT_CURSOR', 'SK_ERR_VALIDATION'].includes(codeOf(r) ?? ''), r.raw);
      }
      assert.equal(codeOf(await v.call(v.operator, 'GET', '/v1/audit?cursor=nope')), 'SK_ERR_AUDIT_CURSOR');
      for (const q of ['actor=robot:x', 'actor=machine:', 'outcome=maybe', 'severity=loud', 'order=up', 'limit=0', 'limit=10001']) {
        const r = await v.call(v.operator, 'GET', `/v1/audit?${q}`);
        assert.equal(r.status, 400, `${q}: ${r.raw}`);
        assert.equal(codeOf(r), 'SK_ERR_VALIDATION', q);
      }
    } finally {
      await v.close();
    }
  });

  test('an event keeps the actor name it was written with after the actor is removed', async () => {
    const store = await open();
    const v = await startTestVault(store);
    try {
      const m = await v.addMachine('reader-1');
      await v.call(v.operator, 'POST', '/v1/projects', { name: 'shop' });
      await v.call(v.operator, 'PUT', '/v1/projects/shop/secrets/db', { value: 'x-value-1' });
      await v.call(v.operator, 'POST', '/v1/grants', { machine: 'reader-1', project: 'shop' });
      assert.equal((await v.call(m, 'GET', '/v1/projects/shop/secrets/db')).status, 200);
      const removed = await v.call(v.operator, 'DELETE', '/v1/machines/reader-1');
      assert.ok(removed.status < 300, removed.raw);
      const res = await v.call(v.operator, 'GET', '/v1/audit?actor=machine:reader-1&action=secret.read');
      const events = (res.body as Page).events;
      assert.equal(events.length, 1, res.raw);
      assert.deepEqual([events[0]!.actorName, events[0]!.actorNameRecorded], ['reader-1', true]);
      assert.equal(((await v.call(v.operator, 'GET', '/v1/audit/verify')).body as { ok: boolean }).ok, true);
    } finally {
      await v.close();
    }
  });
});

test('glob matching is linear: `*` runs any characters, everything else is literal, and a pattern of many stars cannot stall the vault', () => {
  assert.equal(globMatches('secret:shop/*', 'secret:shop/db'), true);
  assert.equal(globMatches('secret:*/db', 'secret:shop/db'), true);
  assert.equal(globMatches('*db', 'secret:shop/db'), true);
  assert.equal(globMatches('secret:*/db', 'secret:shop/dbx'), false);
  assert.equal(globMatches('a.c', 'abc'), false, 'a dot is literal');
  assert.equal(globMatches('', ''), true);
  assert.equal(globMatches('*', ''), true);
  assert.equal(globMatches('a*b*c', 'aXbYc'), true);
  assert.equal(globMatches('a*b*c', 'aXbY'), false);
  // The pattern that froze the event loop as a RegExp (seconds per extra star); here a few thousand steps.
  assert.equal(globMatches(`${'*'.repeat(40)}#`, 'x'.repeat(48)), false);
});
