// `POST /v1/secrets:batchGet` with 10 items (10 distinct 1 KB secrets the machine may read) against
// single signed reads of the same secrets, on one real `sikkerkey-vault serve` process, in the
// same run at the same connection count, interleaved (`--reps` rounds of single then batch).
// Values per second: single = req/s; batch = 10 × req/s (a batch counts only if all 10 items are 200).
//
//   npm run bench -- batch [--json] [--seconds 10] [--warmup 2] [--connections 10] [--reps 2] [--items 10] [--store sqlite|postgres] [--log-level info] [--cpu-prof DIR]
//
// The last stdout line is one JSON object (docs/benchmarks.md lists its fields).
import { runLoad } from './load/run-load.js';
import { startBenchVault } from './support/bench-vault.js';
import { canPin } from './support/child-processes.js';
import { machineInfo } from './support/machine-info.js';
import { withServerCpu } from './support/process-cpu.js';
import { createScratchDatabase } from './support/scratch-database.js';
import { flag, median, round } from './stats.js';
const SERVER_CPU = 0;
const GENERATOR_CPU = 1;
const GOAL = 6;
export async function run(args) {
    const json = args.includes('--json');
    const seconds = Number(flag(args, 'seconds', '10'));
    const warmup = Number(flag(args, 'warmup', '2'));
    const reps = Number(flag(args, 'reps', '2'));
    const connections = Number(flag(args, 'connections', '10'));
    const itemCount = Number(flag(args, 'items', '10'));
    const logLevel = flag(args, 'log-level', 'info');
    const cpuProf = flag(args, 'cpu-prof', '');
    const store = flag(args, 'store', 'sqlite');
    if (store !== 'sqlite' && store !== 'postgres')
        throw new Error('--store takes sqlite or postgres');
    if (!(seconds > 0) || !(warmup >= 0) || !(reps >= 1) || !Number.isInteger(connections) || connections < 1 || !Number.isInteger(itemCount) || itemCount < 1 || itemCount > 100) {
        throw new Error('--seconds > 0, --warmup ≥ 0, --reps ≥ 1, --connections ≥ 1, --items 1–100');
    }
    const log = (line) => { if (!json)
        process.stderr.write(`${line}\n`); };
    const names = Array.from({ length: itemCount }, (_, i) => `b${i}`);
    let db;
    let vault;
    try {
        if (store === 'postgres') {
            const pgUrl = process.env['PG_URL'];
            if (!pgUrl)
                throw new Error('--store postgres needs PG_URL (npm run bench provides one)');
            db = await createScratchDatabase(pgUrl);
        }
        vault = await startBenchVault({ store, cpu: SERVER_CPU, secrets: names, logLevel, ...(cpuProf ? { cpuProfDir: cpuProf } : {}), ...(db ? { databaseUrl: db.url } : {}) });
        const common = { url: vault.url, keyFile: vault.machineKeyFile, connections, seconds, warmup, cpu: GENERATOR_CPU };
        const single = [];
        const batch = [];
        const singleCpu = [];
        const batchCpu = [];
        const measured = async (cpu, opts) => {
            const { result, serverCpu } = await withServerCpu(vault.pid, () => runLoad(opts));
            if (serverCpu !== undefined)
                cpu.push(serverCpu);
            return result;
        };
        for (let rep = 0; rep < reps; rep++) {
            single.push(await measured(singleCpu, { ...common, paths: names.map((n) => `/v1/projects/p/secrets/${n}`) }));
            log(`  round ${rep + 1}: single reads ${single[single.length - 1]?.ok_rps} req/s`);
            batch.push(await measured(batchCpu, {
                ...common, method: 'POST', paths: ['/v1/secrets:batchGet'], checkBatch: true,
                body: JSON.stringify({ items: names.map((name) => ({ project: 'p', name })) }),
            }));
            log(`  round ${rep + 1}: batchGet     ${batch[batch.length - 1]?.ok_rps} req/s (× ${itemCount} values)`);
        }
        for (const r of [...single, ...batch])
            if (r.first_error)
                log(`  non-200 answer: ${r.first_error}`);
        const singleValues = median(single.map((r) => r.ok_rps));
        const batchValues = itemCount * median(batch.map((r) => r.ok_rps));
        const singleErrors = single.reduce((a, r) => a + r.errors, 0);
        const batchErrors = batch.reduce((a, r) => a + r.errors, 0);
        const ratio = round(batchValues / singleValues, 2);
        const line = {
            bench: 'batch',
            store,
            pinned: vault.pinned && canPin(),
            ...(store === 'postgres' ? { postgres_pinned: false } : {}),
            ...machineInfo(),
            seconds, warmup, reps, connections, items: itemCount, vault_log_level: logLevel,
            batch_values_per_s: round(batchValues),
            single_values_per_s: round(singleValues),
            ratio,
            batch_p50_ms: round(median(batch.map((r) => r.p50_ms)), 2),
            batch_p99_ms: round(median(batch.map((r) => r.p99_ms)), 2),
            single_p50_ms: round(median(single.map((r) => r.p50_ms)), 2),
            single_p99_ms: round(median(single.map((r) => r.p99_ms)), 2),
            batch_errors: batchErrors,
            single_errors: singleErrors,
            generator_cpu_max: Math.max(...single.map((r) => r.generator_cpu), ...batch.map((r) => r.generator_cpu)),
            single_server_cpu: singleCpu.length > 0 ? round(median(singleCpu), 2) : null,
            batch_server_cpu: batchCpu.length > 0 ? round(median(batchCpu), 2) : null,
            single_server_cpu_ms_per_value: singleCpu.length > 0 && singleValues > 0 ? round((median(singleCpu) / singleValues) * 1000, 3) : null,
            batch_server_cpu_ms_per_value: batchCpu.length > 0 && batchValues > 0 ? round((median(batchCpu) / batchValues) * 1000, 3) : null,
            rounds: single.map((r, i) => ({ single_values_per_s: r.ok_rps, batch_values_per_s: round(itemCount * (batch[i]?.ok_rps ?? NaN)) })),
            goal: GOAL,
            suspect: batchErrors + singleErrors > 0,
            met: batchErrors + singleErrors === 0 && ratio >= GOAL,
        };
        if (!json) {
            process.stdout.write(`batch (${store}, ${connections} conns, ${itemCount} items): ${line.batch_values_per_s} values/s (p99 ${line.batch_p99_ms} ms) vs single reads ${line.single_values_per_s} values/s (p99 ${line.single_p99_ms} ms): ratio ${ratio}, goal ${GOAL}: ${line.met ? 'met' : 'not met'}`
                + `${line.suspect ? ` — SUSPECT: ${batchErrors} batch / ${singleErrors} single non-200 answers` : ''}${line.pinned ? '' : ' (not pinned)'}\n`);
        }
        process.stdout.write(`${JSON.stringify(line)}\n`);
    }
    finally {
        await vault?.stop();
        await db?.drop();
    }
}
//# sourceMappingURL=batch-bench.js.map