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
  credentials: { 'SCRAM-SHA-256': ScramCredential };
  customData?: Record<string, unknown>;
  /** How many times the credential was (re)written: lets tests see an update happened. */
  credentialWrites: number;
}

/** A resource pattern as `connectionStatus` prints it. */
export type Resource = { db: string; collection: string } | { cluster: true } | { anyResource: true };

export interface Privilege {
  resource: Resource;
  actions: string[];
}

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
const DB_ROLES: Record<string, (db: string) => Privilege[]> = {
  read: (db) => [{ resource: { db, collection: '' }, actions: READ_ACTIONS }],
  readWrite: (db) => [{ resource: { db, collection: '' }, actions: [...READ_ACTIONS, ...WRITE_ACTIONS] }],
  dbAdmin: (db) => [{ resource: { db, collection: '' }, actions: DB_ADMIN_ACTIONS }],
  userAdmin: (db) => [{ resource: { db, collection: '' }, actions: USER_ADMIN_ACTIONS }],
  dbOwner: (db) => [
    { resource: { db, collection: '' }, actions: [...READ_ACTIONS, ...WRITE_ACTIONS, ...DB_ADMIN_ACTIONS, ...USER_ADMIN_ACTIONS] },
  ],
};

const ANY_DB: Resource = { db: '', collection: '' };

/** Roles that exist only on `admin`. */
const ADMIN_ROLES: Record<string, () => Privilege[]> = {
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
      // killAnySession: mongod's root has it through clusterAdmin (hostManager)
      actions: ['authSchemaUpgrade', 'invalidateUserCache', 'killAnySession', 'listDatabases', 'serverStatus', 'shutdown', 'viewUser'],
    },
  ],
};

export function roleExists(role: RoleRef): boolean {
  return Object.hasOwn(DB_ROLES, role.role) || (role.db === 'admin' && Object.hasOwn(ADMIN_ROLES, role.role));
}

export function privilegesOf(roles: readonly RoleRef[]): Privilege[] {
  const out: Privilege[] = [];
  for (const r of roles) {
    const dbRole = DB_ROLES[r.role];
    if (dbRole) out.push(...dbRole(r.db));
    const adminRole = r.db === 'admin' ? ADMIN_ROLES[r.role] : undefined;
    if (adminRole) out.push(...adminRole());
  }
  return out;
}

/** mongod's check for a database resource: exact db, any normal db, or anyResource. */
export function isAuthorizedOnDatabase(roles: readonly RoleRef[], db: string, action: string): boolean {
  return privilegesOf(roles).some((p) => {
    if (!p.actions.includes(action)) return false;
    const r = p.resource;
    if ('anyResource' in r) return true;
    if ('cluster' in r) return false;
    return r.collection === '' && (r.db === db || r.db === '');
  });
}

export function isAuthorizedOnCluster(roles: readonly RoleRef[], action: string): boolean {
  return privilegesOf(roles).some((p) => p.actions.includes(action) && ('cluster' in p.resource || 'anyResource' in p.resource));
}

/** In-memory `admin.system.users`, keyed by (db, user). */
export class MongoUserStore {
  private readonly users = new Map<string, StoredUser>();

  private static key(db: string, user: string): string {
    return JSON.stringify([db, user]);
  }

  get(db: string, user: string): StoredUser | undefined {
    return this.users.get(MongoUserStore.key(db, user));
  }

  insert(entry: Omit<StoredUser, 'userId' | 'credentialWrites'>): StoredUser | undefined {
    const key = MongoUserStore.key(entry.db, entry.user);
    if (this.users.has(key)) return undefined;
    const stored: StoredUser = { ...entry, userId: randomUUID(), credentialWrites: 1 };
    this.users.set(key, stored);
    return stored;
  }

  delete(db: string, user: string): boolean {
    return this.users.delete(MongoUserStore.key(db, user));
  }

  list(): StoredUser[] {
    return [...this.users.values()];
  }
}
