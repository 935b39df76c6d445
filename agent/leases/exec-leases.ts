/**
 * The leases of `sikkerkey-agent exec --lease NAME=project/role` (docs/leases-agent.md): taken
 * before the command starts, renewed in the background at 2/3 of each lease's remaining time, taken
 * anew when the vault refuses a renewal (the lease reached its max TTL, was revoked, or expired) —
 * then the command is restarted or signalled the way exec handles a new secret version — and
 * revoked when exec ends, so the login is dropped with the command.
 *
 * A renewal that fails for a passing reason (the vault unreachable) is tried again sooner; a lease
 * that lapses meanwhile is taken anew. Log lines name leases and roles, never a credential.
 *
 * @example
 *   const leases = new ExecLeases({ client, specs: [parseLeaseSpec('DB=shop/app-ro')], log });
 *   const vars = await leases.start((next) => restartChild(next));   // { DB_USERNAME, DB_PASSWORD, DB_HOST, DB_PORT, … }
 *   await leases.stop();                                              // revokes
 */
import type { Lease } from '../../protocol/api-types.js';
import { SikkerKeyError, isSikkerKeyError } from '../../protocol/errors.js';
import type { DeliveryLog } from '../delivery/secret-follower.js';
import { acquireLease, leaseVariables, renewLease, revokeLease } from './lease-client.js';
import type { LeaseRequester, LeaseSpec } from './lease-client.js';

/** What exec needs of its leases (agent/delivery/exec.ts). */
export interface LeaseSource {
  /** Takes every lease; resolves to the child's variables. `onChange` gets the variables after a lease was taken anew. */
  start(onChange: (vars: Record<string, string>) => void): Promise<Record<string, string>>;
  /** Stops renewing and revokes every lease held. */
  stop(): Promise<void>;
}

export interface ExecLeasesOptions {
  client: LeaseRequester;
  specs: readonly LeaseSpec[];
  ttl?: string;
  log: DeliveryLog;
  /** The fraction of the remaining time after which a lease is renewed (default 2/3). */
  renewAt?: number;
  /** Smallest delay between two attempts for one lease (default 1 s). */
  minDelayMs?: number;
  /**
   * Leave a replaced lease to run out instead of revoking it: for `--on-change none`, where the
   * command is not told about the new login and goes on using the old one until it ends.
   */
  keepReplaced?: boolean;
}

/** Refusals after which renewing cannot succeed: the lease is taken anew. */
const REFUSED_FOR_GOOD: ReadonlySet<string> = new Set(['SK_ERR_LEASE_MAX_TTL', 'SK_ERR_LEASE_STATE', 'SK_ERR_LEASE_NOT_FOUND', 'SK_ERR_NOT_FOUND']);
function refusedForGood(err: unknown): boolean {
  return isSikkerKeyError(err) && REFUSED_FOR_GOOD.has(err.code);
}

export class ExecLeases implements LeaseSource {
  private readonly held = new Map<string, Lease>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private stopped = false;
  private onChange: (vars: Record<string, string>) => void = () => undefined;

  constructor(private readonly opts: ExecLeasesOptions) {
    const names = new Set<string>();
    for (const s of opts.specs) {
      if (names.has(s.name)) throw new SikkerKeyError('SK_ERR_USAGE', `--lease ${s.name}=… is given twice`);
      names.add(s.name);
    }
  }

  async start(onChange: (vars: Record<string, string>) => void): Promise<Record<string, string>> {
    this.onChange = onChange;
    try {
      for (const spec of this.opts.specs) {
        const lease = await this.take(spec);
        this.held.set(spec.name, lease);
        this.schedule(spec);
      }
    } catch (err) {
      await this.stop(); // a lease already taken must not outlive a start that failed
      throw err;
    }
    return this.variables();
  }

  /** The child's variables from every lease held now. */
  variables(): Record<string, string> {
    const vars: Record<string, string> = {};
    for (const [name, lease] of this.held) Object.assign(vars, leaseVariables(name, lease));
    return vars;
  }

  /** The lease held for `name` now (tests, `--json` output). */
  lease(name: string): Lease | undefined {
    return this.held.get(name);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    const leases = [...this.held.values()];
    this.held.clear();
    for (const lease of leases) await this.revoke(lease);
  }

  private async take(spec: LeaseSpec): Promise<Lease> {
    const lease = await acquireLease(this.opts.client, { project: spec.project, role: spec.role, ...(this.opts.ttl === undefined ? {} : { ttl: this.opts.ttl }) });
    this.opts.log(`lease ${lease.leaseId} of ${spec.project}/${spec.role} is active until ${new Date(lease.expiresAt).toISOString()} (${spec.name}_* variables)`);
    return lease;
  }

  private async revoke(lease: Lease): Promise<void> {
    try {
      await revokeLease(this.opts.client, lease.leaseId);
      this.opts.log(`lease ${lease.leaseId} revoked`);
    } catch (err) {
      // the vault's expiry sweeper ends it at expiresAt anyway
      this.opts.log(`lease ${lease.leaseId} not revoked (${isSikkerKeyError(err) ? err.code : 'error'}); it ends at ${new Date(lease.expiresAt).toISOString()}`);
    }
  }

  private schedule(spec: LeaseSpec, delayMs?: number): void {
    if (this.stopped) return;
    const lease = this.held.get(spec.name);
    if (lease === undefined) return;
    const remaining = lease.expiresAt - Date.now();
    const delay = Math.max(this.opts.minDelayMs ?? 1000, delayMs ?? remaining * (this.opts.renewAt ?? 2 / 3));
    clearTimeout(this.timers.get(spec.name));
    const timer = setTimeout(() => void this.renew(spec), delay);
    timer.unref();
    this.timers.set(spec.name, timer);
  }

  private async renew(spec: LeaseSpec): Promise<void> {
    const lease = this.held.get(spec.name);
    if (this.stopped || lease === undefined) return;
    try {
      const renewed = await renewLease(this.opts.client, lease.leaseId, this.opts.ttl);
      if (this.stopped) return;
      if (renewed.state !== 'active') throw new SikkerKeyError('SK_ERR_LEASE_STATE', `the lease is ${renewed.state}`);
      if (renewed.expiresAt > lease.expiresAt) {
        this.held.set(spec.name, { ...lease, expiresAt: renewed.expiresAt, maxExpiresAt: renewed.maxExpiresAt });
        this.opts.log(`lease ${lease.leaseId} renewed until ${new Date(renewed.expiresAt).toISOString()}`);
        this.schedule(spec);
        return;
      }
      // not moved yet (the agent's renew job still running): ask again in a while
      this.schedule(spec, Math.max(1000, (lease.expiresAt - Date.now()) / 3));
    } catch (err) {
      if (this.stopped) return;
      if (refusedForGood(err) || Date.now() >= lease.expiresAt) {
        this.opts.log(`lease ${lease.leaseId} cannot be renewed (${isSikkerKeyError(err) ? err.code : 'error'}): taking a new lease of ${spec.project}/${spec.role}`);
        await this.replace(spec, lease);
        return;
      }
      this.opts.log(`lease ${lease.leaseId} not renewed (${isSikkerKeyError(err) ? err.code : 'error'}): trying again`);
      this.schedule(spec, Math.min(30_000, Math.max(0, (lease.expiresAt - Date.now()) / 3)));
    }
  }

  private async replace(spec: LeaseSpec, old: Lease): Promise<void> {
    let next: Lease;
    try {
      next = await this.take(spec);
    } catch (err) {
      if (this.stopped) return;
      this.opts.log(`no new lease of ${spec.project}/${spec.role} (${isSikkerKeyError(err) ? err.code : 'error'}): trying again`);
      this.schedule(spec, 5_000);
      return;
    }
    if (this.stopped) {
      await this.revoke(next);
      return;
    }
    this.held.set(spec.name, next);
    this.schedule(spec);
    this.onChange(this.variables());
    if (this.opts.keepReplaced === true) {
      this.opts.log(`lease ${old.leaseId} left to end at ${new Date(old.expiresAt).toISOString()} (--on-change none: the command still uses it)`);
      return;
    }
    // after the child has the new login: the old one is dropped with its sessions
    await this.revoke(old);
  }
}
