// Signed single-secret reads (`GET /v1/projects/p/secrets/s`, a 1 KB value) on a real
// `sikkerkey-vault serve` process, against the issue's verify-only baseline (same fastify, same
// protocol/ verifier on the thread pool, cached KeyObject, in-memory nonces, no store, a fixed 1 KB
// answer) measured in the same run, interleaved: for each connection count, `--reps` rounds of
// baseline then vault. Server processes on CPU 0, the load generator on CPU 1 (when taskset exists).
//
//   npm run bench -- read    [--json] [--seconds 10] [--warmup 2] [--connections 10,50] [--reps 2] [--log-level info] [--cpu-prof DIR]
//   npm run bench -- read-pg [same]   (the vault on a fresh PostgreSQL database made from PG_URL)
//
// The last stdout line is one JSON object (docs/benchmarks.md lists its fields).
import { startVerifyOnlyServer } from './baseline/start-verify-only.js';
import { runLoad } from './load/run-load.js';
import { startBenchVault } from './support/bench-vault.js';
import { canPin } from './support/child-processes.js';
import { machineInfo } from './support/machine-info.js';
import { withServerCpu } from './support/process-cpu.js';
import { createScratchDatabase } from './support/scratch-database.js';
import { flag, median, round } from './stats.js';
const SERVER_CPU = 0;
const GENERATOR_CPU = 1;
const READ_PATH = '/v1/projects/p/secrets/s';
function addStatuses(into, from) {
    for (const [k, v] of Object.entries(from))
        into[k] = (into[k] ?? 0) + v;
}
export async function runRead(args, store) {
    const json = args.includes('--json');
    const seconds = Number(flag(args, 'seconds', '10'));
    const warmup = Number(flag(args, 'warmup', '2'));
    const reps = Number(flag(args, 'reps', '2'));
    const logLevel = flag(args, 'log-level', 'info');
    const cpuProf = flag(args, 'cpu-prof', '');
    const counts = flag(args, 'connections', '10,50').split(',').map(Number);
    if (!(seconds > 0) || !(warmup >= 0) || !(reps >= 1) || counts.some((c) => !Number.isInteger(c) || c < 1)) {
        throw new Error('--seconds > 0, --warmup ≥ 0, --reps ≥ 1, --connections a list of whole numbers ≥ 1');
    }
    const goal = store === 'sqlite' ? 0.75 : 0.6;
    const log = (line) => { if (!json)
        process.stderr.write(`${line}\n`); };
    let db;
    let vault;
    let base;
    try {
        if (store === 'postgres') {
            const pgUrl = process.env['PG_URL'];
            if (!pgUrl)
                throw new Error('read-pg needs PG_URL (npm run bench provides one)');
            db = await createScratchDatabase(pgUrl);
        }
        vault = await startBenchVault({ store, cpu: SERVER_CPU, logLevel, ...(cpuProf ? { cpuProfDir: cpuProf } : {}), ...(db ? { databaseUrl: db.url } : {}) });
        base = await startVerifyOnlyServer({ publicKey: vault.machinePublicKey, cpu: SERVER_CPU });
        const load = async (server, connections) => {
            const { result, serverCpu } = await withServerCpu(server.pid, () => runLoad({
                url: server.url, keyFile: vault.machineKeyFile, paths: [READ_PATH], connections, seconds, warmup, cpu: GENERATOR_CPU,
            }));
            return { ...result, server_cpu: serverCpu };
        };
        const cpuMedian = (rs) => {
            const known = rs.flatMap((r) => (r.server_cpu === undefined ? [] : [r.server_cpu]));
            return known.length === 0 ? null : round(median(known), 2);
        };
        const results = [];
        for (const connections of counts) {
            const b = [];
            const v = [];
            for (let rep = 0; rep < reps; rep++) {
                b.push(await load(base, connections));
                log(`  ${connections} conns, round ${rep + 1}: verify-only ${b[b.length - 1]?.ok_rps} req/s`);
                v.push(await load(vault, connections));
                log(`  ${connections} conns, round ${rep + 1}: vault       ${v[v.length - 1]?.ok_rps} req/s`);
            }
            const statuses = {};
            for (const r of v)
                addStatuses(statuses, r.statuses);
            const signed = median(v.map((r) => r.ok_rps));
            const verifyOnly = median(b.map((r) => r.ok_rps));
            const perRequest = (cores, rps) => (cores === null || !(rps > 0) ? null : round((cores / rps) * 1000, 3));
            results.push({
                connections,
                signed_rps: round(signed),
                verify_only_rps: round(verifyOnly),
                ratio: round(signed / verifyOnly, 3),
                p50_ms: round(median(v.map((r) => r.p50_ms)), 2),
                p99_ms: round(median(v.map((r) => r.p99_ms)), 2),
                verify_only_p50_ms: round(median(b.map((r) => r.p50_ms)), 2),
                verify_only_p99_ms: round(median(b.map((r) => r.p99_ms)), 2),
                errors: v.reduce((a, r) => a + r.errors, 0),
                verify_only_errors: b.reduce((a, r) => a + r.errors, 0),
                statuses,
                generator_cpu_max: Math.max(...b.map((r) => r.generator_cpu), ...v.map((r) => r.generator_cpu)),
                server_cpu: cpuMedian(v),
                verify_only_server_cpu: cpuMedian(b),
                server_cpu_ms_per_request: perRequest(cpuMedian(v), signed),
                verify_only_server_cpu_ms_per_request: perRequest(cpuMedian(b), verifyOnly),
                rounds: v.map((r, i) => ({ signed_rps: r.ok_rps, verify_only_rps: b[i]?.ok_rps ?? NaN })),
            });
            for (const r of [...b, ...v])
                if (r.first_error)
                    log(`  non-200 answer: ${r.first_error}`);
        }
        const ratioMin = Math.min(...results.map((r) => r.ratio));
        const errors = results.reduce((a, r) => a + r.errors + r.verify_only_errors, 0);
        const line = {
            bench: store === 'sqlite' ? 'read' : 'read-pg',
            store,
            pinned: vault.pinned && canPin(),
            ...(store === 'postgres' ? { postgres_pinned: false } : {}),
            ...machineInfo(),
            seconds, warmup, reps, vault_log_level: logLevel, verify_mode: 'thread-pool',
            results,
            ratio_min: ratioMin,
            goal,
            errors,
            suspect: errors > 0,
            met: errors === 0 && ratioMin >= goal,
        };
        if (!json) {
            for (const r of results) {
                process.stdout.write(`${line.bench} (${store}, ${r.connections} conns): vault ${r.signed_rps} req/s (p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms) vs verify-only ${r.verify_only_rps} req/s: ratio ${r.ratio}; server CPU ${r.server_cpu ?? '?'} vs ${r.verify_only_server_cpu ?? '?'} cores, ${r.server_cpu_ms_per_request ?? '?'} vs ${r.verify_only_server_cpu_ms_per_request ?? '?'} ms per request`
                    + `${r.errors + r.verify_only_errors > 0 ? ` — SUSPECT: ${r.errors} vault / ${r.verify_only_errors} baseline non-200 answers ${JSON.stringify(r.statuses)}` : ''}\n`);
            }
            process.stdout.write(`${line.bench}: ratio_min ${ratioMin}, goal ${goal}: ${line.met ? 'met' : 'not met'}${line.pinned ? '' : ' (not pinned)'}\n`);
        }
        process.stdout.write(`${JSON.stringify(line)}\n`);
    }
    finally {
        await base?.stop();
        await vault?.stop();
        await db?.drop();
    }
}
export function run(args) {
    return runRead(args, 'sqlite');
}
//# sourceMappingURL=read-bench.js.map