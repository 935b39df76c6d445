// Rotation end to end on MySQL/MariaDB (MYSQL_URL, default the machine's MariaDB): a real vault
// process, a real agent process, an account with a password (MariaDB enforces it for TCP logins)
// and an admin holding only what rotation needs (CREATE USER, plus reading the account table).
import { before, after } from 'node:test';
import mysql from 'mysql2/promise';
import { startRotationHarness } from '../support/rotation-harness.js';
import { defineEngineRotationTests } from '../support/engine-rotation-e2e.js';
import { assertReachable, mysqlUrl, parseServiceUrl, randomTag } from '../support/services.js';
const server = parseServiceUrl(mysqlUrl());
const t = randomTag();
const USER = `sk_e2e_app_${t}`;
const ADMIN = `sk_e2e_adm_${t}`;
const INITIAL = `initial-${randomTag(10)}`;
const ADMIN_PASSWORD = `admin-${randomTag(10)}`;
let root;
let h;
const base = { host: server.host, port: String(server.port) };
async function login(user, password) {
    let c;
    try {
        c = await mysql.createConnection({ host: server.host, port: server.port, user, password, connectTimeout: 5000 });
        await c.query('SELECT 1');
        return true;
    }
    catch (err) {
        if (err.errno === 1045)
            return false; // access denied
        throw err;
    }
    finally {
        await c?.end().catch(() => undefined);
    }
}
before(async () => {
    await assertReachable('mysql', mysqlUrl());
    root = await mysql.createConnection({ host: server.host, port: server.port, user: server.username || 'root', password: server.password });
    const [rows] = await root.query('SELECT VERSION() AS v');
    const accounts = /mariadb/i.test(String(rows[0]?.v)) ? 'mysql.global_priv' : 'mysql.user';
    for (const name of [USER, ADMIN])
        await root.query('DROP USER IF EXISTS ?@?', [name, '%']);
    await root.query('CREATE USER ?@? IDENTIFIED BY ?', [USER, '%', INITIAL]);
    await root.query('CREATE USER ?@? IDENTIFIED BY ?', [ADMIN, '%', ADMIN_PASSWORD]);
    await root.query('GRANT CREATE USER ON *.* TO ?@?', [ADMIN, '%']);
    await root.query(`GRANT SELECT ON ${accounts} TO ?@?`, [ADMIN, '%']);
    h = await startRotationHarness({
        engine: 'mysql',
        target: { ...base, username: USER, password: INITIAL },
        admin: { ...base, username: ADMIN, password: ADMIN_PASSWORD },
    });
});
after(async () => {
    await h?.close();
    for (const name of [USER, ADMIN])
        await root?.query('DROP USER IF EXISTS ?@?', [name, '%']).catch(() => undefined);
    await root?.end();
});
defineEngineRotationTests('mysql', () => ({ label: 'mysql', harness: h, user: USER, admin: { ...base, username: ADMIN, password: ADMIN_PASSWORD }, login }));
//# sourceMappingURL=rotation-mysql.test.js.map