// `serve --audit-sink file:PATH` (issue 25, "Done when" 3): the vault is killed with SIGKILL during
// a burst of 1,000 audited writes; after a restart every event of the chain is in the sink file,
// and the only duplicates are one page's worth (at-least-once: fsync, then the cursor moves).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVaultProcess } from '../support/vault-process.js';
import type { VaultProcess } from '../support/vault-process.js';
import { VaultClient } from '../../protocol/client.js';
import { parseAuditSink, sinkRetryDelayMs, SINK_RETRY_MAX_MS } from '../../vault-server/modules/audit/audit-sink.js';
import { isSikkerKeyError } from '../../protocol/errors.js';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';

const dir = mkdtempSync(join(tmpdir(), 'sk-sink-'));
let v: VaultProcess | undefined;
after(async () => {
  await v?.close();
  rmSync(dir, { recursive: true, force: true });
});

function sinkSeqs(path: string): { seqs: number[]; torn: number } {
  if (!existsSync(path)) return { seqs: [], torn: 0 };
  const seqs: number[] = [];
  let torn = 0;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line === '') continue;
    try {
      seqs.push((JSON.parse(line) as { seq: number }).seq);
    } catch {
      torn += 1;
    }
  }
  return { seqs, torn };
}

test('a failing sink backs off: 250 ms doubling per failed pass, never more than 30 s apart', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8, 50, 10_000].map((n) => sinkRetryDelayMs(250, n)), [250, 500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  assert.equal(sinkRetryDelayMs(250, 8), SINK_RETRY_MAX_MS);
});

test('--audit-sink accepts stdout, file:PATH, syslog+tcp:// and syslog+tls://; anything else is SK_ERR_CONFIG', () => {
  assert.deepEqual(parseAuditSink('stdout'), { kind: 'stdout' });
  assert.deepEqual(parseAuditSink('file:/x/y.jsonl'), { kind: 'file', path: '/x/y.jsonl' });
  assert.deepEqual(parseAuditSink('syslog+tcp://siem.example:514'), { kind: 'syslog', tls: false, host: 'siem.example', port: 514 });
  assert.deepEqual(parseAuditSink('syslog+tls://[::1]:6514'), { kind: 'syslog', tls: true, host: '::1', port: 6514 });
  for (const bad of ['file:', 'syslog+udp://h:514', 'syslog+tcp://h', 'syslog+tcp://h:99999', 'http://x']) {
    assert.throws(() => parseAuditSink(bad), (err: unknown) => isSikkerKeyError(err, 'SK_ERR_CONFIG'), bad);
  }
});

test('syslog+tcp: every event arrives as one RFC 5424 message, octet-counted, severity in PRI, action as MSGID, seq in structured data', { timeout: 120_000 }, async () => {
  const frames: string[] = [];
  let buffered = Buffer.alloc(0);
  const server = createServer((sock) => {
    sock.on('data', (d: Buffer) => {
      buffered = Buffer.concat([buffered, d]);
      for (;;) {
        const sp = buffered.indexOf(0x20);
        if (sp < 0) break;
        const len = Number(buffered.subarray(0, sp).toString('ascii'));
        if (buffered.length < sp + 1 + len) break;
        frames.push(buffered.subarray(sp + 1, sp + 1 + len).toString('utf8'));
        buffered = buffered.subarray(sp + 1 + len);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const sv = await startVaultProcess({ args: ['--audit-sink', `syslog+tcp://127.0.0.1:${port}`] });
  try {
    const client = new VaultClient({ url: sv.url, keyFile: sv.opKey });
    await client.request('POST', '/v1/projects', { name: 'shop' });
    await client.request('POST', '/v1/projects/shop/unlock', { reason: 'syslog test' });
    const deadline = Date.now() + 60_000;
    while (!frames.some((f) => f.includes(' project.unlock '))) {
      if (Date.now() > deadline) throw new Error(`no project.unlock frame; got ${frames.length}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const seqs = frames.map((f) => Number(/ seq="(\d+)"/.exec(f)?.[1]));
    assert.deepEqual(seqs, seqs.map((_, i) => i + 1), 'every event, in order, once');
    const create = frames.find((f) => f.includes(' project.create '))!;
    assert.match(create, /^<134>1 \d{4}-\d{2}-\d{2}T[\d:.]+Z \S+ sikkerkey \d+ project\.create \[sikkerkey@32473 seq="\d+" outcome="success" actor="operator:owner" target="project:shop" ip="127\.0\.0\.1"\] \ufeff\{/);
    const body = JSON.parse(create.slice(create.indexOf('\ufeff') + 1)) as { action: string; hash: string };
    assert.equal(body.action, 'project.create');
    assert.match(body.hash, /^[0-9a-f]{64}$/);
  } finally {
    await sv.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('kill -9 during a burst of 1,000 events: after the restart every event is at the file sink, duplicates only within one page', { timeout: 300_000 }, async () => {
  const sink = join(dir, 'audit.jsonl');
  const args = ['--audit-sink', `file:${sink}`];
  v = await startVaultProcess({ args });
  const client = new VaultClient({ url: v.url, keyFile: v.opKey });
  assert.equal((await client.request('POST', '/v1/projects', { name: 'p' })).status, 201);

  let acked = 0;
  let next = 0;
  let killed = false;
  const worker = async (): Promise<void> => {
    while (next < 1000) {
      const i = next++;
      try {
        await client.request('PUT', `/v1/projects/p/secrets/s${i}`, { value: `value-${i}` });
        acked += 1;
        if (acked === 400 && !killed) {
          killed = true;
          await v!.proc.stop('SIGKILL');
        }
      } catch {
        if (!killed) throw new Error('a write failed before the kill');
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  assert.ok(killed && acked >= 400, `killed after ${acked} writes`);
  const before = sinkSeqs(sink);
  await v.restart({ args });

  // The restarted leader ships the rest: wait (bounded) until the sink holds the whole chain.
  const headSeq = async (): Promise<number> => ((await client.request<{ events: Array<{ seq: number }> }>('GET', '/v1/audit?limit=1')).body.events[0]!.seq);
  const deadline = Date.now() + 120_000;
  let got = sinkSeqs(sink);
  let head = await headSeq();
  while (new Set(got.seqs).size < head) {
    if (Date.now() > deadline) throw new Error(`the sink holds ${new Set(got.seqs).size} distinct events of ${head}`);
    await new Promise((r) => setTimeout(r, 200));
    got = sinkSeqs(sink);
    head = await headSeq();
  }
  assert.equal(got.torn, 0, 'no torn line survives a restart');
  const distinct = new Set(got.seqs);
  for (let s = 1; s <= head; s++) assert.ok(distinct.has(s), `event ${s} is missing from the sink`);
  assert.ok(head >= acked + 2, `every acknowledged write is an event (head ${head}, acked ${acked})`);
  const counts = new Map<number, number>();
  for (const s of got.seqs) counts.set(s, (counts.get(s) ?? 0) + 1);
  const dup = [...counts].filter(([, n]) => n > 1).map(([s]) => s);
  if (dup.length > 0) {
    assert.ok(Math.max(...dup) - Math.min(...dup) < 500, `duplicates span one page at most: ${Math.min(...dup)}..${Math.max(...dup)}`);
    assert.ok(dup.every((s) => before.seqs.includes(s)), 'a duplicate is an event written before the kill and sent again');
  }
  console.log(`sink: ${head} events, ${before.seqs.length} before the kill, ${dup.length} duplicates`);
});
