/**
 * A real roster of operators (issue "A team can run it"): keys move out of `operators` into
 * `operator_keys`, so one person can hold several (a laptop, a CI job, each browser of the
 * dashboard) and lose one without losing the others; `operator_invitations` holds single-use
 * invitation tokens, by hash only.
 *
 * Each operator's existing key becomes its first row of `operator_keys` (label "initial"). The
 * key columns then leave `operators`: PostgreSQL drops them; SQLite cannot drop a UNIQUE column,
 * so the table is rebuilt (and its change-counter triggers with it).
 *
 * `operator_keys` moves the change counter (authentication caches keys) except for
 * `last_used_at`, which every operator request may touch.
 */
import { sql } from 'kysely';
const BUMP = 'update change_counter set n = n + 1 where id = 1';
/** The `operator_keys` columns whose change moves the counter (not `last_used_at`). */
export const OPERATOR_KEY_COLUMNS = ['operator_id', 'public_key', 'label', 'revoked_at'];
export function operatorKeysMigration(dialect) {
    const ms = dialect === 'postgres' ? 'bigint' : 'integer';
    const bin = dialect === 'postgres' ? 'bytea' : 'blob';
    return {
        async up(db) {
            await db.schema.createTable('operator_keys')
                .addColumn('key_id', 'text', (c) => c.primaryKey())
                .addColumn('operator_id', 'text', (c) => c.notNull())
                .addColumn('public_key', bin, (c) => c.notNull())
                .addColumn('label', 'text', (c) => c.notNull())
                .addColumn('created_at', ms, (c) => c.notNull())
                .addColumn('created_by', 'text')
                .addColumn('last_used_at', ms)
                .addColumn('revoked_at', ms)
                .addColumn('revoked_by', 'text')
                .execute();
            await db.schema.createIndex('operator_keys_operator').on('operator_keys').column('operator_id').execute();
            await sql `insert into operator_keys (key_id, operator_id, public_key, label, created_at, created_by)
        select key_id, id, public_key, 'initial', created_at, created_by from operators`.execute(db);
            await db.schema.createTable('operator_invitations')
                .addColumn('id', 'text', (c) => c.primaryKey())
                .addColumn('token_hash', 'text', (c) => c.notNull().unique())
                .addColumn('name', 'text', (c) => c.notNull())
                /** The role a new operator gets; null when the invitation adds a key to an existing one. */
                .addColumn('role', 'text')
                /** Set when the invitation adds a key to this existing operator (`invite --existing`). */
                .addColumn('operator_id', 'text')
                .addColumn('expires_at', ms, (c) => c.notNull())
                .addColumn('created_at', ms, (c) => c.notNull())
                .addColumn('created_by', 'text', (c) => c.notNull())
                .addColumn('accepted_at', ms)
                .addColumn('accepted_key_id', 'text')
                .addColumn('revoked_at', ms)
                .execute();
            if (dialect === 'postgres') {
                await sql `alter table operators drop column key_id, drop column public_key`.execute(db);
                await sql.raw(`create trigger sk_changes_operator_keys after insert or delete or update of ${OPERATOR_KEY_COLUMNS.join(', ')} on operator_keys for each statement execute function sk_bump_change_counter()`).execute(db);
                return;
            }
            await sql `create table operators_next (
        id text primary key, name text not null unique, role text not null, status text not null,
        created_at integer not null, created_by text)`.execute(db);
            await sql `insert into operators_next (id, name, role, status, created_at, created_by)
        select id, name, role, status, created_at, created_by from operators`.execute(db);
            await sql `drop table operators`.execute(db);
            await sql `alter table operators_next rename to operators`.execute(db);
            for (const op of ['insert', 'update', 'delete']) {
                await sql.raw(`create trigger sk_changes_operators_${op} after ${op} on operators begin ${BUMP}; end`).execute(db);
            }
            await sql.raw(`create trigger sk_changes_operator_keys_insert after insert on operator_keys begin ${BUMP}; end`).execute(db);
            await sql.raw(`create trigger sk_changes_operator_keys_delete after delete on operator_keys begin ${BUMP}; end`).execute(db);
            await sql.raw(`create trigger sk_changes_operator_keys_update after update of ${OPERATOR_KEY_COLUMNS.join(', ')} on operator_keys begin ${BUMP}; end`).execute(db);
        },
        /** Back to one key per operator: each keeps its oldest unrevoked key (else its oldest). */
        async down(db) {
            const firstKey = (column) => sql.raw(`(select k.${column} from operator_keys k where k.operator_id = operators.id
        order by case when k.revoked_at is null then 0 else 1 end, k.created_at, k.key_id limit 1)`);
            if (dialect === 'postgres') {
                await sql `drop trigger if exists sk_changes_operator_keys on operator_keys`.execute(db);
                await sql `alter table operators add column public_key bytea, add column key_id text`.execute(db);
                await sql `update operators set public_key = ${firstKey('public_key')}, key_id = ${firstKey('key_id')}`.execute(db);
                await sql `delete from operators where key_id is null`.execute(db);
                await sql `alter table operators alter column public_key set not null, alter column key_id set not null, add constraint operators_key_id_key unique (key_id)`.execute(db);
            }
            else {
                for (const op of ['insert', 'update', 'delete'])
                    await sql.raw(`drop trigger if exists sk_changes_operator_keys_${op}`).execute(db);
                await sql `create table operators_prev (
          id text primary key, name text not null unique, role text not null, public_key blob not null, key_id text not null unique,
          status text not null, created_at integer not null, created_by text)`.execute(db);
                await sql `insert into operators_prev (id, name, role, public_key, key_id, status, created_at, created_by)
          select id, name, role, ${firstKey('public_key')}, ${firstKey('key_id')}, status, created_at, created_by from operators
          where exists (select 1 from operator_keys k where k.operator_id = operators.id)`.execute(db);
                await sql `drop table operators`.execute(db);
                await sql `alter table operators_prev rename to operators`.execute(db);
                for (const op of ['insert', 'update', 'delete']) {
                    await sql.raw(`create trigger sk_changes_operators_${op} after ${op} on operators begin ${BUMP}; end`).execute(db);
                }
            }
            await db.schema.dropTable('operator_invitations').execute();
            await db.schema.dropTable('operator_keys').execute();
        },
    };
}
//# sourceMappingURL=0006-operator-keys.js.map