/**
 * Each kind of rotation job ends in its own success state (protocol/api-types.ts SUCCEEDED_STATE):
 * a retire job `retired`, a preflight `preflight_passed`; only a rotate job is `promoted`. Rows
 * finished before this migration said `promoted` for all three and are renamed. And a policy
 * remembers what its last preflight found the server to be (`flavour`, `server_version`), so the
 * strategy checks at `rotation set` and at claim can tell MySQL 8 from MariaDB.
 *
 * Plain UPDATEs and ADD COLUMNs: the same statements on SQLite and PostgreSQL. None of the renamed
 * states is covered by the one-unfinished-per-secret index (all are finished), so it is unaffected.
 */
import { sql } from 'kysely';
export function rotationOutcomesMigration(_dialect) {
    return {
        async up(db) {
            await sql `update rotations set state = 'preflight_passed' where kind = 'preflight' and state = 'promoted'`.execute(db);
            await sql `update rotations set state = 'retired' where kind = 'retire' and state = 'promoted'`.execute(db);
            await db.schema.alterTable('rotation_policies').addColumn('flavour', 'text').execute();
            await db.schema.alterTable('rotation_policies').addColumn('server_version', 'text').execute();
        },
        async down(db) {
            await db.schema.alterTable('rotation_policies').dropColumn('server_version').execute();
            await db.schema.alterTable('rotation_policies').dropColumn('flavour').execute();
            await sql `update rotations set state = 'promoted' where kind = 'retire' and state = 'retired'`.execute(db);
            await sql `update rotations set state = 'promoted' where kind = 'preflight' and state = 'preflight_passed'`.execute(db);
        },
    };
}
//# sourceMappingURL=0003-rotation-outcomes.js.map