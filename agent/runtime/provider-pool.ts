import { createHash } from 'node:crypto';
import type { ClaimResponse } from '../../protocol/api-types.js';
import type { CredentialProvider, InitializeResponse } from '../../providers/provider.js';

/** A provider whose initialize has run, with what it said (its flavour decides the undo plans). */
export interface ReadyProvider {
  provider: CredentialProvider;
  init: InitializeResponse;
}

/**
 * Initialized providers kept between jobs for the same engine, admin credential and database
 * endpoint, so a rotation or a lease does not pay for a fresh admin login (a SCRAM exchange on
 * PostgreSQL, a connection and AUTH on Redis) each time. A provider is lent to one job at a time,
 * kept at most `idleMs` after its last job, and only when that job ended cleanly; anything else
 * closes it. Up to `perKey` are kept for one key — the agent's concurrency, so jobs running side by
 * side each find one (with only one kept, 15 of 16 parallel lease jobs opened and closed an admin
 * connection each) — and at most that many admin connections stay open to one database.
 * While kept, the server may close the admin connection (an idle timeout, a restart, a
 * failover): one whose `isConnected()` answers false is closed instead of lent, and the next kept
 * one is tried; a provider without `isConnected` is lent as it is.
 */
export class ProviderPool {
  private readonly idle = new Map<string, Array<{ ready: ReadyProvider; timer: NodeJS.Timeout }>>();

  constructor(private readonly idleMs = 30_000, private readonly perKey = 1) {}

  static keyOf(job: Pick<ClaimResponse, 'engine' | 'admin' | 'target'>): string {
    const { username: _u, password: _p, ...endpoint } = job.target;
    // Code-unit order, not localeCompare: a collator would load ICU's data into the agent (~3 MiB RSS).
    const sorted = (o: Record<string, string>): Array<[string, string]> => Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return createHash('sha256').update(JSON.stringify([job.engine, sorted(job.admin), sorted(endpoint)])).digest('hex');
  }

  /**
   * An initialized provider for this job's admin and endpoint, if one is idle (then it is the
   * caller's): the one used last whose admin connection is still open.
   */
  take(key: string): ReadyProvider | undefined {
    const kept = this.idle.get(key) ?? [];
    let lent: ReadyProvider | undefined;
    while (lent === undefined && kept.length > 0) {
      const entry = kept.pop() as (typeof kept)[number];
      clearTimeout(entry.timer);
      // the server closed its admin connection while it was kept: a job on it would fail at once
      if (entry.ready.provider.isConnected?.() === false) void entry.ready.provider.close().catch(() => undefined);
      else lent = entry.ready;
    }
    if (kept.length === 0) this.idle.delete(key);
    return lent;
  }

  /** Gives a provider back after a clean job; otherwise (or when `perKey` are kept already, or it never initialized) closes it. */
  give(key: string, provider: CredentialProvider, init: InitializeResponse | undefined, clean: boolean): void {
    const kept = this.idle.get(key) ?? [];
    // Closing a connection being discarded: a failure means it is already gone, nothing to report.
    if (!clean || init === undefined || kept.length >= this.perKey) {
      void provider.close().catch(() => undefined);
      return;
    }
    const entry = {
      ready: { provider, init },
      timer: setTimeout(() => {
        const now = this.idle.get(key) ?? [];
        const left = now.filter((e) => e !== entry);
        if (left.length > 0) this.idle.set(key, left);
        else this.idle.delete(key);
        void provider.close().catch(() => undefined);
      }, this.idleMs),
    };
    entry.timer.unref();
    kept.push(entry);
    this.idle.set(key, kept);
  }

  /** Providers kept idle right now, over every key. */
  size(): number {
    let n = 0;
    for (const kept of this.idle.values()) n += kept.length;
    return n;
  }

  async closeAll(): Promise<void> {
    const entries = [...this.idle.values()].flat();
    this.idle.clear();
    for (const e of entries) {
      clearTimeout(e.timer);
      await e.ready.provider.close().catch(() => undefined);
    }
  }
}
