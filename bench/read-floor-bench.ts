// The store's floor under a signed read on SQLite: what every read must make durable before it is
// answered — its nonce claim and its hash-chained, MAC'd audit event, in a group commit, then the
// WAL's fsync — run through the vault's own code (`writeTx` with a deferred nonce, the batch's
// audit append, the GroupCommitter of a real `buildApp` on a real store) with nothing else: no
// HTTP, no signature, no grants, no decryption. N such jobs are queued at once, so they share
// batches as N concurrent reads would.
//
// Against the `read` bench's verify-only baseline it tells whether the `read` goal can be met at
// all: on one full core a ratio r allows a read at most 1 / (r × verify-only req/s) of CPU, and a
// read costs at least the baseline's own work per request plus this floor.
import { Writable } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { pino } from 'pino';
import { openStore } from '../vault-server/store/open-store.js';
import { initVault, openVault } from '../vault-server/vault-state.js';
import { buildApp } from '../vault-server/app.js';
import { writeTx } from '../vault-server/context.js';
import type { VaultContext } from '../vault-server/context.js';
import type { Caller } from '../vault-server/http/authenticate.js';
import { generateIdentityKey } from '../protocol/keys.js';
import { flag, median, round } from './stats.js';
import { canPin } from './support/child-processes.js';

interface FloorResult {
  concurrent: number;
  reads: number;
  cpu_us_per_read: number;
  rounds_cpu_us_per_read: number[];
}

/** One read's durable work: the nonce claim and the `secret.read` event, as the read path writes them. */
async function durableWork(ctx: VaultContext, keyId: string, nonceHash: string, i: number): Promise<void> {
  const nonce = { keyId, nonceHash, expiresAtUnix: Math.floor(Date.now() / 1000) + 390, taken: false };
  const caller: Caller = { kind: 'machine', id: `machine-${i % 50}`, name: `m-${i % 50}`, keyId, sourceIp: '127.0.0.1' };
  await writeTx(ctx, async (_trx, audit) => {
    await audit({ action: 'secret.read', projectId: 'bench-project', target: 'secret:app/api', outcome: 'success', details: { version: 1 + (i % 3) } }, caller);
  }, { nonce });
}

/** Process CPU (all threads: the fsync on libuv's pool and the WAL checkpointer count too), in µs. */
function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

const USAGE = 'usage: npm run bench -- read-floor [--json] [--reads N ≥ 100] [--reps N] [--concurrent 5,10,50]\n'
  + '  the CPU a signed read\'s durable store work costs on SQLite (nonce claim, audit event, group commit, fsync); docs/benchmarks.md#read-floor-what-a-read-must-make-durable-alone\n';

export async function run(args: string[]): Promise<void> {
  if (args.includes('--help')) {
    process.stdout.write(USAGE);
    return;
  }
  const reads = Number(flag(args, 'reads', '20000'));
  const reps = Number(flag(args, 'reps', '3'));
  const levels = flag(args, 'concurrent', '5,10,50').split(',').map(Number);
  if (!Number.isInteger(reads) || reads < 100 || !Number.isInteger(reps) || reps < 1 || levels.some((n) => !Number.isInteger(n) || n < 1)) {
    process.stderr.write(USAGE);
    process.exit(2);
  }
  // On CPU 0 like the `read` bench's vault, with every thread (-a): libuv's pool, which runs the
  // fsync, and the WAL checkpointer's worker, started later, inherit the main thread's CPU.
  const pinned = canPin() && spawnSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' }).status === 0;
  const dir = mkdtempSync(join(tmpdir(), 'sk-bench-floor-'));
  const store = await openStore({ dataDir: join(dir, 'data') });
  const operator = generateIdentityKey();
  const { rootKey } = await initVault(store, { operatorPublicKey: Buffer.from(operator.publicKey).toString('base64'), operatorName: 'owner' });
  const sink = new Writable({ write(_chunk, _enc, cb) { cb(); } });
  const { app, ctx } = await buildApp({ store, keyring: await openVault(store, rootKey), log: pino({ level: 'info' }, sink), authorities: ['vault.test:8200'] });
  const results: FloorResult[] = [];
  let n = 0;
  const measure = async (concurrent: number, count: number): Promise<number> => {
    // The nonces' hashes are made before the clock starts: the vault has them from verification.
    const hashes = Array.from({ length: count }, () => randomBytes(32).toString('hex'));
    const t = cpuMicros();
    for (let done = 0; done < count; done += concurrent) {
      await Promise.all(hashes.slice(done, done + concurrent).map((h) => durableWork(ctx, 'bench-key', h, n++)));
    }
    return (cpuMicros() - t) / count;
  };
  try {
    await measure(10, Math.min(reads, 2000)); // warm-up: JIT, statement cache, the WAL file
    for (const concurrent of levels) {
      const rounds: number[] = [];
      for (let r = 0; r < reps; r++) rounds.push(await measure(concurrent, reads));
      results.push({ concurrent, reads, cpu_us_per_read: round(median(rounds)), rounds_cpu_us_per_read: rounds.map((x) => round(x)) });
    }
  } finally {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  if (!args.includes('--json')) {
    for (const r of results) process.stdout.write(`read floor, ${r.concurrent} at once: ${r.cpu_us_per_read} µs of vault CPU per read (nonce claim + audit event + group commit + fsync; rounds ${r.rounds_cpu_us_per_read.join(', ')})\n`);
  }
  process.stdout.write(JSON.stringify({ bench: 'read-floor', store: 'sqlite', pinned, reps, results }) + '\n');
}
