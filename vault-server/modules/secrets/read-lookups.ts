/**
 * What a machine read looks up before it may answer — the machine's status, the project, the
 * machine's grants there, the secret, its live version's ciphertext and wrapped data key — taken
 * from memory caches that are checked against the store's change counter inside the read's own
 * transaction (store/change-counter.ts). A disabled machine, a removed grant, a locked project or
 * a promoted version moves the counter (triggers, migration 0005), so the very next read on every
 * worker and replica loads them afresh. Projects and secrets in the trash are not found (404). Nothing here is a plaintext: values stay encrypted in
 * the cache exactly as in the store.
 *
 * This file imports nothing from the secrets or canaries services, so both can use it.
 *
 * @example
 *   const look = await readLookups(ctx, trx);
 *   const project = await look.project('shop');
 */
import type { Tx, VaultContext } from '../../context.js';
import type { CacheMap, CacheView, StoreCaches } from '../../store/change-counter.js';
import { SikkerKeyError } from '../../../protocol/errors.js';
import { parsePolicyRow } from '../access-policies/access-policy-rules.js';
import type { ParsedPolicy } from '../access-policies/access-policy-rules.js';
import { labelGrantsOf } from '../grants/label-grants.js';

export interface CachedProject {
  id: string;
  name: string;
  master_key_wrapped: Buffer;
  key_version: number;
  locked_at: number | null;
}

export interface CachedSecret {
  id: string;
  name: string;
  kind: string;
  is_canary: number;
  canary_lock_machine_projects: number;
  current_version: number | null;
  /** The bound access policy (migration 0013); null = none, and the read costs nothing more. */
  policy_id: string | null;
}

export interface CachedGrant {
  secret_id: string | null;
  fields: string | null;
}

export interface CachedLiveVersion {
  version: number;
  ciphertext: Buffer;
  wrapped_data_key: Buffer;
  project_key_version: number;
}

export interface ReadLookups {
  machineStatus(id: string): Promise<string | undefined>;
  project(name: string): Promise<CachedProject | undefined>;
  grants(machineId: string, projectId: string): Promise<CachedGrant[]>;
  secret(projectId: string, name: string): Promise<CachedSecret | undefined>;
  liveVersion(secretId: string): Promise<CachedLiveVersion | undefined>;
  /** A bound access policy, parsed (throws SK_ERR_CONSTRAINT_UNKNOWN for one this vault cannot read, or that vanished). */
  policy(id: string): Promise<ParsedPolicy>;
}

interface Maps {
  machines: CacheMap<string, { status: string; expiresAt: number | null } | undefined>;
  projects: CacheMap<string, CachedProject | undefined>;
  grants: CacheMap<string, CachedGrant[]>;
  secrets: CacheMap<string, CachedSecret | undefined>;
  live: CacheMap<string, CachedLiveVersion | undefined>;
  policies: CacheMap<string, ParsedPolicy | SikkerKeyError>;
}

/** This module's maps in each store's caches. */
const MAPS = {};
const maps = (caches: StoreCaches): Maps => caches.group(MAPS, (c) => ({
  machines: c.map(), projects: c.map(), grants: c.map(), secrets: c.map(), live: c.map(10_000), policies: c.map(10_000),
}));

/**
 * Reads the change counter with `trx` (or takes `seen`, the caches as this transaction already read
 * them) and returns lookups valid for the rest of this transaction, until it writes a cached table.
 */
export async function readLookups(ctx: VaultContext, trx: Tx, seen?: CacheView): Promise<ReadLookups> {
  const m = maps(ctx.caches);
  const view = seen ?? await ctx.caches.view(trx);
  return {
    // An active machine past its expiry is `expired` already (the sweeper marks it within a minute):
    // a watch or lease wait that began before the expiry must not be answered after it.
    machineStatus: async (id) => {
      const row = await view.get(m.machines, id, async () => {
        const r = await trx.selectFrom('machines').select(['status', 'expires_at']).where('id', '=', id).executeTakeFirst();
        return r === undefined ? undefined : { status: r.status, expiresAt: r.expires_at === null ? null : Number(r.expires_at) };
      });
      if (row === undefined) return undefined;
      return row.status === 'active' && row.expiresAt !== null && row.expiresAt <= ctx.now() ? 'expired' : row.status;
    },
    project: (name) => view.get(m.projects, name, () =>
      trx.selectFrom('projects').select(['id', 'name', 'master_key_wrapped', 'key_version', 'locked_at']).where('name', '=', name).where('deleted_at', 'is', null).executeTakeFirst()),
    // A machine's own grants and those of its labels (label-grants.ts: only while it is active).
    grants: (machineId, projectId) => view.get(m.grants, `${machineId}\u0000${projectId}`, async () => [
      ...await trx.selectFrom('grants').select(['secret_id', 'fields']).where('machine_id', '=', machineId).where('project_id', '=', projectId).execute(),
      ...await labelGrantsOf(trx, machineId, projectId),
    ]),
    secret: (projectId, name) => view.get(m.secrets, `${projectId}\u0000${name}`, () =>
      trx.selectFrom('secrets').select(['id', 'name', 'kind', 'is_canary', 'canary_lock_machine_projects', 'current_version', 'policy_id'])
        .where('project_id', '=', projectId).where('name', '=', name).where('deleted_at', 'is', null).executeTakeFirst()),
    liveVersion: (secretId) => view.get(m.live, secretId, () =>
      trx.selectFrom('secret_versions').select(['version', 'ciphertext', 'wrapped_data_key', 'project_key_version'])
        .where('secret_id', '=', secretId).where('state', '=', 'live').executeTakeFirst()),
    policy: async (id) => {
      const p = await view.get(m.policies, id, async (): Promise<ParsedPolicy | SikkerKeyError> => {
        const row = await trx.selectFrom('access_policies').select(['id', 'name', 'time_window', 'ip_allowlist', 'max_reads_per_minute', 'max_reads_per_day',
          'cosign_window_ms', 'cosign_machine_id', 'expires_at', 'max_reads', 'rotate_after_reads']).where('id', '=', id).executeTakeFirst();
        if (!row) return new SikkerKeyError('SK_ERR_CONSTRAINT_UNKNOWN', 'the secret is bound to an access policy that does not exist; reads are refused (fail closed)');
        try {
          return parsePolicyRow(row);
        } catch (err) {
          if (err instanceof SikkerKeyError) return err;
          throw err;
        }
      });
      if (p instanceof SikkerKeyError) throw new SikkerKeyError(p.code, p.message);
      return p;
    },
  };
}
