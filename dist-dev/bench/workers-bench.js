/**
 * `npm run bench -- workers [--json] [--seconds 5] [--concurrency 32]`: signed single reads
 * (`GET /v1/projects/p/secrets/s`, one machine) against `sikkerkey-vault serve --workers 2` and
 * `--workers 1`, on SQLite and — when PG_URL is set — on a fresh PostgreSQL database; prints
 * requests per second and the ratio 2:1 for each store. The load generator is a separate process
 * (this file, forked with `--workers-load`), unpinned: on a 2-core machine it competes with the
 * vault for the same cores, so the ratio here says little about the ≥ 1.6× expected with ≥ 4 cores
 * and the generator pinned apart. There is no goal; timings are never tests.
 */
import { fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { readPrivateKeyFile } from '../protocol/keys.js';
import { signRequest } from '../protocol/signing.js';
import { flag, round } from './stats.js';
const VAULT = fileURLToPath(new URL('../vault-server/main.js', import.meta.url));
const CLI = fileURLToPath(new URL('../vault-server/cli/main.js', import.meta.url));
const TARGET = '/v1/projects/p/secrets/s';
function run1(bin, args, env = {}) {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (d) => { out += d.toString(); });
        child.stderr.on('data', (d) => { err += d.toString(); });
        child.on('error', reject);
        child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${args.slice(0, 2).join(' ')} failed (${code}): ${err.slice(-500)}`))));
    });
}
/** A fresh store with p/s granted to machine m; returns what serve and the generator need. */
async function prepare(dir, storeArgs) {
    const opKey = join(dir, 'operator.key');
    const machineKey = join(dir, 'machine.key');
    const op = JSON.parse(await run1(CLI, ['keygen', '--out', opKey, '--json']));
    const init = JSON.parse(await run1(VAULT, ['init', ...storeArgs, '--operator-public-key', op.publicKey, '--json']));
    const rootKeyFile = join(dir, 'root.key');
    writeFileSync(rootKeyFile, init.rootKey, { mode: 0o600 });
    const m = JSON.parse(await run1(CLI, ['keygen', '--out', machineKey, '--json']));
    return { rootKeyFile, opKey, machineKey, machinePublicKey: m.publicKey };
}
async function startVault(storeArgs, rootKeyFile, workers) {
    const child = spawn(process.execPath, [VAULT, 'serve', ...storeArgs, '--root-key-file', rootKeyFile, '--listen', '127.0.0.1:0', '--workers', String(workers)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const port = await new Promise((resolve, reject) => {
        const onData = (d) => {
            // Only the start matters; the request log that follows is read and dropped (a full pipe would stall the vault).
            if (out.length < 100_000)
                out += d.toString();
            const m = /"url":"http:\/\/127\.0\.0\.1:(\d+)"/.exec(out);
            if (m)
                resolve(Number(m[1]));
        };
        child.stdout?.on('data', onData);
        child.stderr?.on('data', onData);
        child.on('exit', () => reject(new Error(`serve exited: ${out.slice(-1000)}`)));
    });
    return {
        port,
        stop: () => new Promise((resolve) => {
            if (child.exitCode !== null) {
                resolve();
                return;
            }
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
        }),
    };
}
async function load(job) {
    const child = fork(fileURLToPath(import.meta.url), ['--workers-load'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return new Promise((resolve, reject) => {
        child.once('message', (m) => {
            if (m.sk === 'ready')
                child.send(job);
            child.once('message', (r) => { resolve(r); child.disconnect(); });
        });
        child.on('error', reject);
        child.on('exit', (code) => { if (code !== 0)
            reject(new Error(`the load generator exited ${code}`)); });
    });
}
/** The generator: `concurrency` loops of signed reads on kept-alive connections. */
async function generate(job) {
    const k = readPrivateKeyFile(job.keyFile);
    const key = { keyId: k.keyId, privateKey: k.privateKey };
    const agent = new http.Agent({ keepAlive: true, maxSockets: job.concurrency });
    const authority = `127.0.0.1:${job.port}`;
    const once = () => new Promise((resolve) => {
        const headers = signRequest({ method: 'GET', authority, target: TARGET }, key);
        const req = http.request({ host: '127.0.0.1', port: job.port, path: TARGET, method: 'GET', headers, agent }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', () => resolve(0));
        req.end();
    });
    let counting = false;
    let ok = 0;
    let failed = 0;
    let until = Date.now() + job.warmupMs + job.durationMs;
    const loop = async () => {
        while (Date.now() < until) {
            const status = await once();
            if (!counting)
                continue;
            if (status === 200)
                ok += 1;
            else
                failed += 1;
        }
    };
    const loops = Array.from({ length: job.concurrency }, () => loop());
    await new Promise((r) => setTimeout(r, job.warmupMs));
    counting = true;
    const started = Date.now();
    until = started + job.durationMs;
    await Promise.all(loops);
    agent.destroy();
    return { ok, failed, seconds: (Date.now() - started) / 1000 };
}
async function freshPgDatabase(serverUrl) {
    const name = `sk_bench_workers_${randomBytes(6).toString('hex')}`;
    const admin = async (q) => {
        const c = new pg.Client({ connectionString: serverUrl });
        await c.connect();
        try {
            await c.query(q);
        }
        finally {
            await c.end();
        }
    };
    await admin(`CREATE DATABASE ${name}`);
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
async function measureStore(store, opts) {
    const perWorkers = {};
    for (const workers of [1, 2]) {
        const dir = mkdtempSync(join(tmpdir(), 'sk-bench-workers-'));
        const db = store === 'postgres' ? await freshPgDatabase(process.env.PG_URL) : undefined;
        const storeArgs = db ? ['--database-url', db.url] : ['--data-dir', join(dir, 'data')];
        try {
            const { rootKeyFile, opKey, machineKey, machinePublicKey } = await prepare(dir, storeArgs);
            const vault = await startVault(storeArgs, rootKeyFile, workers);
            try {
                const env = { SIKKERKEY_URL: `http://127.0.0.1:${vault.port}`, SIKKERKEY_KEY_FILE: opKey };
                await run1(CLI, ['project', 'create', 'p', '--json'], env);
                await run1(CLI, ['secret', 'set', 'p', 's', '--fields-json', '{"password":"bench"}', '--json'], env);
                await run1(CLI, ['machine', 'add', 'm', '--public-key', machinePublicKey, '--json'], env);
                await run1(CLI, ['grant', 'add', 'm', '--project', 'p', '--secret', 's', '--json'], env);
                const r = await load({ port: vault.port, keyFile: machineKey, warmupMs: 1000, durationMs: opts.seconds * 1000, concurrency: opts.concurrency });
                if (r.failed > 0)
                    throw new Error(`${store} --workers ${workers}: ${r.failed} reads failed`);
                perWorkers[workers] = r.ok / r.seconds;
            }
            finally {
                await vault.stop();
            }
        }
        finally {
            await db?.drop().catch(() => undefined);
            rmSync(dir, { recursive: true, force: true });
        }
    }
    const one = perWorkers[1];
    const two = perWorkers[2];
    return { store, workers1_rps: round(one), workers2_rps: round(two), ratio: round(two / one, 2) };
}
export async function run(args) {
    const seconds = Number(flag(args, 'seconds', '5'));
    const concurrency = Number(flag(args, 'concurrency', '32'));
    const stores = process.env.PG_URL ? ['sqlite', 'postgres'] : ['sqlite'];
    for (const store of stores) {
        const line = { bench: 'workers', ...(await measureStore(store, { seconds, concurrency })), seconds, concurrency, cores: availableParallelism(), generator: 'separate process, unpinned' };
        if (!args.includes('--json')) {
            process.stdout.write(`workers (${store}): --workers 1 ${line.workers1_rps} reads/s, --workers 2 ${line.workers2_rps} reads/s: ${line.ratio}× `
                + `(${line.cores} cores, generator unpinned in its own process; no goal here — ≥ 1.6× is for ≥ 4 cores with the generator pinned apart)\n`);
        }
        process.stdout.write(JSON.stringify(line) + '\n');
    }
}
if (process.argv.includes('--workers-load')) {
    process.once('message', (job) => {
        void generate(job).then((r) => process.send?.(r));
    });
    process.send?.({ sk: 'ready' });
}
//# sourceMappingURL=workers-bench.js.map