/**
 * Reading `SHOW GRANTS` for the one thing rotation needs: may this admin run ALTER USER on other
 * accounts? MySQL and MariaDB both allow it with the global CREATE USER privilege, or UPDATE on
 * the `mysql` schema (or ALL PRIVILEGES on either).
 *
 * @example
 *   canAlterUsers(["GRANT CREATE USER ON *.* TO `sk_admin`@`%`"]) // → { allowed: true, viaRoles: false }
 */
const ON_CLAUSE = /^GRANT\s+(.+?)\s+ON\s+(?:(?:TABLE|FUNCTION|PROCEDURE|PACKAGE(?:\s+BODY)?)\s+)?(\S+)\s+TO\s/i;
export function canAlterUsers(grantLines) {
    let allowed = false;
    let viaRoles = false;
    for (const line of grantLines) {
        const m = ON_CLAUSE.exec(line);
        if (m === null) {
            // "GRANT `role`@`%` TO `user`@`%`": a role grant, without ON
            if (/^GRANT\s/i.test(line) && !/^GRANT\s+PROXY\s/i.test(line))
                viaRoles = true;
            continue;
        }
        const privileges = (m[1] ?? '').split(',').map((p) => p.trim().toUpperCase());
        const scope = (m[2] ?? '').replace(/`/g, '').toLowerCase();
        const global = scope === '*.*';
        const mysqlSchema = scope === 'mysql.*';
        if (global && privileges.some((p) => p === 'ALL PRIVILEGES' || p === 'ALL' || p === 'CREATE USER' || p === 'UPDATE'))
            allowed = true;
        if (mysqlSchema && privileges.some((p) => p === 'ALL PRIVILEGES' || p === 'ALL' || p === 'UPDATE'))
            allowed = true;
    }
    return { allowed, viaRoles };
}
//# sourceMappingURL=mysql-preflight.js.map