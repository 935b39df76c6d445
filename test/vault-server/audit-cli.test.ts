// `sikkerkey audit list|export|verify --file` against a served vault (SQLite) holding 5,000
// varied events (issue 25, "Done when" 1 and 2): every filter, newest first and oldest first,
// returns exactly the expected set through the CLI; a listing that stops early says so; a JSONL
// export verifies offline (with a signed checkpoint) and an edited or reordered line fails it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jsonOf, runBin } from '../support/processes.js';
import { startVaultProcess } from '../support/vault-process.js';
import type { VaultProcess } from '../support/vault-process.js';
import { allEvents, filterCases, matches, writeVariedEvents } from '../support/audit-events.js';
import type { Filter } from '../support/audit-events.js';
import { openStore } from '../../vault-server/store/open-store.js';
import { openVaultWithAudit } from '../../vault-server/vault-state.js';
import type { StoredAuditEvent } from '../../vault-server/modules/audit/audit-store.js';

let v: VaultProcess | undefined;
after(async () => { await v?.close(); });

function flags(f: Filter): string[] {
  const out: string[] = [];
  for (const [k, val] of Object.entries(f)) out.push(`--${k}`, k === 'since' || k === 'until' ? new Date(val as number).toISOString() : String(val));
  return out;
}

test('5,000 events: audit list --all, newest and oldest first, with and without each filter; export, verify --file', { timeout: 600_000 }, async () => {
  v = await startVaultProcess();
  const sk = async <T>(...args: string[]): Promise<T> => jsonOf<T>(await v!.sk([...args, '--json']));
  const machineKey = jsonOf<{ publicKey: string }>(await runBin('sikkerkey', ['keygen', '--out', join(v.dir, 'm.key'), '--json']));
  await sk('machine', 'add', 'legacy-m', '--public-key', machineKey.publicKey);

  // The events are written the way the vault writes them, while it is stopped (one transaction).
  await v.proc.stop('SIGTERM');
  const store = await openStore({ dataDir: join(v.dir, 'data') });
  let all: StoredAuditEvent[];
  let legacyId: string;
  const base = Date.UTC(2026, 0, 1);
  try {
    const { auditKeys } = await openVaultWithAudit(store, Buffer.from(readFileSync(join(v.dir, 'root.key'), 'utf8').trim(), 'base64'));
    legacyId = (await store.db.selectFrom('machines').select('id').where('name', '=', 'legacy-m').executeTakeFirstOrThrow()).id;
    await writeVariedEvents(store, auditKeys, 5000, { base, legacyMachineId: legacyId });
    all = await allEvents(store.db);
  } finally {
    await store.close();
  }
  assert.ok(all.length > 5000);
  await v.restart();
  const currentName = (e: StoredAuditEvent): string | null => (e.actorId === legacyId ? 'legacy-m' : null);

  type Listing = { events: Array<{ seq: number }>; order: string; hasMore: boolean; nextCursor?: string };
  for (const { name, filter } of filterCases(base)) {
    const expected = all.filter((e) => matches(e, filter, currentName)).map((e) => e.seq);
    assert.ok(expected.length > 0, `${name}: the case selects something`);
    const newest = await sk<Listing>('audit', 'list', '--all', ...flags(filter));
    assert.deepEqual(newest.events.map((e) => e.seq), [...expected].reverse(), `${name}: newest first`);
    assert.equal(newest.hasMore, false);
    const oldest = await sk<Listing>('audit', 'list', '--all', '--reverse', ...flags(filter));
    assert.deepEqual(oldest.events.map((e) => e.seq), expected, `${name}: oldest first`);
  }

  // Without --all a listing shows one page and says that more remain, with the cursor to go on.
  const page = await sk<Listing>('audit', 'list', '--limit', '100');
  assert.equal(page.events.length, 100);
  assert.equal(page.events[0]!.seq, all.at(-1)!.seq, 'newest first by default');
  assert.equal(page.hasMore, true);
  const human = await v.sk(['audit', 'list', '--limit', '100']);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /\(100 shown; more events match: add --all, or continue with --cursor \S+\)/);
  const rest = await sk<Listing>('audit', 'list', '--all', '--cursor', page.nextCursor!);
  assert.deepEqual([...page.events, ...rest.events].map((e) => e.seq), all.map((e) => e.seq).reverse(), 'the cursor continues where the page stopped');
  const bad = await v.sk(['audit', 'list', '--outcome', 'maybe']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^error SK_ERR_USAGE: /);

  // Export: a checkpoint first, then the export through it.
  const cpFile = join(v.dir, 'head.json');
  const head = await v.sk(['audit', 'head', '--json']);
  writeFileSync(cpFile, head.stdout);
  const exported = await v.sk(['audit', 'export', '--format', 'jsonl']);
  assert.equal(exported.code, 0, exported.stderr);
  const lines = exported.stdout.trimEnd().split('\n');
  assert.equal(lines.length, all.length);
  const file = join(v.dir, 'export.jsonl');
  writeFileSync(file, exported.stdout);
  const ok = jsonOf<{ ok: boolean; events: number; gaps: number; provenFrom?: number; checkpoint?: { ok: boolean } }>(await runBin('sikkerkey', ['audit', 'verify', '--file', file, '--checkpoint', cpFile, '--json']));
  assert.deepEqual([ok.ok, ok.events, ok.gaps, ok.provenFrom, ok.checkpoint?.ok], [true, all.length, 0, 1, true]);

  const edited = [...lines];
  const victim = JSON.parse(edited[2500]!) as { target: string };
  victim.target = 'secret:shop/innocent';
  edited[2500] = JSON.stringify(victim);
  writeFileSync(file, edited.join('\n') + '\n');
  const broken = await runBin('sikkerkey', ['audit', 'verify', '--file', file, '--json']);
  assert.equal(broken.code, 3);
  const report = JSON.parse(broken.stdout) as { ok: boolean; firstBad: { line: number; reason: string } };
  assert.deepEqual([report.ok, report.firstBad.line], [false, 2501]);
  assert.match(report.firstBad.reason, /edited/);

  const swapped = [...lines];
  [swapped[10], swapped[11]] = [swapped[11]!, swapped[10]!];
  writeFileSync(file, swapped.join('\n') + '\n');
  assert.equal((await runBin('sikkerkey', ['audit', 'verify', '--file', file])).code, 3, 'a reordered export fails');
  writeFileSync(file, lines.filter((_, i) => i !== 7).join('\n') + '\n');
  const dropped = await runBin('sikkerkey', ['audit', 'verify', '--file', file, '--checkpoint', cpFile, '--json']);
  const droppedReport = JSON.parse(dropped.stdout) as { ok: boolean; gaps: number; provenFrom: number };
  assert.deepEqual([droppedReport.ok, droppedReport.gaps, droppedReport.provenFrom], [true, 1, 9], 'a dropped line is a gap: the signature proves only the run after it');

  // A filtered export verifies event by event; CSV has a header and one row per event.
  const filtered = await v.sk(['audit', 'export', '--format', 'jsonl', '--action', 'rotation.*']);
  writeFileSync(file, filtered.stdout);
  const fr = jsonOf<{ ok: boolean; events: number; gaps: number }>(await runBin('sikkerkey', ['audit', 'verify', '--file', file, '--json']));
  assert.equal(fr.ok, true);
  assert.equal(fr.events, all.filter((e) => e.action.startsWith('rotation.')).length);
  assert.ok(fr.gaps > 0);
  const csv = await v.sk(['audit', 'export', '--format', 'csv', '--severity', 'critical']);
  const rows = csv.stdout.trimEnd().split('\n');
  assert.equal(rows[0], 'seq,time,severity,actor_kind,actor_id,actor_name,action,project_id,target,outcome,source_ip,details,hash,mac');
  assert.equal(rows.length - 1, all.filter((e) => matches(e, { severity: 'critical' }, currentName)).length);
  assert.ok(rows.slice(1).every((r) => r.split(',')[2] === 'critical'));
});
