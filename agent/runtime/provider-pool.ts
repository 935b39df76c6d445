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
 * endpoint, so a rotation does not pay for a fresh admin login (a SCRAM exchange on PostgreSQL)
 * each time. A provider is lent to one job at a time, kept at most `idleMs` after its last job,
 * and only when that job ended cleanly; anything else closes it.
 */
export class ProviderPool {
  private readonly idle = new Map<string, { ready: ReadyProvider; timer: NodeJS.Timeout }>();

  constructor(private readonly idleMs = 30_000) {}

  static keyOf(job: Pick<ClaimResponse, 'engine' | 'admin' | 'target'>): string {
    const { username: _u, password: _p, ...endpoint } = job.target;
    // Code-unit order, not localeCompare: a collator would load ICU's data into the agent (~3 MiB RSS).
    const sorted = (o: Record<string, string>): Array<[string, string]> => Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return createHash('sha256').update(JSON.stringify([job.engine, sorted(job.admin), sorted(endpoint)])).digest('hex');
  }

  /** An initialized provider for this job's admin and endpoint, if one is idle (then it is the caller's). */
  take(key: string): ReadyProvider | undefined {
    const entry = this.idle.get(key);
    if (!entry) return undefined;
    clearTimeout(entry.timer);
    this.idle.delete(key);
    return entry.ready;
  }

  /** Gives a provider back after a clean job; otherwise (or when one is already kept, or it never initialized) closes it. */
  give(key: string, provider: CredentialProvider, init: InitializeResponse | undefined, clean: boolean): void {
    // Closing a connection being discarded: a failure means it is already gone, nothing to report.
    if (!clean || init === undefined || this.idle.has(key)) {
      void provider.close().catch(() => undefined);
      return;
    }
    const timer = setTimeout(() => {
      this.idle.delete(key);
      void provider.close().catch(() => undefined);
    }, this.idleMs);
    timer.unref();
    this.idle.set(key, { ready: { provider, init }, timer });
  }

  async closeAll(): Promise<void> {
    const entries = [...this.idle.values()];
    this.idle.clear();
    for (const e of entries) {
      clearTimeout(e.timer);
      await e.ready.provider.close().catch(() => undefined);
    }
  }
}
