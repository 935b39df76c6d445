/**
 * Reading `SHOW GRANTS` for the one thing rotation needs: may this admin run ALTER USER on other
 * accounts? MySQL and MariaDB both allow it with the global CREATE USER privilege, or UPDATE on
 * the `mysql` schema (or ALL PRIVILEGES on either).
 *
 * @example
 *   canAlterUsers(["GRANT CREATE USER ON *.* TO `sk_admin`@`%`"]) // → { allowed: true, viaRoles: false }
 */
export interface GrantReading {
    allowed: boolean;
    /** Some privileges come through roles, whose grants SHOW GRANTS does not expand. */
    viaRoles: boolean;
}
export declare function canAlterUsers(grantLines: string[]): GrantReading;
