/**
 * Streams audit events to a sink as they commit (`serve --audit-sink stdout|file:PATH|
 * syslog+tcp://HOST:PORT|syslog+tls://HOST:PORT`, issue 25): one JSON line per event, the shape
 * `audit export --format jsonl` writes (so a sink file can be checked with `audit verify --file`,
 * after removing duplicate lines); for syslog that line is the MSG of an RFC 5424 message.
 *
 * Exactly one process ships, however many workers or replicas run: the loop holds the
 * `audit-sink` row of `sweeper_leases` (renewed before every page; another process takes over
 * 30 s after the holder died). Delivery is **at least once**: a page of events is written, then
 * fsynced, and only then does the durable cursor (`audit_sink_cursor`) advance, never backwards. A
 * crash between the two sends that page again after the restart: duplicates are possible for the
 * last page only, and carry their `seq`. A line torn by a crash mid-write is cut off when the sink
 * is opened again. Syslog has no acknowledgement: the cursor advances once the kernel took the
 * bytes, so a connection reset right after can lose that page (best effort, as syslog over TCP is).
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
import type { AuditEventView } from './audit-search.js';
import { connect as netConnect, isIP } from 'node:net';
import type { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { hostname } from 'node:os';

/** `ca` (syslog+tls, `--audit-sink-ca`): the PEM CA the receiver's certificate must chain to, instead of the system CAs. */
export type AuditSink = { kind: 'stdout' } | { kind: 'file'; path: string } | { kind: 'syslog'; tls: boolean; host: string; port: number; ca?: string };

export const AUDIT_SINK_LEASE = 'audit-sink';
const HOLDER = `audit-sink-${randomUUID()}`;
const PAGE = 500;
/** A sink file is rotated (PATH → PATH.1 → … PATH.5) when it passes this size. */
export const SINK_FILE_MAX_BYTES = 100 * 1024 * 1024;
const SINK_FILE_KEEP = 5;

/** `stdout`, `file:PATH`, `syslog+tcp://HOST:PORT` or `syslog+tls://HOST:PORT`. */
export function parseAuditSink(text: string): AuditSink {
  if (text === 'stdout') return { kind: 'stdout' };
  if (text.startsWith('file:') && text.length > 5) return { kind: 'file', path: text.slice(5) };
  const m = /^syslog\+(tcp|tls):\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
  if (m && Number(m[3]) >= 1 && Number(m[3]) <= 65535) return { kind: 'syslog', tls: m[1] === 'tls', host: m[2]!.replace(/^\[|\]$/g, ''), port: Number(m[3]) };
  throw new SikkerKeyError('SK_ERR_CONFIG', `--audit-sink ${JSON.stringify(text)}: give stdout, file:PATH, syslog+tcp://HOST:PORT or syslog+tls://HOST:PORT (or use \`sikkerkey audit export\`)`);
}

export function sinkName(sink: AuditSink): string {
  if (sink.kind === 'syslog') return `syslog+${sink.tls ? 'tls' : 'tcp'}://${sink.host}:${sink.port}`;
  return sink.kind === 'stdout' ? 'stdout' : `file:${sink.path}`;
}

const SYSLOG_SEVERITY = { critical: 2, warning: 4, info: 6 } as const;
/** local0 */
const SYSLOG_FACILITY = 16;

function sdValue(v: string): string {
  return v.replace(/[\\"\]]/g, (c) => `\\${c}`);
}

/**
 * One RFC 5424 message, framed by octet counting (RFC 6587 §3.4.1): PRI from the event's
 * severity (local0), its time, this host, app `sikkerkey`, MSGID the action, structured data
 * `[sikkerkey@32473 seq= outcome= actor= target= ip=]` and the event's JSON line as MSG.
 */
export function syslogFrame(e: AuditEventView): Buffer {
  const pri = SYSLOG_FACILITY * 8 + SYSLOG_SEVERITY[e.severity];
  const msgid = e.action.replace(/[^\x21-\x7e]/g, '_').slice(0, 32) || '-';
  const sd = `[sikkerkey@32473 seq="${e.seq}" outcome="${sdValue(e.outcome)}" actor="${sdValue(`${e.actorKind}:${e.actorName ?? e.actorId ?? '-'}`)}" target="${sdValue(e.target)}" ip="${sdValue(e.sourceIp ?? '-')}"]`;
  const msg = Buffer.from(`<${pri}>1 ${new Date(e.at).toISOString()} ${hostname().replace(/[^\x21-\x7e]/g, '_').slice(0, 255) || '-'} sikkerkey ${process.pid} ${msgid} ${sd} \ufeff${JSON.stringify(e)}`, 'utf8');
  return Buffer.concat([Buffer.from(`${msg.length} `, 'ascii'), msg]);
}

/** A syslog connection, opened on demand; a broken one is dropped and re-opened on the next pass. */
class SyslogOut {
  #socket: Socket | undefined;
  readonly #sink: Extract<AuditSink, { kind: 'syslog' }>;

  constructor(sink: Extract<AuditSink, { kind: 'syslog' }>) {
    this.#sink = sink;
  }

  async #connect(): Promise<Socket> {
    if (this.#socket && !this.#socket.destroyed) return this.#socket;
    const { host, port, ca } = this.#sink;
    let socket: Socket;
    try {
      socket = await new Promise<Socket>((resolve, reject) => {
        // The certificate is verified (rejectUnauthorized is node's default) for the host named.
        const s: Socket = this.#sink.tls
          ? tlsConnect({ host, port, servername: isIP(host) ? undefined : host, ...(ca !== undefined ? { ca } : {}) }, () => resolve(s))
          : netConnect({ host, port }, () => resolve(s));
        s.once('error', (err) => { s.destroy(); reject(err); });
      });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new SikkerKeyError('SK_ERR_AUDIT_SINK', `cannot deliver to the audit sink ${sinkName(this.#sink)}: ${e.code ?? 'error'}: ${e.message}`);
    }
    socket.on('error', () => socket.destroy());
    socket.setKeepAlive(true);
    this.#socket = socket;
    return socket;
  }

  /** Resolves once the frames were handed to the kernel: syslog has no acknowledgements. */
  async send(events: AuditEventView[]): Promise<void> {
    const socket = await this.#connect();
    const data = Buffer.concat(events.map(syslogFrame));
    await new Promise<void>((resolve, reject) => socket.write(data, (err) => (err ? reject(err) : resolve())));
  }

  close(): void {
    this.#socket?.destroy();
  }
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

/**
 * Ships what has committed since the cursor, page by page; returns how many events went.
 * `renew`, before every page after the first: whether this process still holds the sink's lease
 * (renewing it). A long backlog or a slow receiver outlasts one lease; without renewing, a second
 * process took the lease mid-pass and shipped the same pages. The cursor only ever moves forward:
 * a process that lost the race cannot move it back.
 */
export async function shipAuditEvents(ctx: VaultContext, sink: AuditSink, out: { send(events: AuditEventView[]): Promise<void> }, opts: { renew?: () => Promise<boolean> } = {}): Promise<number> {
  const name = sinkName(sink);
  const row = await ctx.store.db.selectFrom('audit_sink_cursor').select('seq').where('sink', '=', name).executeTakeFirst();
  let cursor = Number(row?.seq ?? 0);
  let shipped = 0;
  for (;;) {
    if (shipped > 0 && opts.renew && !await opts.renew()) return shipped;
    const page = await searchAudit(ctx.store.db, ctx.store.dialect, { afterSeq: cursor, order: 'asc', limit: PAGE });
    if (page.events.length === 0) return shipped;
    await out.send(page.events);
    cursor = page.events.at(-1)!.seq;
    const now = ctx.now();
    await ctx.store.db.insertInto('audit_sink_cursor').values({ sink: name, seq: cursor, updated_at: now })
      .onConflict((oc) => oc.column('sink').doUpdateSet({ seq: cursor, updated_at: now }).where('audit_sink_cursor.seq', '<', cursor)).execute();
    shipped += page.events.length;
    if (!page.hasMore) return shipped;
  }
}

/** The longest wait between two attempts of a failing sink. */
export const SINK_RETRY_MAX_MS = 30_000;

/** The wait after the `failures`-th failed pass in a row: pollMs doubled per failure, capped. */
export function sinkRetryDelayMs(pollMs: number, failures: number): number {
  return Math.min(SINK_RETRY_MAX_MS, pollMs * 2 ** Math.min(failures - 1, 16));
}

/** Runs the sink loop in this process: ships every `pollMs` (default 250 ms) while it holds the lease. */
export function startAuditSink(app: FastifyInstance, ctx: VaultContext, sink: AuditSink, opts: { pollMs?: number } = {}): void {
  let file: SinkFile | undefined;
  const syslog = sink.kind === 'syslog' ? new SyslogOut(sink) : undefined;
  const lines = (events: AuditEventView[]): string => events.map((e) => JSON.stringify(e) + '\n').join('');
  const out = {
    send: async (events: AuditEventView[]): Promise<void> => {
      if (sink.kind === 'stdout') {
        process.stdout.write(lines(events));
      } else if (sink.kind === 'file') {
        file ??= new SinkFile(sink.path);
        file.write(lines(events));
        file.sync();
      } else {
        await syslog!.send(events);
      }
    },
  };
  let stopped = false;
  let running: Promise<void> | undefined;
  const pass = async (): Promise<void> => {
    const lease = (): Promise<boolean> => acquireLease(ctx, AUDIT_SINK_LEASE, HOLDER, 30_000);
    if (!await lease()) return;
    if (sink.kind === 'file') file ??= new SinkFile(sink.path);
    await shipAuditEvents(ctx, sink, out, { renew: lease });
  };
  // A sink that keeps failing (a receiver down, a certificate refused) is retried with backoff —
  // pollMs doubling up to SINK_RETRY_MAX_MS — and logged once per attempt, so the log does not
  // fill at 4 lines a second; the first pass that ships again says how long it was down.
  const pollMs = opts.pollMs ?? 250;
  const loop = async (): Promise<void> => {
    let failures = 0;
    let failingSince = 0;
    while (!stopped) {
      let waitMs = pollMs;
      try {
        await pass();
        if (failures > 0) ctx.log.info({ sink: sink.kind, failedPasses: failures, downMs: Date.now() - failingSince }, 'audit sink shipping again');
        failures = 0;
      } catch (err) {
        if (failures === 0) failingSince = Date.now();
        failures += 1;
        waitMs = sinkRetryDelayMs(pollMs, failures);
        ctx.log.error({ code: err instanceof SikkerKeyError ? err.code : undefined, err: err instanceof Error ? err.message : String(err), sink: sink.kind, failedPasses: failures, retryInMs: waitMs }, 'audit sink pass failed; retrying');
      }
      await new Promise((r) => setTimeout(r, waitMs).unref());
    }
  };
  app.addHook('onReady', async () => { running = loop(); });
  app.addHook('onClose', async () => {
    stopped = true;
    await running;
    await releaseLease(ctx, AUDIT_SINK_LEASE, HOLDER).catch(() => undefined);
    file?.close();
    syslog?.close();
  });
}
