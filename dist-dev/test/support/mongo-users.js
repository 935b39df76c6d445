/**
 * Users, built-in roles and privilege checks for the MongoDB wire TEST DOUBLE. Test support only.
 *
 * Only the built-in roles below exist (custom roles are not modelled); their privileges are
 * the subset of MongoDB's definitions (docs: "Built-In Roles") that the user-management
 * commands consult, plus the everyday data actions so `connectionStatus` with
 * `showPrivileges` looks plausible. Authorization checks follow mongod's
 * `isAuthorizedForActionsOnResource(ResourcePattern::forDatabaseName(db), action)`.
 */
import { randomUUID } from 'node:crypto';
const USER_ADMIN_ACTIONS = [
    'changeCustomData',
    'changePassword',
    'createRole',
    'createUser',
    'dropRole',
    'dropUser',
    'grantRole',
    'revokeRole',
    'setAuthenticationRestriction',
    'viewRole',
    'viewUser',
];
const READ_ACTIONS = ['changeStream', 'collStats', 'dbHash', 'dbStats', 'find', 'killCursors', 'listCollections', 'listIndexes'];
const WRITE_ACTIONS = [
    'convertToCapped',
    'createCollection',
    'createIndex',
    'dropCollection',
    'dropIndex',
    'insert',
    'remove',
    'renameCollectionSameDB',
    'update',
];
const DB_ADMIN_ACTIONS = [
    'bypassDocumentValidation',
    'collMod',
    'collStats',
    'compact',
    'createCollection',
    'createIndex',
    'dbStats',
    'dropCollection',
    'dropDatabase',
    'dropIndex',
    'enableProfiler',
    'listCollections',
    'listIndexes',
    'validate',
];
/** Roles that exist on every database. */
const DB_ROLES = {
    read: (db) => [{ resource: { db, collection: '' }, actions: READ_ACTIONS }],
    readWrite: (db) => [{ resource: { db, collection: '' }, actions: [...READ_ACTIONS, ...WRITE_ACTIONS] }],
    dbAdmin: (db) => [{ resource: { db, collection: '' }, actions: DB_ADMIN_ACTIONS }],
    userAdmin: (db) => [{ resource: { db, collection: '' }, actions: USER_ADMIN_ACTIONS }],
    dbOwner: (db) => [
        { resource: { db, collection: '' }, actions: [...READ_ACTIONS, ...WRITE_ACTIONS, ...DB_ADMIN_ACTIONS, ...USER_ADMIN_ACTIONS] },
    ],
};
const ANY_DB = { db: '', collection: '' };
/** Roles that exist only on `admin`. */
const ADMIN_ROLES = {
    readAnyDatabase: () => [{ resource: ANY_DB, actions: READ_ACTIONS }],
    readWriteAnyDatabase: () => [{ resource: ANY_DB, actions: [...READ_ACTIONS, ...WRITE_ACTIONS] }],
    dbAdminAnyDatabase: () => [{ resource: ANY_DB, actions: DB_ADMIN_ACTIONS }],
    userAdminAnyDatabase: () => [
        { resource: ANY_DB, actions: USER_ADMIN_ACTIONS },
        { resource: { cluster: true }, actions: ['authSchemaUpgrade', 'invalidateUserCache', 'listDatabases', 'viewUser'] },
    ],
    clusterMonitor: () => [{ resource: { cluster: true }, actions: ['connPoolStats', 'getCmdLineOpts', 'listDatabases', 'serverStatus'] }],
    root: () => [
        { resource: ANY_DB, actions: [...READ_ACTIONS, ...WRITE_ACTIONS, ...DB_ADMIN_ACTIONS, ...USER_ADMIN_ACTIONS] },
        {
            resource: { cluster: true },
            actions: ['authSchemaUpgrade', 'invalidateUserCache', 'listDatabases', 'serverStatus', 'shutdown', 'viewUser'],
        },
    ],
};
export function roleExists(role) {
    return Object.hasOwn(DB_ROLES, role.role) || (role.db === 'admin' && Object.hasOwn(ADMIN_ROLES, role.role));
}
export function privilegesOf(roles) {
    const out = [];
    for (const r of roles) {
        const dbRole = DB_ROLES[r.role];
        if (dbRole)
            out.push(...dbRole(r.db));
        const adminRole = r.db === 'admin' ? ADMIN_ROLES[r.role] : undefined;
        if (adminRole)
            out.push(...adminRole());
    }
    return out;
}
/** mongod's check for a database resource: exact db, any normal db, or anyResource. */
export function isAuthorizedOnDatabase(roles, db, action) {
    return privilegesOf(roles).some((p) => {
        if (!p.actions.includes(action))
            return false;
        const r = p.resource;
        if ('anyResource' in r)
            return true;
        if ('cluster' in r)
            return false;
        return r.collection === '' && (r.db === db || r.db === '');
    });
}
export function isAuthorizedOnCluster(roles, action) {
    return privilegesOf(roles).some((p) => p.actions.includes(action) && ('cluster' in p.resource || 'anyResource' in p.resource));
}
/** In-memory `admin.system.users`, keyed by (db, user). */
export class MongoUserStore {
    users = new Map();
    static key(db, user) {
        return JSON.stringify([db, user]);
    }
    get(db, user) {
        return this.users.get(MongoUserStore.key(db, user));
    }
    insert(entry) {
        const key = MongoUserStore.key(entry.db, entry.user);
        if (this.users.has(key))
            return undefined;
        const stored = { ...entry, userId: randomUUID(), credentialWrites: 1 };
        this.users.set(key, stored);
        return stored;
    }
    delete(db, user) {
        return this.users.delete(MongoUserStore.key(db, user));
    }
    list() {
        return [...this.users.values()];
    }
}
//# sourceMappingURL=mongo-users.js.map