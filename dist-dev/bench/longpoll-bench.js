// Thousands of agents on one vault: memory per held long-poll and how fast a due rotation reaches
// its agent. One real `sikkerkey-vault serve` over a fresh SQLite store; the agents are simulated
// in a separate Node process (longpoll-agents.ts), each with its own machine key, holding signed
// `GET /v1/agent/rotations?wait=30` polls on keep-alive connections and polling again at once.
//
//   npm run bench -- longpoll [--json] [--agents 5000] [--rotations 200] [--wait 30] [--interval 250]
//
// Setup goes through the vault's HTTP API as the owner, many requests in parallel: `--agents`
// machines (one key each), a project with an admin secret and `--rotations` database secrets,
// each with a rotation policy naming one agent machine (`agent`, granted the admin secret). The
// policies' preflight jobs are run by the simulated agents as they connect. Then:
//   - idle RSS: the vault's VmRSS (/proc/<pid>/status) after setup, before any agent connects;
//   - held RSS: with every poll held (sikkerkey_agent_long_polls_held = agents) and settled;
//   - per poll: (held − idle) / agents;
//   - due → claim answered: `rotation run` for each rotated secret, one every 50 ms; from just
//     before the run request is sent to the moment its agent's claim is answered (the agent fails
//     the job cleanly right after). p50 and p99, and the parts: the run request itself, due → the
//     agent's poll answered with the job, poll answered → claim answered. One run starts every
//     --interval ms (each rotation is three durable SQLite commits — run, claim, fail — and
//     better-sqlite3 commits block the vault's event loop, so a much shorter interval measures
//     the disk's fsync queue rather than the wake-up).
// Goals: held RSS ≤ 512 MiB, p99 ≤ 500 ms. The open-file limit (`ulimit -n`) bounds connections:
// when the soft limit is too low for the agents and the hard limit allows more, the bench runs
// itself again under `sh -c 'ulimit -n N; exec …'` so the vault and the agents inherit it; when
// the hard limit is too low it says so and measures what it can.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VaultClient } from '../protocol/client.js';
import { generateIdentityKey } from '../protocol/keys.js';
import { readPrivateKeyFile } from '../protocol/keys.js';
import { startVaultProcess } from '../test/support/vault-process.js';
import { parsePrometheusText } from '../test/support/prom-text.js';
import { flag, quantile, round } from './stats.js';
const RESERVE_FDS = 512;
const MIB = 1024 * 1024;
function limits() {
    const read = (opt) => {
        const out = spawnSync('sh', ['-c', `ulimit ${opt}`], { encoding: 'utf8' }).stdout.trim();
        return /^\d+$/.test(out) ? Number(out) : null; // null: unlimited
    };
    return { soft: read('-n'), hard: read('-Hn') };
}
function rssBytes(pid) {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
}
async function pool(items, concurrency, fn) {
    let next = 0;
    await Promise.all(Array.from({ length: concurrency }, async () => {
        while (next < items.length) {
            const i = next++;
            await fn(items[i], i);
        }
    }));
}
/** The process's user + system CPU seconds so far (/proc/<pid>/stat, clock ticks of 1/100 s). */
function cpuSeconds(pid) {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export async function run(args) {
    const json = args.includes('--json');
    const agents = Number(flag(args, 'agents', '5000'));
    const rotations = Math.min(agents, Number(flag(args, 'rotations', '200')));
    const waitSeconds = Number(flag(args, 'wait', '30'));
    const intervalMs = Number(flag(args, 'interval', '250'));
    if (![agents, rotations, waitSeconds].every((n) => Number.isInteger(n) && n >= 1) || waitSeconds > 60) {
        process.stderr.write('usage: npm run bench -- longpoll [--json] [--agents 5000] [--rotations 200] [--wait 30] [--interval 250]\n');
        process.exitCode = 2;
        return;
    }
    const say = (text) => { if (!json)
        process.stdout.write(text + '\n'); };
    // -- the open-file limit --------------------------------------------------------------------
    const need = agents + RESERVE_FDS;
    const fd = limits();
    const notes = [];
    if (fd.soft !== null && fd.soft < need) {
        if (!process.env['SK_BENCH_ULIMIT_RAISED'] && (fd.hard === null || fd.hard >= need)) {
            say(`ulimit -n is ${fd.soft} (hard ${fd.hard ?? 'unlimited'}): running again with ulimit -n ${need}`);
            const child = spawn('sh', ['-c', `ulimit -n ${need} && exec "$0" "$@"`, process.execPath, ...process.argv.slice(1)], {
                stdio: 'inherit', env: { ...process.env, SK_BENCH_ULIMIT_RAISED: '1' },
            });
            process.exitCode = await new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
            return;
        }
        notes.push(`ulimit -n ${fd.soft} (hard ${fd.hard ?? 'unlimited'}) is below the ${need} descriptors ${agents} agents need: the vault caps --max-connections at ${Math.max(1, fd.soft - 256)}`);
    }
    const ulimitNote = `ulimit -n ${fd.soft ?? 'unlimited'} (hard ${fd.hard ?? 'unlimited'})`;
    say(`${ulimitNote}; ${agents} agents need about ${need}${notes.length ? ': LIMITED' : ': enough'}`);
    // -- the vault --------------------------------------------------------------------------------
    const vault = await startVaultProcess({ args: ['--max-connections', String(agents + 1000)] });
    let load;
    try {
        const pid = vault.proc.proc.pid;
        say(`vault ${vault.url} (pid ${pid}), store ${vault.dir}`);
        const opKey = readPrivateKeyFile(vault.opKey);
        const client = new VaultClient({ url: vault.url, key: { keyId: opKey.keyId, privateKey: opKey.privateKey }, timeoutMs: 120_000 });
        // The operator's requests retry the vault's overload answers (503 SK_ERR_VERIFY_BUSY) while agents connect.
        const op = {
            request: async (method, path, body) => {
                for (let attempt = 0;; attempt++) {
                    try {
                        return (await client.request(method, path, body)).body;
                    }
                    catch (err) {
                        const code = err.code;
                        if (attempt >= 30 || (code !== 'SK_ERR_VERIFY_BUSY' && code !== 'SK_ERR_UNAVAILABLE'))
                            throw err;
                        await sleep(200 + Math.random() * 800);
                    }
                }
            },
        };
        const t0 = Date.now();
        const db = { host: 'db.bench.invalid', port: '5432', username: 'app', password: 'bench-live-password-1', database: 'app' };
        await op.request('POST', '/v1/projects', { name: 'bench' });
        await op.request('PUT', '/v1/projects/bench/secrets/admin', { fields: { ...db, username: 'admin', password: 'bench-admin-password' } });
        const keys = Array.from({ length: agents }, (_, i) => ({ name: `agent-${i}`, key: generateIdentityKey() }));
        await pool(keys, 16, async (k) => {
            await op.request('POST', '/v1/machines', { name: k.name, publicKey: Buffer.from(k.key.publicKey).toString('base64') });
        });
        await pool(keys.slice(0, rotations), 8, async (k, i) => {
            await op.request('POST', '/v1/grants', { machine: k.name, project: 'bench', secret: 'admin' });
            await op.request('PUT', `/v1/projects/bench/secrets/s-${i}`, { fields: db });
            await op.request('PUT', `/v1/projects/bench/secrets/s-${i}/rotation`, { provider: 'postgres', agent: k.name, adminSecret: 'admin' });
        });
        const setupSeconds = round((Date.now() - t0) / 1000);
        say(`setup: ${agents} machines, ${rotations} rotation policies through the HTTP API in ${setupSeconds} s`);
        await sleep(2000);
        const idle = rssBytes(pid);
        // -- the agents -------------------------------------------------------------------------------
        const keysFile = join(vault.dir, 'agent-keys.json');
        writeFileSync(keysFile, JSON.stringify(keys.map((k) => ({ name: k.name, keyId: k.key.keyId, privateKeyPem: k.key.privateKey.export({ type: 'pkcs8', format: 'pem' }) }))), { mode: 0o600 });
        const script = fileURLToPath(new URL('./longpoll-agents.js', import.meta.url));
        const agentProc = spawn(process.execPath, [script, vault.url, keysFile, String(waitSeconds)], { stdio: ['ignore', 'pipe', 'pipe'] });
        load = agentProc;
        const claims = new Map();
        let stats = { inFlight: 0, polls: 0, errors: 0, lastError: null };
        let preflights = 0;
        let buffered = '';
        agentProc.stdout?.on('data', (d) => {
            buffered += d.toString();
            let nl;
            while ((nl = buffered.indexOf('\n')) >= 0) {
                const line = JSON.parse(buffered.slice(0, nl));
                buffered = buffered.slice(nl + 1);
                if (line.t === 'stats')
                    stats = line;
                else if (line.t === 'claim' && line.kind === 'preflight')
                    preflights += 1;
                // By rotation id: a failed job's automatic retry (same secret, later) is not the run measured.
                else if (line.t === 'claim' && line.id)
                    claims.set(line.id, { polledAt: line.polledAt, at: line.at });
            }
        });
        let agentErr = '';
        agentProc.stderr?.on('data', (d) => { agentErr = (agentErr + d.toString()).slice(-4000); });
        /** /metrics, retried: under a connect storm the vault may refuse or reset one request. */
        const metrics = async () => {
            for (let attempt = 0;; attempt++) {
                try {
                    return (await vault.get('/metrics')).body;
                }
                catch (err) {
                    if (attempt >= 20 || vault.proc.proc.exitCode !== null)
                        throw new Error(`/metrics: ${err instanceof Error ? err.message : String(err)}; vault output: ${vault.proc.output().slice(-2000)}`, { cause: err });
                    await sleep(500);
                }
            }
        };
        const heldNow = async () => parsePrometheusText(await metrics()).get('sikkerkey_agent_long_polls_held')?.samples[0]?.value ?? 0;
        /** Refused authentications by code (SK_ERR_VERIFY_BUSY: the verify cap's 503s while agents connect). */
        const authFailures = async () => {
            const family = parsePrometheusText(await metrics()).get('sikkerkey_auth_failures_total');
            return Object.fromEntries((family?.samples ?? []).map((x) => [x.labels['code'] ?? '?', x.value]));
        };
        const connectStart = Date.now();
        let held = 0;
        for (;;) {
            held = await heldNow();
            if (held >= agents && preflights >= rotations)
                break;
            if (agentProc.exitCode !== null)
                throw new Error(`the agent process exited: ${agentErr}`);
            if (Date.now() - connectStart > 240_000) {
                notes.push(`only ${held} of ${agents} polls held after 240 s (agent errors ${stats.errors}: ${stats.lastError ?? ''})`);
                break;
            }
            await sleep(500);
        }
        const connectSeconds = round((Date.now() - connectStart) / 1000);
        say(`${held} polls held after ${connectSeconds} s (${preflights} preflight jobs run by the agents on the way)`);
        await sleep(3000);
        const heldRss = rssBytes(pid);
        const heldSettled = await heldNow();
        // The vault's CPU while the polls are held (re-polls included: each poll ends after --wait s).
        const cpuBefore = cpuSeconds(pid);
        await sleep(5000);
        const heldCpuPct = round(((cpuSeconds(pid) - cpuBefore) / 5) * 100);
        // -- due → claim answered ------------------------------------------------------------------
        const started = new Map();
        const runMs = [];
        const runStart = Date.now();
        await pool(Array.from({ length: rotations }, (_, i) => i), 1, async (i) => {
            const due = Date.now();
            const created = await op.request('POST', `/v1/projects/bench/secrets/s-${i}/rotation/run`);
            started.set(created.id, due);
            runMs.push(Date.now() - due);
            const left = due + intervalMs - Date.now();
            if (left > 0)
                await sleep(left);
        });
        const deadline = Date.now() + 60_000;
        while (Date.now() < deadline && [...started.keys()].some((s) => !claims.has(s)))
            await sleep(100);
        const answered = [...started].filter(([s]) => claims.has(s)).map(([s, at]) => ({ due: at, ...claims.get(s) }));
        const latencies = answered.map((c) => c.at - c.due);
        const toPoll = answered.map((c) => c.polledAt - c.due);
        const pollToClaim = answered.map((c) => c.at - c.polledAt);
        const peakRss = Math.max(heldRss, rssBytes(pid));
        if (latencies.length < rotations)
            notes.push(`${rotations - latencies.length} of ${rotations} rotations were not claimed within 60 s`);
        const line = {
            bench: 'longpoll',
            agents,
            polls_held: heldSettled,
            rss_idle_mib: round(idle / MIB),
            rss_held_mib: round(heldRss / MIB),
            rss_peak_mib: round(peakRss / MIB),
            per_poll_kib: round((heldRss - idle) / agents / 1024, 2),
            rotations: latencies.length,
            due_to_claim_p50_ms: round(quantile(latencies, 0.5)),
            due_to_claim_p99_ms: round(quantile(latencies, 0.99)),
            due_to_claim_max_ms: round(Math.max(...latencies)),
            run_request_p50_ms: round(quantile(runMs, 0.5)),
            due_to_poll_answer_p50_ms: round(quantile(toPoll, 0.5)),
            due_to_poll_answer_p99_ms: round(quantile(toPoll, 0.99)),
            poll_answer_to_claim_p50_ms: round(quantile(pollToClaim, 0.5)),
            poll_answer_to_claim_p99_ms: round(quantile(pollToClaim, 0.99)),
            held_cpu_pct: heldCpuPct,
            interval_ms: intervalMs,
            run_seconds: round((Date.now() - runStart) / 1000),
            agent_errors: stats.errors,
            auth_failures: await authFailures(),
            goal_rss_ok: heldRss <= 512 * MIB,
            goal_p99_ok: quantile(latencies, 0.99) <= 500,
            ulimit_n: fd.soft,
            ulimit_hn: fd.hard,
            fd_limited: notes.some((n) => n.startsWith('ulimit')),
            setup_seconds: setupSeconds,
            connect_seconds: connectSeconds,
            notes,
        };
        say(`vault RSS: idle ${line.rss_idle_mib} MiB, ${line.polls_held} polls held ${line.rss_held_mib} MiB (goal ≤ 512), ${line.per_poll_kib} KiB per held poll; peak ${line.rss_peak_mib} MiB`);
        say(`rotation due → agent's claim answered: p50 ${line.due_to_claim_p50_ms} ms, p99 ${line.due_to_claim_p99_ms} ms (goal ≤ 500), max ${line.due_to_claim_max_ms} ms over ${line.rotations} rotations`);
        say(`  of which: run request p50 ${line.run_request_p50_ms} ms; due → poll answered p50 ${line.due_to_poll_answer_p50_ms} / p99 ${line.due_to_poll_answer_p99_ms} ms; poll answered → claim answered p50 ${line.poll_answer_to_claim_p50_ms} / p99 ${line.poll_answer_to_claim_p99_ms} ms`);
        say(`vault CPU with the polls held (re-polls every ${waitSeconds} s included): ${heldCpuPct} % of one core`);
        if (stats.errors > 0)
            say(`agent errors: ${stats.errors} (last: ${stats.lastError ?? ''})`);
        for (const n of notes)
            say(`note: ${n}`);
        process.stdout.write(JSON.stringify(line) + '\n');
    }
    finally {
        load?.kill('SIGTERM');
        await vault.close();
    }
}
//# sourceMappingURL=longpoll-bench.js.map