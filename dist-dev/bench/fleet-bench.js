// Fleet rotation throughput: ONE real agent process rotating many credentials at once. A real
// `sikkerkey-vault serve` on a fresh SQLite store; N Redis ACL users (REDIS_URL) and M PostgreSQL
// roles (PG_URL), each with a unique prefix and removed afterwards; one database secret and one
// rotation policy per credential, all assigned to one agent machine. Every rotation is triggered at
// once (POST …/rotation/run in parallel over the signed client) and the clock runs from the first
// trigger to the last promotion, read from the rotations' own `finished_at`.
//
//   npm run bench -- fleet [--json] [--redis-users 1000] [--pg-roles 200] [--concurrency 16] [--agent node]
//                        [--vault-cpu-prof FILE]
//
// The agent is the single executable (dist/bin/sikkerkey-agent) when it is built and newer than
// its sources, otherwise `node dist/agent/main.js`; the JSON says which. The local PostgreSQL
// trusts every loopback login, so the agent's fresh-login verification proves nothing there: the
// PostgreSQL figure measures the work (ALTER ROLE, a new connection, the vault round trips), not
// that the password took effect. Redis enforces ACL passwords.
//
// Where the time goes is reported too: the agent's own per-step timings (its "rotation promoted"
// log lines), the vault's queue wait (created → claimed) and job time (claimed → finished), and
// the CPU seconds each process used during the run.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import pg from 'pg';
import { VaultClient, isSikkerKeyError } from '../protocol/client.js';
import { encodePathSegment as enc } from '../protocol/client.js';
import { generateIdentityKey, readPrivateKeyFile, writePrivateKeyFile } from '../protocol/keys.js';
import { AGENT_BINARY, agentBinaryIsStale } from '../test/support/agent-binary.js';
import { startBin, startExecutable } from '../test/support/processes.js';
import { assertReachable, parseServiceUrl, pgUrl, redisUrl } from '../test/support/services.js';
import { startVaultProcess } from '../test/support/vault-process.js';
import { flag, quantile, round } from './stats.js';
const GOAL_REDIS_PER_S = 100;
const PROJECT = 'fleet';
/** Operator requests in flight at once during setup and trigger (the vault verifies on 2 cores). */
const SETUP_PARALLEL = 32;
const pw = () => `fleet-${randomBytes(15).toString('base64url')}`;
/** Runs fn over items with at most `limit` in flight; resolves to the results in order. */
export async function mapLimit(items, limit, fn) {
    const out = new Array(items.length);
    let next = 0;
    const worker = async () => {
        while (next < items.length) {
            const i = next++;
            out[i] = await fn(items[i], i);
        }
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
    return out;
}
/** A request that the vault shed under load (503 busy, 429) is sent again after a short wait. */
async function retrying(call, tries = 20) {
    for (let i = 1;; i++) {
        try {
            return await call();
        }
        catch (err) {
            const busy = isSikkerKeyError(err) && (err.statusCode === 503 || err.statusCode === 429);
            if (!busy || i >= tries)
                throw err;
            await new Promise((r) => setTimeout(r, 50 * i));
        }
    }
}
/** utime + stime of a process in seconds (Linux /proc), or NaN when it is gone. */
function cpuSeconds(pid) {
    try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return (Number(fields[11]) + Number(fields[12])) / 100; // clock ticks; USER_HZ is 100 on Linux
    }
    catch {
        return NaN;
    }
}
/** Linux CPU pressure (/proc/pressure/cpu "some" total, µs): how long runnable tasks waited for a core. */
function cpuStallUs() {
    try {
        return Number(readFileSync('/proc/pressure/cpu', 'utf8').match(/^some .*total=(\d+)/m)?.[1] ?? NaN);
    }
    catch {
        return NaN;
    }
}
async function redisFixture(prefix, n) {
    await assertReachable('redis', redisUrl());
    const server = parseServiceUrl(redisUrl());
    const root = new Redis({ host: server.host, port: server.port, username: server.username || undefined, password: server.password || undefined, lazyConnect: true });
    await root.connect();
    const admin = { username: `${prefix}adm`, password: pw() };
    const users = Array.from({ length: n }, (_, i) => ({ username: `${prefix}u${i}`, password: pw() }));
    const made = [];
    const cleanup = async () => {
        for (let i = 0; i < made.length; i += 500)
            await root.call('ACL', 'DELUSER', ...made.slice(i, i + 500));
        root.disconnect();
    };
    try {
        made.push(admin.username);
        await root.call('ACL', 'SETUSER', admin.username, 'reset', 'on', `>${admin.password}`, '+acl', '+config|get', '+info', '+ping');
        const p = root.pipeline();
        for (const u of users) {
            made.push(u.username);
            p.call('ACL', 'SETUSER', u.username, 'reset', 'on', `>${u.password}`, '+ping');
        }
        for (const [err] of (await p.exec()) ?? [])
            if (err)
                throw err;
    }
    catch (err) {
        await cleanup();
        throw err;
    }
    const base = { host: server.host, port: String(server.port) };
    return { admin: { ...base, ...admin }, users, cleanup };
}
async function pgFixture(prefix, n) {
    await assertReachable('postgres', pgUrl());
    const server = parseServiceUrl(pgUrl());
    const database = server.database ?? 'postgres';
    const root = new pg.Client({ host: server.host, port: server.port, user: server.username || 'postgres', password: server.password || undefined, database });
    await root.connect();
    const admin = { username: `${prefix}adm`, password: pw() };
    const roles = Array.from({ length: n }, (_, i) => ({ username: `${prefix}r${i}`, password: pw() }));
    const made = [];
    const cleanup = async () => {
        // the admin last: the roles it created go first
        for (const name of made.reverse())
            await root.query(`DROP ROLE IF EXISTS ${root.escapeIdentifier(name)}`);
        await root.end();
    };
    try {
        made.push(admin.username);
        await root.query(`CREATE ROLE ${root.escapeIdentifier(admin.username)} LOGIN CREATEROLE PASSWORD ${root.escapeLiteral(admin.password)}`);
        await root.query('BEGIN');
        for (const r of roles) {
            made.push(r.username);
            await root.query(`CREATE ROLE ${root.escapeIdentifier(r.username)} LOGIN PASSWORD ${root.escapeLiteral(r.password)}`);
        }
        await root.query('COMMIT');
    }
    catch (err) {
        await root.query('ROLLBACK').catch(() => undefined);
        await cleanup();
        throw err;
    }
    const base = { host: server.host, port: String(server.port), database, tls: 'disable' };
    return { admin: { ...base, ...admin }, base, roles, cleanup };
}
/** The agent's "rotation promoted" lines: per-step milliseconds, by engine. */
function stepProfile(agentOutput) {
    const by = {};
    for (const line of agentOutput.split('\n')) {
        if (!line.includes('"rotation promoted"'))
            continue;
        try {
            const o = JSON.parse(line);
            if (!o.engine || !o.stepsMs)
                continue;
            const e = (by[o.engine] ??= {});
            let total = 0;
            for (const [k, v] of Object.entries(o.stepsMs)) {
                (e[k] ??= []).push(v);
                total += v;
            }
            (e.total ??= []).push(total);
        }
        catch { /* not a log line */ }
    }
    const out = {};
    for (const [engine, steps] of Object.entries(by)) {
        out[engine] = Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, { p50: round(quantile(v, 0.5)), mean: round(v.reduce((a, b) => a + b, 0) / v.length), n: v.length }]));
    }
    return out;
}
/** The vault's write transactions so far: count and summed seconds (lock waits included), from /metrics. */
async function storeWrites(url) {
    const text = await (await fetch(`${url}/metrics`)).text();
    const num = (re) => Number(text.match(re)?.[1] ?? NaN);
    return {
        count: num(/^sikkerkey_store_transaction_seconds_count\{outcome="commit"\} (\S+)$/m),
        sum: num(/^sikkerkey_store_transaction_seconds_sum\{outcome="commit"\} (\S+)$/m),
    };
}
/** The route a logged request URL belongs to, with ids folded: `POST claim`, `GET poll`… */
function routeOf(method, url) {
    if (url.startsWith('/v1/agent/rotations?') || url === '/v1/agent/rotations')
        return `${method} poll`;
    const agentStep = url.match(/^\/v1\/agent\/rotations\/[^/]+\/(\w+)$/);
    if (agentStep)
        return `${method} ${agentStep[1] ?? ''}`;
    if (/\/rotation\/run$/.test(url))
        return `${method} rotation run`;
    return `${method} other`;
}
/** The vault's request log (fastify: "incoming request" then "request completed" by reqId): p50 ms and count per route. */
function routeTimings(vaultOutput) {
    const routes = new Map();
    const times = {};
    for (const line of vaultOutput.split('\n')) {
        if (!line.startsWith('{'))
            continue;
        try {
            const o = JSON.parse(line);
            if (o.reqId === undefined)
                continue;
            if (o.req?.url !== undefined)
                routes.set(o.reqId, routeOf(o.req.method ?? '', o.req.url));
            else if (typeof o.responseTime === 'number') {
                const route = routes.get(o.reqId);
                if (route !== undefined)
                    (times[route] ??= []).push(o.responseTime);
                routes.delete(o.reqId);
            }
        }
        catch { /* not a log line */ }
    }
    return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, { n: v.length, p50_ms: round(quantile(v, 0.5)), p99_ms: round(quantile(v, 0.99)) }]));
}
export async function run(args) {
    const json = args.includes('--json');
    const redisN = Number(flag(args, 'redis-users', '1000'));
    const pgN = Number(flag(args, 'pg-roles', '200'));
    const concurrency = Number(flag(args, 'concurrency', '16'));
    if (![redisN, pgN, concurrency].every((n) => Number.isInteger(n) && n >= 0) || concurrency < 1 || redisN + pgN < 1) {
        process.stderr.write('usage: npm run bench -- fleet [--json] [--redis-users 1000] [--pg-roles 200] [--concurrency 16]\n');
        process.exitCode = 2;
        return;
    }
    const note = (s) => { if (!json)
        process.stderr.write(`fleet: ${s}\n`); };
    const prefix = `skfleet_${randomBytes(3).toString('hex')}_`;
    // --agent node: always `node dist/agent/main.js` (e.g. to compare agent changes without rebuilding the executable)
    const useBinary = flag(args, 'agent', 'auto') !== 'node' && existsSync(AGENT_BINARY) && !agentBinaryIsStale();
    const agentKind = useBinary ? 'single-executable dist/bin/sikkerkey-agent' : 'node dist/agent/main.js';
    const setupStarted = Date.now();
    const cleanups = [];
    let agent;
    try {
        const redis = redisN > 0 ? await redisFixture(prefix, redisN) : undefined;
        if (redis)
            cleanups.push(redis.cleanup);
        const pgf = pgN > 0 ? await pgFixture(prefix, pgN) : undefined;
        if (pgf)
            cleanups.push(pgf.cleanup);
        note(`${redisN} Redis users and ${pgN} PostgreSQL roles made (prefix ${prefix})`);
        // --vault-cpu-prof FILE: the vault runs with the V8 profiler (bench/cpu-profile-preload.ts) and
        // writes a .cpuprofile of the whole run, setup included, to FILE before it is stopped
        const profFile = flag(args, 'vault-cpu-prof', '');
        const preload = fileURLToPath(new URL('./cpu-profile-preload.js', import.meta.url));
        const vault = await startVaultProcess({
            args: ['--rotation-lease', '60s'],
            ...(profFile ? { env: { NODE_OPTIONS: `--import=${pathToFileURL(preload).href}`, SK_CPU_PROFILE_OUT: profFile } } : {}),
        });
        cleanups.push(async () => {
            if (profFile) {
                vault.proc.proc.kill('SIGUSR2');
                for (let i = 0; i < 100 && !existsSync(profFile); i++)
                    await new Promise((r) => setTimeout(r, 100));
            }
            await vault.close();
        });
        const op = readPrivateKeyFile(vault.opKey);
        const client = new VaultClient({ url: vault.url, key: { keyId: op.keyId, privateKey: op.privateKey } });
        cleanups.push(async () => client.close());
        const call = (method, path, body) => retrying(async () => (await client.request(method, path, body)).body);
        const agentKeyFile = join(vault.dir, 'agent.key');
        const agentKey = generateIdentityKey();
        writePrivateKeyFile(agentKeyFile, agentKey.privateKey);
        await call('POST', '/v1/projects', { name: PROJECT });
        await call('POST', '/v1/machines', { name: 'fleet-agent', publicKey: Buffer.from(agentKey.publicKey).toString('base64'), labels: [] });
        const creds = [];
        if (redis) {
            await call('PUT', `/v1/projects/${PROJECT}/secrets/redis-admin`, { fields: redis.admin });
            await call('POST', '/v1/grants', { machine: 'fleet-agent', project: PROJECT, secret: 'redis-admin' });
            redis.users.forEach((u, i) => creds.push({ engine: 'redis', secret: `redis-${i}`, username: u.username }));
        }
        if (pgf) {
            await call('PUT', `/v1/projects/${PROJECT}/secrets/pg-admin`, { fields: pgf.admin });
            await call('POST', '/v1/grants', { machine: 'fleet-agent', project: PROJECT, secret: 'pg-admin' });
            pgf.roles.forEach((r, i) => creds.push({ engine: 'postgres', secret: `pg-${i}`, username: r.username }));
        }
        // Interleaved, so the trigger order mixes both engines the way a fleet's schedule would.
        creds.sort((a, b) => Number(a.secret.split('-')[1]) - Number(b.secret.split('-')[1]) || a.engine.localeCompare(b.engine));
        // The agent runs from the start: it works through the policies' preflights while they are made.
        const cfg = join(vault.dir, 'agent.json');
        writeFileSync(cfg, JSON.stringify({ vaultUrl: vault.url, keyFile: agentKeyFile, health: { listen: '127.0.0.1:0' }, pollWaitSeconds: 5, concurrency, log: { level: 'info' } }));
        agent = useBinary
            ? startExecutable(AGENT_BINARY, ['run', '--config', cfg], { label: 'sikkerkey-agent' })
            : startBin('sikkerkey-agent', ['run', '--config', cfg]);
        const agentProc = agent;
        cleanups.push(async () => { await agentProc.stop('SIGKILL'); });
        await agent.waitFor(/agent started/);
        const passwords = new Map([...(redis?.users ?? []), ...(pgf?.roles ?? [])].map((u) => [u.username, u.password]));
        await mapLimit(creds, SETUP_PARALLEL, async (c) => {
            const base = c.engine === 'redis' ? { host: redis?.admin.host ?? '', port: redis?.admin.port ?? '' } : (pgf?.base ?? {});
            await call('PUT', `/v1/projects/${PROJECT}/secrets/${enc(c.secret)}`, { fields: { ...base, username: c.username, password: passwords.get(c.username) ?? '' } });
            await call('PUT', `/v1/projects/${PROJECT}/secrets/${enc(c.secret)}/rotation`, {
                provider: c.engine, agent: 'fleet-agent', adminSecret: c.engine === 'redis' ? 'redis-admin' : 'pg-admin', strategy: 'single',
            });
        });
        passwords.clear();
        note(`${creds.length} secrets and policies made in ${((Date.now() - setupStarted) / 1000).toFixed(1)} s; waiting for their preflights`);
        // Progress is read from the vault's own store (read-only; WAL lets it read beside the writer).
        const db = new Database(join(vault.dir, 'data', 'vault.db'), { readonly: true, fileMustExist: true });
        cleanups.push(async () => { db.close(); });
        const countsOf = (kind) => Object.fromEntries(db.prepare('SELECT state, count(*) AS n FROM rotations WHERE kind = ? GROUP BY state').all(kind).map((r) => [r.state, r.n]));
        const unfinished = (c) => (c.pending ?? 0) + (c.claimed ?? 0) + (c.applied ?? 0);
        const until = async (kind, expect, timeoutMs) => {
            const deadline = Date.now() + timeoutMs;
            for (;;) {
                const c = countsOf(kind);
                const total = Object.values(c).reduce((a, b) => a + b, 0);
                if (total >= expect && unfinished(c) === 0)
                    return c;
                if (Date.now() > deadline)
                    throw new Error(`${kind} jobs did not finish within ${timeoutMs / 1000} s: ${JSON.stringify(c)}`);
                await new Promise((r) => setTimeout(r, 20));
            }
        };
        const preflights = await until('preflight', creds.length, 600_000);
        if ((preflights.preflight_passed ?? 0) !== creds.length)
            throw new Error(`preflights did not all pass: ${JSON.stringify(preflights)}`);
        const setupS = (Date.now() - setupStarted) / 1000;
        note(`setup done in ${setupS.toFixed(1)} s; triggering ${creds.length} rotations`);
        // -- the measured part ----------------------------------------------------------------------
        const [vaultCpu0, agentCpu0] = [cpuSeconds(vault.proc.proc.pid), cpuSeconds(agent.proc.pid)];
        const outputBefore = agent.output().length;
        const vaultOutputBefore = vault.proc.output().length;
        const writes0 = await storeWrites(vault.url);
        const stall0 = cpuStallUs();
        const t0 = Date.now();
        await mapLimit(creds, SETUP_PARALLEL, (c) => call('POST', `/v1/projects/${PROJECT}/secrets/${enc(c.secret)}/rotation/run`));
        const triggeredMs = Date.now() - t0;
        const rotations = await until('rotate', creds.length, 600_000);
        const [vaultCpu, agentCpu] = [cpuSeconds(vault.proc.proc.pid) - vaultCpu0, cpuSeconds(agent.proc.pid) - agentCpu0];
        const stallShare = (cpuStallUs() - stall0) / 1e6;
        const writes1 = await storeWrites(vault.url);
        const writeCount = writes1.count - writes0.count;
        const rows = db.prepare(`SELECT CASE WHEN p.provider = 'redis' THEN 'redis' ELSE 'postgres' END AS engine, r.state, r.created_at, r.claimed_at, r.finished_at, r.error_code, r.error
      FROM rotations r JOIN rotation_policies p ON p.id = r.policy_id WHERE r.kind = 'rotate'`).all();
        if (process.env.SK_FLEET_DUMP)
            writeFileSync(process.env.SK_FLEET_DUMP, JSON.stringify({ t0, rows: rows.map(({ error: _e, ...r }) => r), agentLog: agent.output().slice(outputBefore) }));
        const lastFinish = Math.max(...rows.map((r) => r.finished_at ?? 0));
        const perEngine = (engine) => {
            const mine = rows.filter((r) => r.engine === engine);
            const promoted = mine.filter((r) => r.state === 'promoted');
            const seconds = mine.length ? (Math.max(...mine.map((r) => r.finished_at ?? 0)) - t0) / 1000 : 0;
            return { n: mine.length, promoted: promoted.length, failed: mine.length - promoted.length, seconds: round(seconds, 2), perS: seconds > 0 ? round(promoted.length / seconds) : 0 };
        };
        const r = perEngine('redis');
        const p = perEngine('postgres');
        const totalS = (lastFinish - t0) / 1000;
        const failures = rows.filter((x) => x.state !== 'promoted');
        const why = [...new Map(failures.map((f) => [`${f.state} ${f.error_code ?? ''}`, f])).values()].slice(0, 5)
            .map((f) => `${f.engine} ${f.state} ${f.error_code ?? ''}: ${(f.error ?? '').slice(0, 200)}`);
        const queue = rows.filter((x) => x.claimed_at !== null).map((x) => x.claimed_at - x.created_at);
        const work = rows.filter((x) => x.claimed_at !== null && x.finished_at !== null).map((x) => x.finished_at - x.claimed_at);
        const meanWork = work.reduce((a, b) => a + b, 0) / Math.max(1, work.length);
        const result = {
            bench: 'fleet',
            agent: agentKind,
            concurrency,
            redis_users: redisN, pg_roles: pgN,
            redis_rotations_per_s: r.perS,
            pg_rotations_per_s: p.perS,
            total_rotations_per_s: round((r.promoted + p.promoted) / totalS),
            total_rotations: rows.length,
            promoted: r.promoted + p.promoted,
            failures: failures.length,
            ...(failures.length > 0 ? { failure_reasons: why, states: rotations } : {}),
            redis_seconds: r.seconds, pg_seconds: p.seconds, total_seconds: round(totalS, 2),
            trigger_seconds: round(triggeredMs / 1000, 2),
            setup_seconds: round(setupS, 1),
            profile: {
                // created → claimed (waiting for a free slot) and claimed → finished (the agent's work)
                queue_wait_p50_ms: round(quantile(queue, 0.5)), job_p50_ms: round(quantile(work, 0.5)), job_p99_ms: round(quantile(work, 0.99)), job_mean_ms: round(meanWork),
                // Little's law: concurrency / mean job time is the most this agent can finish per second
                little_bound_per_s: round(concurrency / (meanWork / 1000)),
                agent_steps_ms: stepProfile(agent.output().slice(outputBefore)),
                vault_routes: routeTimings(vault.proc.output().slice(vaultOutputBefore)),
                // every write transaction is a commit with synchronous = FULL (one WAL fsync), one at a time
                store_write_tx: writeCount, store_write_tx_per_rotation: round(writeCount / Math.max(1, rows.length), 2),
                store_write_tx_per_s: round(writeCount / totalS), store_write_tx_mean_ms: round(((writes1.sum - writes0.sum) / Math.max(1, writeCount)) * 1000, 2),
                vault_cpu_s: round(vaultCpu, 2), agent_cpu_s: round(agentCpu, 2),
                vault_cpu_share: round(vaultCpu / totalS, 2), agent_cpu_share: round(agentCpu / totalS, 2),
                // CPU milliseconds per rotation (trigger included for the vault): what one core can sustain is 1000 / this
                vault_cpu_ms_per_rotation: round((vaultCpu * 1000) / rows.length), agent_cpu_ms_per_rotation: round((agentCpu * 1000) / rows.length),
                // share of the run in which some runnable task on this machine waited for a CPU (other load)
                machine_cpu_pressure: round(stallShare / totalS, 2),
            },
            note: 'PostgreSQL trusts loopback logins here: its fresh-login verification proves nothing, the figure is throughput only',
            goal: `redis_rotations_per_s >= ${GOAL_REDIS_PER_S}`,
            met: r.perS >= GOAL_REDIS_PER_S && failures.length === 0,
        };
        if (!json) {
            process.stdout.write(`fleet: ${result.promoted}/${rows.length} promoted by one agent (${agentKind}, concurrency ${concurrency}) in ${result.total_seconds} s: ` +
                `redis ${r.perS}/s (${r.promoted} in ${r.seconds} s), postgres ${p.perS}/s (${p.promoted} in ${p.seconds} s); ` +
                `job p50 ${result.profile.job_p50_ms} ms, bound ${result.profile.little_bound_per_s}/s; vault CPU ${result.profile.vault_cpu_share}, agent CPU ${result.profile.agent_cpu_share} of a core; ` +
                `goal ≥ ${GOAL_REDIS_PER_S}/s redis: ${result.met ? 'met' : 'NOT met'}\n`);
            for (const w of why)
                process.stdout.write(`fleet: failure: ${w}\n`);
        }
        process.stdout.write(JSON.stringify(result) + '\n');
    }
    finally {
        for (const c of cleanups.reverse()) {
            try {
                await c();
            }
            catch (err) {
                process.stderr.write(`fleet: cleanup: ${err instanceof Error ? err.message : String(err)}\n`);
            }
        }
    }
}
//# sourceMappingURL=fleet-bench.js.map