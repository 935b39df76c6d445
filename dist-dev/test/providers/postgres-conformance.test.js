// The PostgreSQL provider against a password-enforcing server: the throwaway scram cluster (or
// PG_SCRAM_URL). The admin is a CREATEROLE role, not a superuser, as an operator would set it up.
import { after, before } from 'node:test';
import pg from 'pg';
import { runConformance } from '../../providers/conformance.js';
import { scramCluster } from '../support/pg-scram-cluster.js';
import { randomTag } from '../support/services.js';
const t = randomTag();
const adminName = `sk_t_adm_${t}`;
const adminPassword = `adm-${randomTag(12)}`;
let cluster;
let root;
before(async () => {
    cluster = await scramCluster();
    console.log(`# scram cluster ready in ${cluster.startupMs} ms`);
    root = new pg.Client({ host: cluster.host, port: cluster.port, user: cluster.adminUser, password: cluster.adminPassword, database: 'postgres' });
    await root.connect();
    await root.query(`CREATE ROLE ${pg.escapeIdentifier(adminName)} LOGIN CREATEROLE PASSWORD ${pg.escapeLiteral(adminPassword)}`);
});
after(async () => {
    await root?.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(adminName)}`).catch(() => undefined);
    await root?.end();
    await cluster?.stop();
});
const secret = (username, password) => ({
    host: cluster.host,
    port: String(cluster.port),
    database: 'postgres',
    username,
    password,
});
const dropRole = async (name) => {
    await root.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(name)}`);
};
// 63 bytes is PostgreSQL's limit (NAMEDATALEN - 1); longer names are refused by the provider
const long = `L_${t}_`.padEnd(63, 'x');
runConformance({
    engine: 'postgres',
    flavour: 'postgres',
    hostileUsernames: [
        `we"ird'; DROP_${t}`,
        `back\\slash\\\\_${t}`,
        `space name ${t}`,
        `ünï-日本-€_${t}`,
        `$$dollar$$_${t}`,
        `MiXeD_Case_${t}`,
        long,
    ],
    setup: async ({ username, password }) => {
        await dropRole(username);
        await root.query(`CREATE ROLE ${pg.escapeIdentifier(username)} LOGIN PASSWORD ${pg.escapeLiteral(password)}`);
        return {
            admin: secret(adminName, adminPassword),
            target: secret(username, password),
            cleanup: () => dropRole(username),
        };
    },
    setupUnprivilegedAdmin: async () => {
        const name = `sk_t_weak_${randomTag()}`;
        const password = `weak-${randomTag(12)}`;
        await root.query(`CREATE ROLE ${pg.escapeIdentifier(name)} LOGIN PASSWORD ${pg.escapeLiteral(password)}`);
        return { admin: secret(name, password), cleanup: () => dropRole(name) };
    },
});
//# sourceMappingURL=postgres-conformance.test.js.map