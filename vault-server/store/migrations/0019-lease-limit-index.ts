/**
 * A lease request counts live leases for the role's limits (`--max-leases`,
 * `--max-leases-per-machine`): `leases_role_state` (0017) becomes `leases_role_state_machine`
 * (role, state, machine). Both counts are then answered from the index alone — the role's live
 * leases as before, and one machine's as a seek per live state instead of reading every live lease
 * of the machine (`leases_machine_state`) to check its role. Same prefix, so nothing that used the
 * old index loses it, and no extra B-tree per lease written.
 */
import type { Kysely, Migration } from 'kysely';

export function leaseLimitIndexMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.createIndex('leases_role_state_machine').on('leases').columns(['role_id', 'state', 'machine_id']).execute();
      await db.schema.dropIndex('leases_role_state').execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.createIndex('leases_role_state').on('leases').columns(['role_id', 'state']).execute();
      await db.schema.dropIndex('leases_role_state_machine').execute();
    },
  };
}
