/**
 * `lease_roles` and `lease_grants` join the change-counter triggers (migration 0005), so a lease
 * request takes its role and the machine's lease grant from memory (read-lookups.ts), as a read
 * takes its grants; a change to either reaches every worker and replica on the next request.
 * Both change only through operators (a role created, changed or deleted; a grant added or
 * removed), never on the lease traffic itself.
 */
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../open-store.js';
import { addChangeTriggers, dropChangeTriggers } from './0005-change-counter.js';

/** The tables of this migration whose every change moves the change counter. */
const COUNTED = ['lease_roles', 'lease_grants'] as const;

export function leaseCachesMigration(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await addChangeTriggers(db, dialect, COUNTED);
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await dropChangeTriggers(db, dialect, COUNTED);
    },
  };
}
