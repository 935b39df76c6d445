/**
 * The machine's side of leasing (docs/leases-agent.md): ask for a lease and wait until the agent
 * serving the role made the login, renew it, revoke it — every call signed with the machine's key.
 * `sikkerkey-agent lease` and `exec --lease` use these.
 *
 * @example
 *   const lease = await acquireLease(client, { project: 'shop', role: 'app-ro', ttl: '1h' });
 *   // lease.fields: { host, port, username, password, database? }
 *   await revokeLease(client, lease.leaseId);
 */
import type { VaultClient } from '../../protocol/client.js';
import { encodePathSegment as enc } from '../../protocol/client.js';
import type { Lease, LeasePending } from '../../protocol/api-types.js';
import { SikkerKeyError } from '../../protocol/errors.js';

/** The part of VaultClient leasing needs. */
export type LeaseRequester = Pick<VaultClient, 'request'>;

/** The longest wait the vault holds a lease request or a lease read (s). */
const MAX_WAIT_SECONDS = 30;

export interface AcquireRequest {
  project: string;
  role: string;
  /** A duration such as '1h'; the role's ttl when absent. */
  ttl?: string;
  /** Give up after this long (default 2 min): the agent serving the role may be down. */
  timeoutMs?: number;
}

/** Requests a lease and resolves once it is active, with its fields; a lease that ends otherwise is SK_ERR_LEASE_STATE. */
export async function acquireLease(client: LeaseRequester, req: AcquireRequest): Promise<Lease> {
  const deadline = Date.now() + (req.timeoutMs ?? 120_000);
  const wait = (): number => Math.max(0, Math.min(MAX_WAIT_SECONDS, Math.floor((deadline - Date.now()) / 1000)));
  const first = await client.request<Lease | LeasePending>(
    'POST', `/v1/projects/${enc(req.project)}/leases/${enc(req.role)}?wait=${wait()}`,
    req.ttl === undefined ? {} : { ttl: req.ttl }, { timeoutMs: (wait() + 15) * 1000 },
  );
  let answer = first.body;
  try {
    while (answer.state === 'creating') {
      if (Date.now() >= deadline) {
        throw new SikkerKeyError('SK_ERR_CONNECT', `lease ${answer.leaseId} of ${req.project}/${req.role} is still being created: no agent serving the role confirmed it in time; it was revoked`, { details: { leaseId: answer.leaseId } });
      }
      answer = (await client.request<Lease | LeasePending>('GET', `/v1/leases/${enc(answer.leaseId)}?wait=${wait()}`, undefined, { timeoutMs: (wait() + 15) * 1000 })).body;
    }
  } catch (err) {
    // Given up on: the lease could still become active later and hold one of this machine's
    // places for its whole TTL (a restarted `exec` would reach the 429 limit with unused logins).
    await revokeLease(client, answer.leaseId).catch(() => undefined);
    throw err;
  }
  return activeLease(answer, `${req.project}/${req.role}`);
}

/** Moves the lease's expiry (capped at its maxExpiresAt); a refusal is the vault's error (SK_ERR_LEASE_MAX_TTL at the cap, SK_ERR_LEASE_STATE for an ended lease). */
export async function renewLease(client: LeaseRequester, leaseId: string, ttl?: string): Promise<Lease> {
  return (await client.request<Lease>('POST', `/v1/leases/${enc(leaseId)}/renew?wait=${MAX_WAIT_SECONDS}`, ttl === undefined ? {} : { ttl }, { timeoutMs: (MAX_WAIT_SECONDS + 15) * 1000 })).body;
}

/** Ends the lease: the vault answers `revoking`; the agent then drops the login and ends its sessions. */
export async function revokeLease(client: LeaseRequester, leaseId: string): Promise<Lease> {
  return (await client.request<Lease>('POST', `/v1/leases/${enc(leaseId)}/revoke`)).body;
}

function activeLease(lease: Lease, what: string): Lease {
  if (lease.state !== 'active' || lease.fields === undefined) {
    throw new SikkerKeyError('SK_ERR_LEASE_STATE', `the lease of ${what} ended ${lease.state} instead of becoming active (the agent's failure is in the vault's audit log: lease.failed)`, { details: { leaseId: lease.leaseId } });
  }
  return lease;
}

/** `--lease DB=shop/app-ro`: the variable prefix and the lease role. */
export interface LeaseSpec {
  name: string;
  project: string;
  role: string;
}

export function parseLeaseSpec(spec: string): LeaseSpec {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)=([^/\s]+)\/([^/\s]+)$/.exec(spec);
  if (m === null) throw new SikkerKeyError('SK_ERR_USAGE', `--lease takes NAME=project/role (e.g. DB=shop/app-ro), not ${JSON.stringify(spec)}`);
  return { name: m[1] as string, project: m[2] as string, role: m[3] as string };
}

/** The child's variables of one lease: NAME_USERNAME, NAME_PASSWORD, NAME_HOST, NAME_PORT, NAME_DATABASE (when present). */
export function leaseVariables(name: string, lease: Lease): Record<string, string> {
  const f = lease.fields ?? {};
  const vars: Record<string, string> = {};
  for (const field of ['username', 'password', 'host', 'port', 'database'] as const) {
    const value = f[field];
    if (value !== undefined && value !== '') vars[`${name}_${field.toUpperCase()}`] = value;
  }
  return vars;
}
