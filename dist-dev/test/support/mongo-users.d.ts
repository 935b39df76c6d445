import type { ScramCredential } from './mongo-scram.js';
export interface RoleRef {
    role: string;
    db: string;
}
export interface StoredUser {
    db: string;
    user: string;
    userId: string;
    roles: RoleRef[];
    /** Only SCRAM-SHA-256: the test server advertises and stores nothing else. */
    credentials: {
        'SCRAM-SHA-256': ScramCredential;
    };
    customData?: Record<string, unknown>;
    /** How many times the credential was (re)written: lets tests see an update happened. */
    credentialWrites: number;
}
/** A resource pattern as `connectionStatus` prints it. */
export type Resource = {
    db: string;
    collection: string;
} | {
    cluster: true;
} | {
    anyResource: true;
};
export interface Privilege {
    resource: Resource;
    actions: string[];
}
export declare function roleExists(role: RoleRef): boolean;
export declare function privilegesOf(roles: readonly RoleRef[]): Privilege[];
/** mongod's check for a database resource: exact db, any normal db, or anyResource. */
export declare function isAuthorizedOnDatabase(roles: readonly RoleRef[], db: string, action: string): boolean;
export declare function isAuthorizedOnCluster(roles: readonly RoleRef[], action: string): boolean;
/** In-memory `admin.system.users`, keyed by (db, user). */
export declare class MongoUserStore {
    private readonly users;
    private static key;
    get(db: string, user: string): StoredUser | undefined;
    insert(entry: Omit<StoredUser, 'userId' | 'credentialWrites'>): StoredUser | undefined;
    delete(db: string, user: string): boolean;
    list(): StoredUser[];
}
