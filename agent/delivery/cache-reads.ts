/**
 * Cache-served reads, remembered and reported: every read the offline cache serves is recorded in
 * a journal next to the cache (`reads.skj`, encrypted under the cache key like every entry, 0600:
 * it names secrets, never values), grouped by secret and version with a count and the first and
 * last time served. When the vault can be reached again the groups are sealed into reports of at
 * most 100, each with a random id written to the journal BEFORE it is sent, and posted to
 * `POST /v1/agent/cache-reads`; a report leaves the journal only when the vault has accepted it.
 * A retry after a lost answer carries the same id, and the vault records each id once, so a read
 * is never audited twice (and never lost to a crash: the journal is written, fsynced and renamed
 * before the value is handed over).
 *
 * Processes that share one cacheDir at the same time (exec beside run) each rewrite the journal
 * whole: a record can be lost to that race, never a value leaked.
 *
 * @example
 *   const journal = new CacheReadJournal({ dir, key, now: Date.now });
 *   journal.record(value);                                  // when the cache served it
 *   new CacheReadReporter({ journal, client, log }).kick(); // when the vault answered again
 */
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isSikkerKeyError } from '../../protocol/errors.js';
import type { SecretValue, VaultClient } from '../../protocol/client.js';
import { writeFileAtomic } from './atomic-file.js';
import type { DeliveryLog } from './secret-follower.js';

const FORMAT = 'sikkerkey-cache-reads/v1';
/** Reads per report: the vault's limit for one request body. */
export const REPORT_MAX_READS = 100;
const RETRY_FIRST_MS = 5000;
const RETRY_MAX_MS = 300_000;
/** A report's own deadline: a vault that does not answer must not hold an exiting `--once` long. */
const REPORT_TIMEOUT_MS = 5000;

/** One secret version served from the cache, `count` times between the two instants (ms). */
export interface CachedReadGroup {
  project: string;
  name: string;
  version: number;
  /** The granted fields the served value held (a structured secret); names only. */
  fields?: string[];
  count: number;
  firstServedAt: number;
  lastServedAt: number;
}

interface JournalDoc {
  open: CachedReadGroup[];
  sealed: Array<{ reportId: string; reads: CachedReadGroup[] }>;
}

export class CacheReadJournal {
  private readonly file: string;
  private readonly now: () => number;

  constructor(private readonly opts: { dir: string; key: Buffer; now?: () => number }) {
    this.file = join(opts.dir, 'reads.skj');
    this.now = opts.now ?? Date.now;
  }

  /** The journal, or an empty one when there is none (or it does not decrypt: another key, edited). */
  read(): JournalDoc {
    const empty = { open: [], sealed: [] };
    let doc: { format?: string; iv?: string; tag?: string; ct?: string };
    try {
      doc = JSON.parse(readFileSync(this.file, 'utf8')) as typeof doc;
    } catch {
      return empty;
    }
    if (doc.format !== FORMAT || !doc.iv || !doc.tag || !doc.ct) return empty;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.opts.key, Buffer.from(doc.iv, 'base64'));
      decipher.setAAD(Buffer.from(FORMAT));
      decipher.setAuthTag(Buffer.from(doc.tag, 'base64'));
      return JSON.parse(Buffer.concat([decipher.update(Buffer.from(doc.ct, 'base64')), decipher.final()]).toString('utf8')) as JournalDoc;
    } catch {
      return empty;
    }
  }

  private write(j: JournalDoc): void {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.opts.key, iv);
    cipher.setAAD(Buffer.from(FORMAT));
    const ct = Buffer.concat([cipher.update(Buffer.from(JSON.stringify(j), 'utf8')), cipher.final()]);
    writeFileAtomic(this.file, JSON.stringify({ format: FORMAT, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), ct: ct.toString('base64') }), { mode: 0o600 });
  }

  /** Records one read served from the cache (durably, before the value is used). */
  record(value: Pick<SecretValue, 'project' | 'name' | 'version' | 'fields'>): void {
    const j = this.read();
    const at = this.now();
    const g = j.open.find((x) => x.project === value.project && x.name === value.name && x.version === value.version);
    if (g) {
      g.count += 1;
      g.lastServedAt = at;
    } else {
      j.open.push({ project: value.project, name: value.name, version: value.version, ...(value.fields ? { fields: Object.keys(value.fields).sort() } : {}), count: 1, firstServedAt: at, lastServedAt: at });
    }
    this.write(j);
  }

  /** Reads recorded and not yet accepted by the vault. */
  pending(): number {
    const j = this.read();
    return [...j.open, ...j.sealed.flatMap((r) => r.reads)].reduce((n, g) => n + g.count, 0);
  }

  /** Turns the open groups into reports with ids (written before any is sent); returns every unsent report. */
  seal(): JournalDoc['sealed'] {
    const j = this.read();
    if (j.open.length > 0) {
      for (let i = 0; i < j.open.length; i += REPORT_MAX_READS) j.sealed.push({ reportId: randomUUID(), reads: j.open.slice(i, i + REPORT_MAX_READS) });
      j.open = [];
      this.write(j);
    }
    return j.sealed;
  }

  /**
   * A report that surely never reached the vault (the connection was refused) goes back among the
   * open groups, so reads served over a long outage are reported together rather than once per try.
   */
  unseal(reportId: string): void {
    const j = this.read();
    const report = j.sealed.find((r) => r.reportId === reportId);
    if (!report) return;
    j.sealed = j.sealed.filter((r) => r !== report);
    for (const g of report.reads) {
      const o = j.open.find((x) => x.project === g.project && x.name === g.name && x.version === g.version);
      if (!o) {
        j.open.push(g);
        continue;
      }
      o.count += g.count;
      o.firstServedAt = Math.min(o.firstServedAt, g.firstServedAt);
      o.lastServedAt = Math.max(o.lastServedAt, g.lastServedAt);
    }
    this.write(j);
  }

  /** The vault accepted (or can never accept) this report. */
  remove(reportId: string): void {
    const j = this.read();
    j.sealed = j.sealed.filter((r) => r.reportId !== reportId);
    this.write(j);
  }
}

/** Whether a failure means the request cannot have reached the vault (no connection was made). */
function neverSent(err: unknown): boolean {
  const code = isSikkerKeyError(err) && err.code === 'SK_ERR_CONNECT' ? (err.cause as NodeJS.ErrnoException | undefined)?.code : undefined;
  return code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'ENOTFOUND' || code === 'EAI_AGAIN';
}

/** Sends the journal's reports whenever asked and the vault answers; retries with backoff while it does not. */
export class CacheReadReporter {
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private retryMs = RETRY_FIRST_MS;
  /** Set when the vault refused this machine: nothing more is sent by this process. */
  private refused = false;

  constructor(private readonly opts: {
    journal: CacheReadJournal;
    client: Pick<VaultClient, 'request'>;
    log: DeliveryLog;
    /** Called when the vault refuses the machine itself (disabled, expired, key revoked). */
    onMachineRefused: (code: string) => void;
    machineGone: ReadonlySet<string>;
  }) {}

  /** Sends what is pending, unless a send is under way already; never throws. */
  kick(): void {
    if (this.running !== undefined || this.refused) return;
    this.running = this.flush().finally(() => { this.running = undefined; });
  }

  /** Waits for a send under way (bounded by its request deadline). */
  async settle(): Promise<void> {
    await this.running;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private retryLater(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => { this.timer = undefined; this.kick(); }, this.retryMs);
    this.timer.unref(); // a pending report never keeps a finished process alive
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
  }

  private async flush(): Promise<void> {
    let reports: JournalDoc['sealed'];
    try {
      reports = this.opts.journal.seal();
    } catch (err) {
      this.opts.log(`cache-served reads could not be journaled for reporting: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
      return;
    }
    for (const report of reports) {
      try {
        await this.opts.client.request('POST', '/v1/agent/cache-reads', report, { timeoutMs: REPORT_TIMEOUT_MS });
      } catch (err) {
        const code = isSikkerKeyError(err) ? err.code : 'error';
        if (isSikkerKeyError(err) && this.opts.machineGone.has(err.code)) {
          this.refused = true;
          this.opts.onMachineRefused(err.code);
          return;
        }
        if (isSikkerKeyError(err) && err.statusCode >= 400 && err.statusCode < 500 && err.code !== 'SK_ERR_RATE_LIMITED') {
          // A report the vault can never take (it is checked like any request body): kept, it would block the others.
          this.opts.log(`the vault refused a report of cache-served reads (${code}); it was dropped`);
          this.opts.journal.remove(report.reportId);
          continue;
        }
        if (neverSent(err)) this.opts.journal.unseal(report.reportId);
        this.retryLater();
        return;
      }
      this.opts.journal.remove(report.reportId);
      this.retryMs = RETRY_FIRST_MS;
      const n = report.reads.reduce((s, g) => s + g.count, 0);
      this.opts.log(`reported ${n} cache-served read(s) of ${report.reads.length} secret version(s) to the vault`);
    }
  }
}
