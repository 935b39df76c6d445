import { createHash } from 'node:crypto';
import type { ClaimResponse } from '../../protocol/api-types.js';
import type { CredentialProvider } from '../../providers/provider.js';

/**
 * Initialized providers kept between jobs for the same engine, admin credential and database
 * endpoint, so a rotation does not pay for a fresh admin login (a SCRAM exchange on PostgreSQL)
 * each time. A provider is lent to one job at a time, kept at most `idleMs` after its last job,
 * and only when that job ended cleanly; anything else closes it.
 */
export class ProviderPool {
  private readonly idle = new Map<string, { provider: CredentialProvider; timer: NodeJS.Timeout }>();

  constructor(private readonly idleMs = 30_000) {}

  static keyOf(job: Pick<ClaimResponse, 'engine' | 'admin' | 'target'>): string {
    const { username: _u, password: _p, ...endpoint } = job.target;
    const sorted = (o: Record<string, string>): Array<[string, string]> => Object.entries(o).sort(([a], [b]) => a.localeCompare(b));
    return createHash('sha256').update(JSON.stringify([job.engine, sorted(job.admin), sorted(endpoint)])).digest('hex');
  }

  /** An initialized provider for this job's admin and endpoint, if one is idle (then it is the caller's). */
  take(key: string): CredentialProvider | undefined {
    const entry = this.idle.get(key);
    if (!entry) return undefined;
    clearTimeout(entry.timer);
    this.idle.delete(key);
    return entry.provider;
  }

  /** Gives a provider back after a clean job; otherwise (or when one is already kept) closes it. */
  give(key: string, provider: CredentialProvider, clean: boolean): void {
    // Closing a connection being discarded: a failure means it is already gone, nothing to report.
    if (!clean || this.idle.has(key)) {
      void provider.close().catch(() => undefined);
      return;
    }
    const timer = setTimeout(() => {
      this.idle.delete(key);
      void provider.close().catch(() => undefined);
    }, this.idleMs);
    timer.unref();
    this.idle.set(key, { provider, timer });
  }

  async closeAll(): Promise<void> {
    const entries = [...this.idle.values()];
    this.idle.clear();
    for (const e of entries) {
      clearTimeout(e.timer);
      await e.provider.close().catch(() => undefined);
    }
  }
}
