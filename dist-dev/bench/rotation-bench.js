// Rotation latency: created → promoted from the rotations' own timestamps (real vault process,
// real agent process, real database), against the provider's raw update + verify timed directly
// in the same run. Prints one JSON line per engine; the last line is one JSON object (with several
// engines, a summary holding every engine's line).
//
//   npm run bench -- rotation [--json] [--n 30] [--engine postgres|mysql|redis|mongodb|all]
//
// Engines: postgres (a throwaway scram cluster), mysql (MYSQL_URL, default the local MariaDB),
// redis (REDIS_URL, default the shared local Redis; ACL users made and deleted here), mongodb
// (the MongoDB wire test server in this process: a test double, so its figures are the double's).
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { VaultClient } from '../protocol/client.js';
import { readPrivateKeyFile } from '../protocol/keys.js';
import { loadProvider } from '../providers/registry.js';
import { MongoWireTestServer } from '../test/support/mongo-wire-server.js';
import { FIXTURE_FLAVOURS } from '../test/support/engine-fixtures.js';
import { scramCluster } from '../test/support/pg-scram-cluster.js';
import { startRotationHarness } from '../test/support/rotation-harness.js';
import { assertReachable, mysqlUrl, parseServiceUrl, redisUrl } from '../test/support/services.js';
import { waitFor } from '../test/support/wait.js';
import { flag, quantile, round } from './stats.js';
// the engines with a server (or the MongoDB wire test server) on this machine: the test fixtures'
const BENCH_ENGINES = Object.keys(FIXTURE_FLAVOURS);
const tag = () => randomBytes(4).toString('hex');
const secret = () => `bench-${randomBytes(12).toString('base64url')}`;
async function postgresSetup() {
    const cluster = await scramCluster();
    const c = new pg.Client({ host: cluster.host, port: cluster.port, user: cluster.adminUser, password: cluster.adminPassword, database: 'postgres' });
    await c.connect();
    await c.query('DROP ROLE IF EXISTS bench_app');
    await c.query(`CREATE ROLE bench_app LOGIN PASSWORD ${c.escapeLiteral('bench-initial-password-1')}`);
    await c.end();
    const base = { host: cluster.host, port: String(cluster.port), database: 'postgres', tls: 'disable' };
    return {
        engine: 'postgres',
        target: { ...base, username: 'bench_app', password: 'bench-initial-password-1' },
        admin: { ...base, username: cluster.adminUser, password: cluster.adminPassword },
        cleanup: () => cluster.stop(),
    };
}
async function mysqlSetup() {
    await assertReachable('mysql', mysqlUrl());
    const server = parseServiceUrl(mysqlUrl());
    const root = await mysql.createConnection({ host: server.host, port: server.port, user: server.username || 'root', password: server.password });
    const t = tag();
    const user = `bench_app_${t}`;
    const admin = `bench_adm_${t}`;
    const [userPassword, adminPassword] = [secret(), secret()];
    await root.query('CREATE USER ?@? IDENTIFIED BY ?', [user, '%', userPassword]);
    await root.query('CREATE USER ?@? IDENTIFIED BY ?', [admin, '%', adminPassword]);
    await root.query('GRANT CREATE USER ON *.* TO ?@?', [admin, '%']);
    const base = { host: server.host, port: String(server.port) };
    return {
        engine: 'mysql',
        target: { ...base, username: user, password: userPassword },
        admin: { ...base, username: admin, password: adminPassword },
        cleanup: async () => {
            for (const name of [user, admin])
                await root.query('DROP USER IF EXISTS ?@?', [name, '%']);
            await root.end();
        },
    };
}
async function redisSetup() {
    await assertReachable('redis', redisUrl());
    const server = parseServiceUrl(redisUrl());
    const root = new Redis({ host: server.host, port: server.port, username: server.username || undefined, password: server.password || undefined, lazyConnect: true });
    await root.connect();
    const t = tag();
    const user = `bench_app_${t}`;
    const admin = `bench_adm_${t}`;
    const [userPassword, adminPassword] = [secret(), secret()];
    await root.call('ACL', 'SETUSER', user, 'reset', 'on', `>${userPassword}`, '+ping');
    await root.call('ACL', 'SETUSER', admin, 'reset', 'on', `>${adminPassword}`, '+acl', '+config|get', '+info', '+ping');
    const base = { host: server.host, port: String(server.port) };
    return {
        engine: 'redis',
        target: { ...base, username: user, password: userPassword },
        admin: { ...base, username: admin, password: adminPassword },
        cleanup: async () => {
            await root.call('ACL', 'DELUSER', user, admin);
            root.disconnect();
        },
    };
}
async function mongodbSetup() {
    const [userPassword, adminPassword] = [secret(), secret()];
    const srv = await MongoWireTestServer.start({
        users: [
            { db: 'admin', user: 'bench_adm', pwd: adminPassword, roles: [{ role: 'userAdminAnyDatabase', db: 'admin' }] },
            { db: 'admin', user: 'bench_app', pwd: userPassword, roles: [{ role: 'readWrite', db: 'appdb' }] },
        ],
    });
    const base = { host: srv.host, port: String(srv.port), authSource: 'admin' };
    return {
        engine: 'mongodb',
        target: { ...base, username: 'bench_app', password: userPassword },
        admin: { ...base, username: 'bench_adm', password: adminPassword },
        cleanup: () => srv.stop(),
    };
}
const SETUPS = {
    postgres: postgresSetup,
    mysql: mysqlSetup,
    redis: redisSetup,
    mongodb: mongodbSetup,
};
async function benchEngine(engine, n, json) {
    const setup = await SETUPS[engine]();
    try {
        const h = await startRotationHarness({ engine: setup.engine, target: setup.target, admin: setup.admin, lease: '30s' });
        try {
            const agent = await h.startAgent();
            const key = readPrivateKeyFile(join(h.dir, 'operator.key'));
            const vault = new VaultClient({ url: h.url, key: { keyId: key.keyId, privateKey: key.privateKey } });
            const latencies = [];
            for (let i = 0; i < n + 2; i++) {
                const { body } = await vault.request('POST', '/v1/projects/db/secrets/app/rotation/run');
                // The latency comes from the rotation's own timestamps; polling only notices the end.
                const job = await waitFor(async () => (await vault.request('GET', `/v1/rotations/${body.id}`)).body, {
                    what: `${engine} rotation ${i} to finish`, timeoutMs: 120_000, intervalMs: 5, until: (j) => ['promoted', 'failed', 'stuck'].includes(j.state),
                });
                if (job.state !== 'promoted')
                    throw new Error(`${engine} rotation ${job.state}: ${job.error ?? ''}`);
                if (i >= 2)
                    latencies.push(job.latencyMs); // two warm-up rounds
            }
            await agent.stop();
            // The baseline: the same provider's update + fresh-login verify, called directly.
            const live = (await h.read()).fields;
            const provider = await loadProvider(setup.engine);
            const direct = [];
            try {
                await provider.initialize({ admin: setup.admin, target: live });
                for (let i = 0; i < n + 2; i++) {
                    const password = `bench-direct-${i}-${randomBytes(9).toString('base64url')}`;
                    const t0 = performance.now();
                    await provider.setPassword({ username: live.username, password });
                    await provider.verify({ username: live.username, password });
                    if (i >= 2)
                        direct.push(performance.now() - t0);
                }
            }
            finally {
                await provider.close();
            }
            const line = {
                engine,
                p50_ms: round(quantile(latencies, 0.5)), p99_ms: round(quantile(latencies, 0.99)),
                direct_p50_ms: round(quantile(direct, 0.5)),
                overhead_ms: round(quantile(latencies, 0.5) - quantile(direct, 0.5)),
            };
            if (!json) {
                process.stdout.write(`rotation ${engine}: created→promoted p50 ${line.p50_ms} ms, p99 ${line.p99_ms} ms; direct update+verify p50 ${line.direct_p50_ms} ms; ` +
                    `ratio ${round(line.p50_ms / line.direct_p50_ms, 2)}× (n=${n})\n`);
            }
            process.stdout.write(JSON.stringify(line) + '\n');
            return line;
        }
        finally {
            await h.close();
        }
    }
    finally {
        await setup.cleanup();
    }
}
export async function run(args) {
    const n = Number(flag(args, 'n', '30'));
    const json = args.includes('--json');
    const choice = flag(args, 'engine', 'postgres');
    const engines = choice === 'all' ? BENCH_ENGINES : BENCH_ENGINES.includes(choice) ? [choice] : [];
    if (engines.length === 0 || !Number.isInteger(n) || n < 1) {
        process.stderr.write(`usage: npm run bench -- rotation [--json] [--n 30] [--engine ${BENCH_ENGINES.join('|')}|all]\n`);
        process.exitCode = 2;
        return;
    }
    const lines = [];
    for (const engine of engines)
        lines.push(await benchEngine(engine, n, json));
    if (lines.length > 1)
        process.stdout.write(JSON.stringify({ bench: 'rotation', n, engines: lines }) + '\n');
}
//# sourceMappingURL=rotation-bench.js.map