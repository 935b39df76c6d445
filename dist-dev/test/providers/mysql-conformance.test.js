// The MySQL / MariaDB provider against the real server (MYSQL_URL, default the machine's MariaDB).
// Tests make their own accounts with passwords, and an admin holding only what rotation needs
// (CREATE USER, plus read access to the account table so preflight can see accounts); all are dropped after.
import { after, before } from 'node:test';
import mysql from 'mysql2/promise';
import { runConformance } from '../../providers/conformance.js';
import { assertReachable, mysqlUrl, parseServiceUrl, randomTag } from '../support/services.js';
const url = mysqlUrl();
await assertReachable('mysql', url);
const server = parseServiceUrl(url);
const t = randomTag();
const adminName = `sk_t_adm_${t}`;
const adminPassword = `adm-${randomTag(12)}`;
const rootConnection = () => mysql.createConnection({ host: server.host, port: server.port, user: server.username || 'root', password: server.password, multipleStatements: false });
// the flavour depends on the server (MySQL 8 or MariaDB); its row in the engine table says what runs
const probe = await rootConnection();
const [versionRows] = await probe.query('SELECT VERSION() AS v');
const version = String(versionRows[0]?.v ?? '');
await probe.end();
const flavour = /mariadb/i.test(version) ? 'mariadb' : 'mysql8';
let root;
before(async () => {
    root = await rootConnection();
    await root.query('DROP USER IF EXISTS ?@?', [adminName, '%']);
    await root.query('CREATE USER ?@? IDENTIFIED BY ?', [adminName, '%', adminPassword]);
    await root.query('GRANT CREATE USER ON *.* TO ?@?', [adminName, '%']);
    // read-only, for preflight: MariaDB keeps accounts in mysql.global_priv, MySQL in mysql.user
    await root.query(`GRANT SELECT ON ${/mariadb/i.test(version) ? 'mysql.global_priv' : 'mysql.user'} TO ?@?`, [adminName, '%']);
});
after(async () => {
    await root?.query('DROP USER IF EXISTS ?@?', [adminName, '%']).catch(() => undefined);
    await root?.end();
});
const secret = (username, password) => ({
    host: server.host,
    port: String(server.port),
    username,
    password,
});
const dropUser = async (name) => {
    await root.query('DROP USER IF EXISTS ?@?', [name, '%']);
};
runConformance({
    engine: 'mysql',
    flavour,
    hostileUsernames: [
        `we"ird'; DROP_${t}`,
        `back\\slash\\\\_${t}`,
        `space name ${t}`,
        `ünï-日本-€_${t}`,
        `q?mark%pct_${t}`,
        // MariaDB allows 80 characters (MySQL 32): a 64+ name only where the server takes it
        ...(/mariadb/i.test(version) ? [`L_${t}_`.padEnd(80, 'x')] : []),
    ],
    setup: async ({ username, password }) => {
        await dropUser(username);
        await root.query('CREATE USER ?@? IDENTIFIED BY ?', [username, '%', password]);
        return { admin: secret(adminName, adminPassword), target: secret(username, password), cleanup: () => dropUser(username) };
    },
    setupUnprivilegedAdmin: async () => {
        const name = `sk_t_weak_${randomTag()}`;
        const password = `weak-${randomTag(12)}`;
        await root.query('CREATE USER ?@? IDENTIFIED BY ?', [name, '%', password]);
        return { admin: secret(name, password), cleanup: () => dropUser(name) };
    },
});
//# sourceMappingURL=mysql-conformance.test.js.map