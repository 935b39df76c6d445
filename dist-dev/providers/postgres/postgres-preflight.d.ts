export interface PgAdminRow {
    rolname: string;
    rolsuper: boolean;
    rolcreaterole: boolean;
}
export interface PgRoleRow {
    rolname: string;
    rolsuper: boolean;
    rolreplication: boolean;
    rolcanlogin: boolean;
    /** A Date, or null (no limit); pg parses 'infinity' to a number. */
    rolvaliduntil: Date | number | null;
    /** pg_has_role(current_user, role, 'MEMBER WITH ADMIN OPTION'). */
    admin_option: boolean;
}
export interface PgPreflightInput {
    admin: PgAdminRow;
    roles: PgRoleRow[];
    usernames: string[];
    /** server_version_num, e.g. 150020. */
    versionNum: number;
    /** host:port, for messages. */
    endpoint: string;
    now?: Date;
}
export declare const ROLE_QUERY = "\n  SELECT rolname, rolsuper, rolreplication, rolcanlogin, rolvaliduntil,\n         pg_has_role(current_user, oid, 'MEMBER WITH ADMIN OPTION') AS admin_option\n    FROM pg_roles WHERE rolname = ANY($1::text[])";
export declare const ADMIN_QUERY = "SELECT rolname, rolsuper, rolcreaterole FROM pg_roles WHERE rolname = current_user";
/** One line per problem; empty when the admin can rotate every role. */
export declare function pgPreflightProblems(input: PgPreflightInput): string[];
