/**
 * Who may change whose password in PostgreSQL, as read-only checks with operator-ready fixes.
 *
 * The rules (src/backend/commands/user.c, AlterRole):
 * - A superuser may change any role's password; only a superuser may change a superuser's.
 * - PostgreSQL ≤ 15: CREATEROLE suffices for any other role, except REPLICATION roles, which
 *   need a superuser.
 * - PostgreSQL ≥ 16: CREATEROLE plus ADMIN OPTION on the role (the creator of a role gets it
 *   automatically); REPLICATION roles are no longer special.
 * - Every role may change its own password.
 *
 * @example
 *   pgPreflightProblems({ admin, roles, usernames: ['app'], versionNum: 150020, endpoint })
 *   // → ['admin "sk_admin" lacks CREATEROLE: run ALTER ROLE sk_admin CREATEROLE']
 */
import pg from 'pg';
import { quoteName } from '../provider-errors.js';
export const ROLE_QUERY = `
  SELECT rolname, rolsuper, rolreplication, rolcanlogin, rolvaliduntil,
         pg_has_role(current_user, oid, 'MEMBER WITH ADMIN OPTION') AS admin_option
    FROM pg_roles WHERE rolname = ANY($1::text[])`;
export const ADMIN_QUERY = 'SELECT rolname, rolsuper, rolcreaterole FROM pg_roles WHERE rolname = current_user';
/** One line per problem; empty when the admin can rotate every role. */
export function pgPreflightProblems(input) {
    const problems = [];
    const { admin, versionNum } = input;
    const adminId = pg.escapeIdentifier(admin.rolname);
    const now = input.now ?? new Date();
    // a role may change its own password: CREATEROLE matters only for the others
    if (!admin.rolsuper && !admin.rolcreaterole && input.usernames.some((u) => u !== admin.rolname)) {
        problems.push(`admin ${quoteName(admin.rolname)} lacks CREATEROLE: run ALTER ROLE ${adminId} CREATEROLE` +
            (versionNum >= 160000 ? ' (PostgreSQL 16+ also needs ADMIN OPTION on each rotated role)' : ''));
    }
    for (const name of input.usernames) {
        const role = input.roles.find((r) => r.rolname === name);
        const roleId = pg.escapeIdentifier(name);
        if (role === undefined) {
            problems.push(`role ${quoteName(name)} does not exist on PostgreSQL at ${input.endpoint}: create it (CREATE ROLE ${roleId} LOGIN) or fix the secret's username`);
            continue;
        }
        if (!role.rolcanlogin)
            problems.push(`role ${quoteName(name)} cannot log in (NOLOGIN): run ALTER ROLE ${roleId} LOGIN`);
        if (role.rolvaliduntil instanceof Date && role.rolvaliduntil.getTime() <= now.getTime()) {
            problems.push(`role ${quoteName(name)}'s password expired at ${role.rolvaliduntil.toISOString()} (VALID UNTIL), and a new password does not change that: ` +
                `run ALTER ROLE ${roleId} VALID UNTIL 'infinity'`);
        }
        if (admin.rolsuper || name === admin.rolname)
            continue;
        if (role.rolsuper) {
            problems.push(`role ${quoteName(name)} is a superuser: only a superuser admin may change its password; use a superuser admin secret or rotate a non-superuser role`);
            continue;
        }
        if (versionNum < 160000 && role.rolreplication) {
            problems.push(`role ${quoteName(name)} has REPLICATION: before PostgreSQL 16 only a superuser admin may change its password`);
            continue;
        }
        if (versionNum >= 160000 && admin.rolcreaterole && !role.admin_option) {
            problems.push(`admin ${quoteName(admin.rolname)} lacks ADMIN OPTION on role ${quoteName(name)} (required since PostgreSQL 16): ` +
                `run GRANT ${roleId} TO ${adminId} WITH ADMIN OPTION, INHERIT FALSE, SET FALSE`);
        }
    }
    return problems;
}
//# sourceMappingURL=postgres-preflight.js.map