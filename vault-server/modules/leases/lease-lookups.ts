/**
 * What the lease traffic looks up on every request — the lease role, the machine's lease grant,
 * the admin secret's row, the agent machine's labels, and the endpoint fields of the admin secret
 * handed out with each lease — taken from memory caches checked against the store's change counter
 * inside the request's own transaction (store/change-counter.ts), as a read's lookups are
 * (secrets/read-lookups.ts). `lease_roles` and `lease_grants` move the counter (migration 0018),
 * `machines`, `secrets` and `secret_versions` already did (0005): a removed grant, a changed role
 * or a rotated admin secret is loaded afresh by the very next request on every worker and replica.
 *
 * Nothing here is a credential: the endpoint fields are the admin secret's fields without its
 * username and password — what every lease's answer carries in the clear anyway.
 *
 * @example
 *   const look = await leaseLookups(ctx, trx);
 *   const role = await look.role(project.id, 'app-ro');
 */
import type { Tx, VaultContext } from '../../context.js';
import type { CacheMap, CacheView, StoreCaches } from '../../store/change-counter.js';
import { machineLabels, secretById, secretFields } from '../rotations/rotations-engine.js';
import type { LeaseRoleRow } from './lease-roles-service.js';

export interface LeaseLookups {
  /** The role `name` of a project (undefined: none). */
  role(projectId: string, name: string): Promise<LeaseRoleRow | undefined>;
  /** A role by its id (undefined: gone). */
  roleById(id: string): Promise<LeaseRoleRow | undefined>;
  /** A role's name, its project's name and its admin secret (undefined: the role is gone). */
  names(roleId: string): Promise<{ role: string; project: string; adminId: string } | undefined>;
  /** Whether the machine holds a grant on the role. */
  granted(machineId: string, roleId: string): Promise<boolean>;
  /** The admin secret's row: its access policy, whether it is in the trash. */
  adminSecret(id: string): Promise<{ id: string; policy_id: string | null; deleted_at: number | null } | undefined>;
  /** A machine's labels (whether it serves a role by label). */
  labels(machineId: string): Promise<string[]>;
  /** The admin secret's live fields without username and password: host, port, database, tls… */
  endpoint(adminSecretId: string): Promise<Record<string, string>>;
}

interface Maps {
  roles: CacheMap<string, LeaseRoleRow | undefined>;
  names: CacheMap<string, { role: string; project: string; adminId: string } | undefined>;
  grants: CacheMap<string, boolean>;
  admins: CacheMap<string, { id: string; policy_id: string | null; deleted_at: number | null } | undefined>;
  labels: CacheMap<string, string[]>;
  endpoints: CacheMap<string, Record<string, string>>;
}

/** This module's maps in each store's caches. */
const MAPS = {};
const maps = (caches: StoreCaches): Maps => caches.group(MAPS, (c) => ({ roles: c.map(), names: c.map(), grants: c.map(), admins: c.map(), labels: c.map(), endpoints: c.map() }));

/**
 * Reads the change counter with `trx` (or takes `seen`, the caches as this transaction already read
 * them); the lookups are valid for the rest of this transaction, until it writes a counted table.
 */
export async function leaseLookups(ctx: VaultContext, trx: Tx, seen?: CacheView): Promise<LeaseLookups> {
  const m = maps(ctx.caches);
  const view = seen ?? await ctx.caches.view(trx);
  return {
    role: (projectId, name) => view.get(m.roles, `${projectId}\u0000${name}`, () =>
      trx.selectFrom('lease_roles').selectAll().where('project_id', '=', projectId).where('name', '=', name).executeTakeFirst()),
    roleById: (id) => view.get(m.roles, id, () => trx.selectFrom('lease_roles').selectAll().where('id', '=', id).executeTakeFirst()),
    names: (roleId) => view.get(m.names, roleId, () => trx.selectFrom('lease_roles').innerJoin('projects', 'projects.id', 'lease_roles.project_id')
      .select(['lease_roles.name as role', 'projects.name as project', 'lease_roles.admin_secret_id as adminId']).where('lease_roles.id', '=', roleId).executeTakeFirst()),
    granted: (machineId, roleId) => view.get(m.grants, `${machineId}\u0000${roleId}`, async () =>
      (await trx.selectFrom('lease_grants').select('id').where('machine_id', '=', machineId).where('lease_role_id', '=', roleId).executeTakeFirst()) !== undefined),
    adminSecret: (id) => view.get(m.admins, id, () => trx.selectFrom('secrets').select(['id', 'policy_id', 'deleted_at']).where('id', '=', id).executeTakeFirst()),
    labels: (machineId) => view.get(m.labels, machineId, () => machineLabels(trx, machineId)),
    endpoint: (adminSecretId) => view.get(m.endpoints, adminSecretId, async () => {
      const { username: _u, password: _p, ...endpoint } = (await secretFields(ctx, trx, await secretById(trx, adminSecretId))).fields;
      return endpoint;
    }),
  };
}
