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
import type { CacheMap, StoreCaches } from '../../store/change-counter.js';

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
}

interface Maps {
  machines: CacheMap<string, string | undefined>;
  projects: CacheMap<string, CachedProject | undefined>;
  grants: CacheMap<string, CachedGrant[]>;
  secrets: CacheMap<string, CachedSecret | undefined>;
  live: CacheMap<string, CachedLiveVersion | undefined>;
}

const mapsOf = new WeakMap<StoreCaches, Maps>();

function maps(caches: StoreCaches): Maps {
  let m = mapsOf.get(caches);
  if (!m) {
    m = { machines: caches.map(), projects: caches.map(), grants: caches.map(), secrets: caches.map(), live: caches.map(10_000) };
    mapsOf.set(caches, m);
  }
  return m;
}

/** Reads the change counter with `trx` and returns lookups valid for the rest of this transaction, until it writes a cached table. */
export async function readLookups(ctx: VaultContext, trx: Tx): Promise<ReadLookups> {
  const m = maps(ctx.caches);
  const view = await ctx.caches.view(trx);
  return {
    machineStatus: (id) => view.get(m.machines, id, async () =>
      (await trx.selectFrom('machines').select('status').where('id', '=', id).executeTakeFirst())?.status),
    project: (name) => view.get(m.projects, name, () =>
      trx.selectFrom('projects').select(['id', 'name', 'master_key_wrapped', 'key_version', 'locked_at']).where('name', '=', name).where('deleted_at', 'is', null).executeTakeFirst()),
    grants: (machineId, projectId) => view.get(m.grants, `${machineId}\u0000${projectId}`, () =>
      trx.selectFrom('grants').select(['secret_id', 'fields']).where('machine_id', '=', machineId).where('project_id', '=', projectId).execute()),
    secret: (projectId, name) => view.get(m.secrets, `${projectId}\u0000${name}`, () =>
      trx.selectFrom('secrets').select(['id', 'name', 'kind', 'is_canary', 'canary_lock_machine_projects', 'current_version'])
        .where('project_id', '=', projectId).where('name', '=', name).where('deleted_at', 'is', null).executeTakeFirst()),
    liveVersion: (secretId) => view.get(m.live, secretId, () =>
      trx.selectFrom('secret_versions').select(['version', 'ciphertext', 'wrapped_data_key', 'project_key_version'])
        .where('secret_id', '=', secretId).where('state', '=', 'live').executeTakeFirst()),
  };
}
