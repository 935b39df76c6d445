/**
 * One fixture per engine for end-to-end rotation tests: creates throwaway users on a real server
 * that enforces passwords, gives the secret fields for them and for an admin, and checks logins.
 * PostgreSQL runs on the scram cluster, MySQL on the machine's MariaDB, Redis on the shared Redis
 * (ACL users), MongoDB on the MongoDB wire test server (a test double: no MongoDB here).
 */
import pg from 'pg';
import mysql from 'mysql2/promise';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { FLAVOURS } from '../../protocol/engines.js';
import { scramCluster } from './pg-scram-cluster.js';
import { mysqlUrl, parseServiceUrl, randomTag, redisUrl } from './services.js';
import { MongoWireTestServer } from './mongo-wire-server.js';
/**
 * The engine table's row each fixture runs on this machine (MySQL: the MariaDB at MYSQL_URL;
 * MongoDB: the wire test server). Supabase and MySQL 8 have no server here: their rows are proven
 * by the decision table's fakes (test/agent/decisions.test.ts) and, for MySQL 8, MYSQL8_URL.
 */
export const FIXTURE_FLAVOURS = { postgres: 'postgres', mysql: 'mariadb', redis: 'redis', mongodb: 'mongodb' };
/** Every (fixture engine, strategy) the engine table allows for the flavour the fixture runs. */
export function fixtureCombos() {
    return Object.keys(FIXTURE_FLAVOURS).flatMap((engine) => FLAVOURS[FIXTURE_FLAVOURS[engine]].strategies.map((strategy) => ({ engine, strategy })));
}
const tag = () => randomTag(3);
async function postgresFixture() {
    const cluster = await scramCluster();
    const owner = `sk_owner_${tag()}`;
    const made = [];
    const base = { host: cluster.host, port: String(cluster.port), database: 'postgres', tls: 'disable' };
    const admin = async (fn) => {
        const c = new pg.Client({ host: cluster.host, port: cluster.port, user: cluster.adminUser, password: cluster.adminPassword, database: 'postgres' });
        await c.connect();
        try {
            return await fn(c);
        }
        finally {
            await c.end();
        }
    };
    return {
        engine: 'postgres',
        admin: { ...base, username: cluster.adminUser, password: cluster.adminPassword },
        target: (username, password) => ({ ...base, username, password }),
        createUsers: (users) => admin(async (c) => {
            await c.query(`DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${c.escapeLiteral(owner)}) THEN CREATE ROLE ${c.escapeIdentifier(owner)} NOLOGIN; END IF; END $$`);
            for (const u of users) {
                await c.query(`DROP ROLE IF EXISTS ${c.escapeIdentifier(u.username)}`);
                await c.query(`CREATE ROLE ${c.escapeIdentifier(u.username)} LOGIN PASSWORD ${c.escapeLiteral(u.password)} IN ROLE ${c.escapeIdentifier(owner)}`);
                made.push(u.username);
            }
        }),
        login: (user, password) => loginWithFields('postgres', { ...base, username: user, password }),
        cleanup: () => admin(async (c) => {
            for (const u of made)
                await c.query(`DROP ROLE IF EXISTS ${c.escapeIdentifier(u)}`);
            await c.query(`DROP ROLE IF EXISTS ${c.escapeIdentifier(owner)}`);
        }),
    };
}
async function mysqlFixture() {
    const a = parseServiceUrl(mysqlUrl());
    const made = [];
    const adminUser = `sk_adm_${tag()}`;
    const adminPassword = `adm-${randomTag(8)}`;
    const root = async (fn) => {
        const c = await mysql.createConnection({ host: a.host, port: a.port, user: a.username ?? 'root', password: a.password ?? '' });
        try {
            return await fn(c);
        }
        finally {
            await c.end();
        }
    };
    await root(async (c) => {
        await c.query('CREATE USER ?@? IDENTIFIED BY ?', [adminUser, '%', adminPassword]);
        await c.query('GRANT CREATE USER, SELECT ON *.* TO ?@? WITH GRANT OPTION', [adminUser, '%']);
    });
    const base = { host: a.host, port: String(a.port), database: 'test', tls: 'disable' };
    return {
        engine: 'mysql',
        admin: { ...base, username: adminUser, password: adminPassword },
        target: (username, password) => ({ ...base, username, password }),
        createUsers: (users) => root(async (c) => {
            for (const u of users) {
                await c.query('DROP USER IF EXISTS ?@?', [u.username, '%']);
                await c.query('CREATE USER ?@? IDENTIFIED BY ?', [u.username, '%', u.password]);
                await c.query('GRANT SELECT ON test.* TO ?@?', [u.username, '%']);
                made.push(u.username);
            }
        }),
        login: (user, password) => loginWithFields('mysql', { ...base, username: user, password }),
        cleanup: () => root(async (c) => {
            for (const u of [...made, adminUser])
                await c.query('DROP USER IF EXISTS ?@?', [u, '%']);
        }),
    };
}
async function redisFixture() {
    const a = parseServiceUrl(redisUrl());
    const made = [];
    const adminUser = `sk_adm_${tag()}`;
    const adminPassword = `adm-${randomTag(8)}`;
    const root = new Redis({ host: a.host, port: a.port, lazyConnect: true, maxRetriesPerRequest: 1 });
    await root.connect();
    await root.call('ACL', 'SETUSER', adminUser, 'on', `>${adminPassword}`, '+@all', '~*', '&*');
    const base = { host: a.host, port: String(a.port), tls: 'disable' };
    return {
        engine: 'redis',
        admin: { ...base, username: adminUser, password: adminPassword },
        target: (username, password) => ({ ...base, username, password }),
        createUsers: async (users) => {
            for (const u of users) {
                await root.call('ACL', 'SETUSER', u.username, 'reset', 'on', `>${u.password}`, '+ping', '+get', '~app:*');
                made.push(u.username);
            }
        },
        login: (user, password) => loginWithFields('redis', { ...base, username: user, password }),
        cleanup: async () => {
            for (const u of [...made, adminUser])
                await root.call('ACL', 'DELUSER', u);
            root.disconnect();
        },
    };
}
async function mongodbFixture() {
    const rootPwd = `root-${randomTag(8)}`;
    const srv = await MongoWireTestServer.start({ users: [{ db: 'admin', user: 'root', pwd: rootPwd, roles: [{ role: 'root', db: 'admin' }] }] });
    const base = { host: '127.0.0.1', port: String(srv.port), authSource: 'admin', tls: 'disable' };
    const client = (user, password) => new MongoClient(`mongodb://127.0.0.1:${srv.port}/`, {
        auth: { username: user, password }, authSource: 'admin', directConnection: true, serverSelectionTimeoutMS: 3000, authMechanism: 'SCRAM-SHA-256',
    });
    return {
        engine: 'mongodb',
        admin: { ...base, username: 'root', password: rootPwd },
        target: (username, password) => ({ ...base, username, password }),
        createUsers: async (users) => {
            const c = client('root', rootPwd);
            try {
                for (const u of users) {
                    await c.db('admin').command({ dropUser: u.username }).catch(() => undefined);
                    await c.db('admin').command({ createUser: u.username, pwd: u.password, roles: [], mechanisms: ['SCRAM-SHA-256'] });
                }
            }
            finally {
                await c.close();
            }
        },
        login: (user, password) => loginWithFields('mongodb', { ...base, username: user, password }),
        cleanup: () => srv.stop(),
    };
}
export function engineFixture(engine) {
    switch (engine) {
        case 'postgres': return postgresFixture();
        case 'mysql': return mysqlFixture();
        case 'redis': return redisFixture();
        case 'mongodb': return mongodbFixture();
    }
}
/**
 * Logs in with a database secret's fields, the way an application would: true when the server
 * accepted the credential, false when it refused it; anything else throws.
 */
export async function loginWithFields(engine, f) {
    const host = f['host'] ?? '127.0.0.1';
    const port = Number(f['port']);
    const username = f['username'] ?? '';
    const password = f['password'] ?? '';
    switch (engine) {
        case 'postgres': {
            const c = new pg.Client({ host, port, user: username, password, database: f['database'] ?? 'postgres', connectionTimeoutMillis: 5000 });
            try {
                await c.connect();
                await c.query('SELECT 1');
                return true;
            }
            catch (err) {
                if (err.code === '28P01')
                    return false;
                throw err;
            }
            finally {
                await c.end().catch(() => undefined);
            }
        }
        case 'mysql': {
            try {
                const c = await mysql.createConnection({ host, port, user: username, password, database: f['database'] ?? 'test', connectTimeout: 5000 });
                await c.query('SELECT 1');
                await c.end();
                return true;
            }
            catch (err) {
                if (err.code === 'ER_ACCESS_DENIED_ERROR')
                    return false;
                throw err;
            }
        }
        case 'redis': {
            const c = new Redis({ host, port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
            try {
                await c.connect();
                await c.call('AUTH', username, password);
                return true;
            }
            catch (err) {
                if (/WRONGPASS|invalid username-password/i.test(err.message))
                    return false;
                throw err;
            }
            finally {
                c.disconnect();
            }
        }
        case 'mongodb': {
            const c = new MongoClient(`mongodb://${host}:${port}/`, {
                auth: { username, password }, authSource: f['authSource'] ?? 'admin', directConnection: true, serverSelectionTimeoutMS: 3000, authMechanism: 'SCRAM-SHA-256',
            });
            try {
                await c.db('admin').command({ ping: 1 });
                return true;
            }
            catch (err) {
                if (err.code === 18 || /Authentication failed/.test(err.message))
                    return false;
                throw err;
            }
            finally {
                await c.close().catch(() => undefined);
            }
        }
    }
}
//# sourceMappingURL=engine-fixtures.js.map