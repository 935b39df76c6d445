/**
 * The databases the quickstart can rotate a throwaway user on: the machine's Redis or MariaDB
 * (found on their usual local ports, or REDIS_URL / MYSQL_URL), or a PostgreSQL given with
 * `--postgres-url` (it must enforce passwords, or nothing could be proven). Each creates its own
 * throwaway users and removes them again; nothing that was there before is changed.
 *
 * @example
 *   const found = await findDemoDatabase({ postgresUrl: undefined });
 *   if ('engine' in found) { const users = await found.setup(); …; await found.cleanup(); }
 */
import { createHash, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { tlsOptions } from '../providers/provider-config.js';
/** A database that answers but cannot be used for the demo; the message says what to change. */
export class DemoDatabaseError extends Error {
}
const newPassword = () => randomBytes(24).toString('base64url');
const tag = () => randomBytes(3).toString('hex');
const reason = (err) => {
    const e = err;
    return e.code ?? (e.message ?? String(err)).split('\n')[0] ?? 'error';
};
/** `--postgres-url` wins; otherwise Redis, then MariaDB/MySQL, whichever answers first in that order. */
export async function findDemoDatabase(opts) {
    if (opts.postgresUrl)
        return postgresDatabase(opts.postgresUrl);
    const tried = [];
    const redisUrl = opts.redisUrl || process.env.REDIS_URL || 'redis://127.0.0.1:6379';
    try {
        return await redisDatabase(redisUrl);
    }
    catch (err) {
        tried.push(`Redis at ${hostPort(redisUrl, 6379)} (${reason(err)})`);
    }
    const mysqlUrl = opts.mysqlUrl || process.env.MYSQL_URL || 'mysql://root@127.0.0.1:3306';
    try {
        return await mysqlDatabase(mysqlUrl);
    }
    catch (err) {
        tried.push(`MariaDB/MySQL at ${hostPort(mysqlUrl, 3306)} (${reason(err)})`);
    }
    return { tried };
}
function hostPort(url, defaultPort) {
    const u = new URL(url);
    return `${u.hostname}:${u.port || defaultPort}`;
}
function parse(url, defaultPort) {
    const u = new URL(url);
    const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
    return {
        host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || defaultPort),
        user: decodeURIComponent(u.username), password: decodeURIComponent(u.password), database: database || undefined,
    };
}
// -- Redis: throwaway ACL users; the default user and the configuration stay untouched ----------
async function redisDatabase(url) {
    const a = parse(url, 6379);
    const connect = async (auth) => {
        const c = new Redis({
            host: a.host, port: a.port, lazyConnect: true, protocol: 2, enableReadyCheck: false, connectTimeout: 1500,
            retryStrategy: () => null, maxRetriesPerRequest: 0, enableOfflineQueue: false,
            ...(a.password ? { username: a.user || 'default', password: a.password } : {}),
        });
        let lastError;
        c.on('error', (err) => { lastError = err; });
        try {
            await c.connect();
            if (auth)
                await c.call('AUTH', ...auth);
        }
        catch (err) {
            c.disconnect();
            throw lastError ?? err;
        }
        return c;
    };
    // The quickstart's own connection, as the URL's user (the machine's default user): creates and
    // removes the throwaway users, nothing else.
    const root = await connect();
    let version;
    try {
        await root.call('ACL', 'WHOAMI');
        version = /redis_version:(\S+)/.exec(String(await root.call('INFO', 'server')))?.[1] ?? '?';
    }
    catch (err) {
        root.disconnect();
        throw err;
    }
    const t = tag();
    const user = `sk_quickstart_${t}`;
    const adminUser = `sk_quickstart_admin_${t}`;
    let created = false;
    const hash = (p) => createHash('sha256').update(p, 'utf8').digest('hex');
    return {
        engine: 'redis',
        description: `Redis ${version} at ${a.host}:${a.port}`,
        refusal: 'WRONGPASS',
        async setup() {
            const initial = newPassword();
            const adminPassword = newPassword();
            created = true;
            // -@all +ping: the rotated user can do nothing but prove it logs in
            await root.call('ACL', 'SETUSER', user, 'on', `#${hash(initial)}`, '-@all', '+ping');
            // what the Redis provider needs: ACL (GETUSER, SETUSER, DRYRUN, SAVE), CONFIG GET, INFO
            await root.call('ACL', 'SETUSER', adminUser, 'on', `#${hash(adminPassword)}`, '-@all', '+acl', '+config|get', '+info', '+ping');
            const base = { host: a.host, port: String(a.port) };
            return {
                username: user, initialPassword: initial,
                target: { ...base, username: user, password: initial },
                admin: { ...base, username: adminUser, password: adminPassword },
                created: `ACL users ${user} (to rotate) and ${adminUser} (its admin)`,
            };
        },
        async login(password) {
            try {
                const c = await connect([user, password]);
                try {
                    if ((await c.call('PING')) !== 'PONG')
                        throw new Error('PING did not answer PONG');
                }
                finally {
                    c.disconnect();
                }
                return true;
            }
            catch (err) {
                if (/WRONGPASS/.test(err instanceof Error ? err.message : String(err)))
                    return false;
                throw err;
            }
        },
        async cleanup() {
            try {
                if (created) {
                    await root.call('ACL', 'DELUSER', user, adminUser);
                    // a server with an aclfile saved the users when the agent rotated: save their removal too
                    const aclfile = (await root.call('CONFIG', 'GET', 'aclfile').catch(() => []));
                    if (typeof aclfile[1] === 'string' && aclfile[1] !== '')
                        await root.call('ACL', 'SAVE');
                }
            }
            finally {
                created = false;
                root.disconnect();
            }
        },
    };
}
// -- MariaDB / MySQL: throwaway accounts ---------------------------------------------------------
async function mysqlDatabase(url) {
    const a = parse(url, 3306);
    const root = await mysql.createConnection({ host: a.host, port: a.port, user: a.user || 'root', password: a.password, connectTimeout: 1500 });
    let version;
    try {
        const [rows] = await root.query('SELECT VERSION() AS v');
        version = String(rows[0]?.v ?? '?');
    }
    catch (err) {
        await root.end().catch(() => undefined);
        throw err;
    }
    const mariadb = /mariadb/i.test(version);
    const t = tag();
    const user = `sk_quickstart_${t}`;
    const adminUser = `sk_qs_admin_${t}`;
    let created = false;
    return {
        engine: 'mysql',
        description: `${mariadb ? 'MariaDB' : 'MySQL'} ${version.split('-')[0]} at ${a.host}:${a.port}`,
        refusal: 'ER_ACCESS_DENIED_ERROR',
        async setup() {
            const initial = newPassword();
            const adminPassword = newPassword();
            created = true;
            await root.query('CREATE USER ?@? IDENTIFIED BY ?', [user, '%', initial]);
            await root.query('CREATE USER ?@? IDENTIFIED BY ?', [adminUser, '%', adminPassword]);
            await root.query('GRANT CREATE USER ON *.* TO ?@?', [adminUser, '%']);
            // read-only, for the preflight check of the account (MariaDB keeps them in mysql.global_priv)
            await root.query(`GRANT SELECT ON ${mariadb ? 'mysql.global_priv' : 'mysql.user'} TO ?@?`, [adminUser, '%']);
            const base = { host: a.host, port: String(a.port) };
            return {
                username: user, initialPassword: initial,
                target: { ...base, username: user, password: initial },
                admin: { ...base, username: adminUser, password: adminPassword },
                created: `accounts '${user}'@'%' (to rotate) and '${adminUser}'@'%' (its admin, CREATE USER)`,
            };
        },
        async login(password) {
            try {
                const c = await mysql.createConnection({ host: a.host, port: a.port, user, password, connectTimeout: 5000 });
                await c.end();
                return true;
            }
            catch (err) {
                if (err.code === 'ER_ACCESS_DENIED_ERROR')
                    return false;
                throw err;
            }
        },
        async cleanup() {
            try {
                if (created)
                    for (const u of [user, adminUser])
                        await root.query('DROP USER IF EXISTS ?@?', [u, '%']);
            }
            finally {
                created = false;
                await root.end().catch(() => undefined);
            }
        },
    };
}
// -- PostgreSQL (--postgres-url, as an admin that may CREATE ROLE) --------------------------------
async function postgresDatabase(url) {
    const a = parse(url, 5432);
    const database = a.database ?? 'postgres';
    // libpq's sslmode, as the providers read the secret's "tls" (providers/provider-config.ts tlsOptions)
    const mode = /[?&]sslmode=(require|verify-full|verify-ca)/.exec(url)?.[1];
    const tls = mode === undefined ? 'disable' : mode === 'require' ? 'require' : 'verify-full';
    const ssl = tls === 'disable' ? false : tlsOptions({ host: a.host, tls }, undefined) ?? false;
    const clientFor = (user, password) => new pg.Client({ host: a.host, port: a.port, user, password, database, connectionTimeoutMillis: 5000, ssl });
    const root = clientFor(a.user || 'postgres', a.password);
    let version;
    try {
        await root.connect();
        version = String((await root.query('SHOW server_version')).rows[0]?.server_version ?? '?');
    }
    catch (err) {
        await root.end().catch(() => undefined);
        throw new DemoDatabaseError(`--postgres-url: cannot use PostgreSQL at ${a.host}:${a.port} (${reason(err)})`);
    }
    const user = `sk_quickstart_${tag()}`;
    let created = false;
    const login = async (password) => {
        const c = clientFor(user, password);
        try {
            await c.connect();
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
    };
    const cleanup = async () => {
        try {
            if (created)
                await root.query(`DROP ROLE IF EXISTS ${root.escapeIdentifier(user)}`);
        }
        finally {
            created = false;
            await root.end().catch(() => undefined);
        }
    };
    return {
        engine: 'postgres',
        description: `PostgreSQL ${version.split(' ')[0]} at ${a.host}:${a.port}`,
        refusal: '28P01 password authentication failed',
        async setup() {
            const initial = newPassword();
            created = true;
            await root.query(`CREATE ROLE ${root.escapeIdentifier(user)} LOGIN PASSWORD ${root.escapeLiteral(initial)}`);
            // A server that lets a wrong password in (trust, or peer) cannot show a rotation working.
            if (await login(`wrong-${newPassword()}`)) {
                throw new DemoDatabaseError(`PostgreSQL at ${a.host}:${a.port} accepted a wrong password for ${user} (trust authentication?): ` +
                    'give --postgres-url a server whose pg_hba.conf asks for passwords (scram-sha-256)');
            }
            const base = { host: a.host, port: String(a.port), database, tls };
            return {
                username: user, initialPassword: initial,
                target: { ...base, username: user, password: initial },
                admin: { ...base, username: a.user || 'postgres', password: a.password },
                created: `role ${user} (to rotate; the URL's user ${a.user || 'postgres'} is its admin)`,
            };
        },
        login,
        cleanup,
    };
}
//# sourceMappingURL=quickstart-databases.js.map