// The Supabase preset through the shared conformance suite. No Supabase here: the admin talks to
// a password-enforcing PostgreSQL (the scram cluster, TLS on) directly, and verification goes
// through the fake Supabase pooler (a test double for Supavisor: TLS, `<role>.<projectRef>`
// users) in front of the same cluster. The shared suite names its own tests, so the enclosing
// suite names the double.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import pg from 'pg';
import { runConformance } from '../../providers/conformance.js';
import { FakeSupabasePooler } from '../support/fake-supabase-pooler.js';
import { scramCluster } from '../support/pg-scram-cluster.js';
import { makeLocalhostCert, randomTag } from '../support/services.js';
const t = randomTag();
const REF = `ref${randomTag(6)}`;
const adminName = `sk_t_adm_${t}`;
const adminPassword = `adm-${randomTag(12)}`;
let cluster;
let root;
let pooler;
let plainPooler;
let certDir;
const adminSecret = (username, password) => ({
    host: cluster.host, port: String(cluster.port), database: 'postgres', username, password, tls: 'require',
});
const targetSecret = (username, password) => ({
    host: cluster.host, port: String(cluster.port), database: 'postgres', username, password, tls: 'require',
    poolerHost: pooler.host, poolerPort: String(pooler.port), projectRef: REF,
});
const dropRole = async (name) => {
    await root.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(name)}`);
};
describe('Supabase through the fake Supabase pooler (a Supavisor test double) in front of the scram cluster', () => {
    before(async () => {
        cluster = await scramCluster({ tls: true });
        root = new pg.Client({ host: cluster.host, port: cluster.port, user: cluster.adminUser, password: cluster.adminPassword, database: 'postgres' });
        await root.connect();
        await root.query(`CREATE ROLE ${pg.escapeIdentifier(adminName)} LOGIN CREATEROLE PASSWORD ${pg.escapeLiteral(adminPassword)}`);
        certDir = mkdtempSync(join(tmpdir(), 'sk-supabase-'));
        pooler = await FakeSupabasePooler.start({ upstream: cluster, projectRef: REF, tls: makeLocalhostCert(certDir) });
        plainPooler = await FakeSupabasePooler.start({ upstream: cluster, projectRef: REF });
    });
    after(async () => {
        await pooler?.stop();
        await plainPooler?.stop();
        await root?.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(adminName)}`).catch(() => undefined);
        await root?.end();
        await cluster?.stop();
        if (certDir !== undefined)
            rmSync(certDir, { recursive: true, force: true });
    });
    const long = `L_${t}_`.padEnd(63, 'x');
    runConformance({
        engine: 'supabase',
        flavour: 'supabase',
        hostileUsernames: [
            `we"ird'; DROP_${t}`,
            `back\\slash\\\\_${t}`,
            `space name ${t}`,
            `ünï-日本-€_${t}`,
            `$$dollar$$_${t}`,
            `dot.ted.name_${t}`,
            long,
        ],
        // verification logs in at the pooler, so that is the address the network cases move
        retarget: (secret, which, to) => (which === 'target' ? { ...secret, poolerHost: to.host, poolerPort: to.port } : { ...secret, ...to }),
        // the preset refuses tls "disable", so the TLS case needs a server that offers none
        serverWithoutTls: () => ({ host: plainPooler.host, port: String(plainPooler.port) }),
        setup: async ({ username, password }) => {
            await dropRole(username);
            await root.query(`CREATE ROLE ${pg.escapeIdentifier(username)} LOGIN PASSWORD ${pg.escapeLiteral(password)}`);
            return { admin: adminSecret(adminName, adminPassword), target: targetSecret(username, password), cleanup: () => dropRole(username) };
        },
        setupUnprivilegedAdmin: async () => {
            const name = `sk_t_weak_${randomTag()}`;
            const password = `weak-${randomTag(12)}`;
            await root.query(`CREATE ROLE ${pg.escapeIdentifier(name)} LOGIN PASSWORD ${pg.escapeLiteral(password)}`);
            return { admin: adminSecret(name, password), cleanup: () => dropRole(name) };
        },
    });
});
//# sourceMappingURL=supabase-conformance.test.js.map