/**
 * Streams audit events to a sink as they commit (`serve --audit-sink stdout|file:PATH`, issue 25):
 * one JSON line per event, the shape `audit export --format jsonl` writes (so a sink file can be
 * checked with `audit verify --file`, after removing duplicate lines).
 *
 * Exactly one process ships, however many workers or replicas run: the loop holds the
 * `audit-sink` row of `sweeper_leases` (renewed every pass; another process takes over 30 s after
 * the holder died). Delivery is **at least once**: a page of events is written, then fsynced, and
 * only then does the durable cursor (`audit_sink_cursor`) advance. A crash between the two sends
 * that page again after the restart: duplicates are possible for the last page only, and carry
 * their `seq`. A line torn by a crash mid-write is cut off when the sink is opened again.
 * (The cursor's advance is bookkeeping of the sink, not a vault state change: it is not audited,
 * or every advance would make an event to ship.)
 *
 * @example
 *   startAuditSink(app, ctx, parseAuditSink('file:/var/log/sikkerkey/audit.jsonl'));
 */
import { randomUUID } from 'node:crypto';
import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, renameSync, writeSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { SikkerKeyError } from '../../../protocol/errors.js';
import type { VaultContext } from '../../context.js';
import { acquireLease, releaseLease } from '../machines/machine-sweeper.js';
import { searchAudit } from './audit-search.js';

export type AuditSink = { kind: 'stdout' } | { kind: 'file'; path: string };

export const AUDIT_SINK_LEASE = 'audit-sink';
const HOLDER = `audit-sink-${randomUUID()}`;
const PAGE = 500;
/** A sink file is rotated (PATH → PATH.1 → … PATH.5) when it passes this size. */
export const SINK_FILE_MAX_BYTES = 100 * 1024 * 1024;
const SINK_FILE_KEEP = 5;

/** `stdout` or `file:PATH`; the syslog forms are refused with a pointer to the export. */
export function parseAuditSink(text: string): AuditSink {
  if (text === 'stdout') return { kind: 'stdout' };
  if (text.startsWith('file:') && text.length > 5) return { kind: 'file', path: text.slice(5) };
  if (/^syslog\+(tcp|tls):\/\//.test(text)) {
    throw new SikkerKeyError('SK_ERR_CONFIG', `--audit-sink ${text}: syslog sinks are not in this build yet; use file:PATH (and a log shipper), or \`sikkerkey audit export\``);
  }
  throw new SikkerKeyError('SK_ERR_CONFIG', `--audit-sink ${JSON.stringify(text)}: give stdout or file:PATH`);
}

export function sinkName(sink: AuditSink): string {
  return sink.kind === 'stdout' ? 'stdout' : `file:${sink.path}`;
}

/** An open sink file: torn tail cut, appended to, fsynced on demand, rotated by size. */
class SinkFile {
  #fd: number;
  readonly #path: string;

  constructor(path: string) {
    this.#path = path;
    this.#fd = SinkFile.open(path);
  }

  static open(path: string): number {
    const fd = openSync(path, 'a+', 0o600);
    // A crash mid-write can leave half a line: cut back to the last newline.
    const size = fstatSync(fd).size;
    if (size > 0) {
      const tail = Buffer.alloc(Math.min(size, 1 << 20));
      readSync(fd, tail, 0, tail.length, size - tail.length);
      const nl = tail.lastIndexOf(0x0a);
      const keep = nl < 0 ? size - tail.length : size - tail.length + nl + 1;
      if (keep !== size) {
        ftruncateSync(fd, keep);
        fsyncSync(fd);
      }
    }
    return fd;
  }

  write(text: string): void {
    writeSync(this.#fd, text);
  }

  /** Durable before the cursor moves. */
  sync(): void {
    fsyncSync(this.#fd);
    if (fstatSync(this.#fd).size > SINK_FILE_MAX_BYTES) this.#rotate();
  }

  #rotate(): void {
    closeSync(this.#fd);
    for (let i = SINK_FILE_KEEP - 1; i >= 1; i--) {
      try { renameSync(`${this.#path}.${i}`, `${this.#path}.${i + 1}`); } catch { /* absent */ }
    }
    renameSync(this.#path, `${this.#path}.1`);
    this.#fd = SinkFile.open(this.#path);
  }

  close(): void {
    closeSync(this.#fd);
  }
}

/** Ships what has committed since the cursor, page by page; returns how many events went. */
export async function shipAuditEvents(ctx: VaultContext, sink: AuditSink, out: { write(text: string): void; sync(): void }): Promise<number> {
  const name = sinkName(sink);
  const row = await ctx.store.db.selectFrom('audit_sink_cursor').select('seq').where('sink', '=', name).executeTakeFirst();
  let cursor = Number(row?.seq ?? 0);
  let shipped = 0;
  for (;;) {
    const page = await searchAudit(ctx.store.db, ctx.store.dialect, { afterSeq: cursor, order: 'asc', limit: PAGE });
    if (page.events.length === 0) return shipped;
    out.write(page.events.map((e) => JSON.stringify(e) + '\n').join(''));
    out.sync();
    cursor = page.events.at(-1)!.seq;
    const now = ctx.now();
    await ctx.store.db.insertInto('audit_sink_cursor').values({ sink: name, seq: cursor, updated_at: now })
      .onConflict((oc) => oc.column('sink').doUpdateSet({ seq: cursor, updated_at: now })).execute();
    shipped += page.events.length;
    if (!page.hasMore) return shipped;
  }
}

/** Runs the sink loop in this process: ships every `pollMs` (default 250 ms) while it holds the lease. */
export function startAuditSink(app: FastifyInstance, ctx: VaultContext, sink: AuditSink, opts: { pollMs?: number } = {}): void {
  let file: SinkFile | undefined;
  const out = sink.kind === 'stdout'
    ? { write: (t: string) => { process.stdout.write(t); }, sync: () => undefined }
    : { write: (t: string) => { (file ??= new SinkFile(sink.path)).write(t); }, sync: () => { file?.sync(); } };
  let stopped = false;
  let running: Promise<void> | undefined;
  const pass = async (): Promise<void> => {
    if (!await acquireLease(ctx, AUDIT_SINK_LEASE, HOLDER, 30_000)) return;
    if (sink.kind === 'file') file ??= new SinkFile(sink.path);
    await shipAuditEvents(ctx, sink, out);
  };
  const loop = async (): Promise<void> => {
    while (!stopped) {
      try {
        await pass();
      } catch (err) {
        ctx.log.error({ err: err instanceof Error ? err.message : String(err), sink: sink.kind }, 'audit sink pass failed; retrying');
      }
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 250).unref());
    }
  };
  app.addHook('onReady', async () => { running = loop(); });
  app.addHook('onClose', async () => {
    stopped = true;
    await running;
    await releaseLease(ctx, AUDIT_SINK_LEASE, HOLDER).catch(() => undefined);
    file?.close();
  });
}
