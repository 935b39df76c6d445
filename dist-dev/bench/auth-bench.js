// Two floods from one address, and a validly signed read as the baseline: forged signatures naming
// a known key (every one verified and answered 401: a well-formed request naming a known key is
// never refused by a budget), and unsigned requests (the first 20 answered 401, then 429 before
// any signature work, the address's budget being spent).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../vault-server/store/open-store.js';
import { startTestVault } from '../test/support/vault-app.js';
import { flag, round } from './stats.js';
function cpuMicros() {
    const u = process.cpuUsage();
    return u.user + u.system;
}
export async function run(args) {
    const total = Number(flag(args, 'n', '1000'));
    const dir = mkdtempSync(join(tmpdir(), 'sk-bench-auth-'));
    const store = await openStore({ dataDir: join(dir, 'data') });
    const v = await startTestVault(store, { authFailureLimit: 20 });
    try {
        await v.call(v.operator, 'POST', '/v1/projects', { name: 'p' });
        await v.call(v.operator, 'PUT', '/v1/projects/p/secrets/s', { value: 'bench-value' });
        const m = await v.addMachine('m');
        await v.call(v.operator, 'POST', '/v1/grants', { machine: 'm', project: 'p' });
        const attacker = await v.addMachine('attacker');
        // Baseline: valid signed reads from another address (the budget is per address).
        let t = cpuMicros();
        const valid = 200;
        for (let i = 0; i < valid; i++) {
            const signed = v.sign(m, 'GET', '/v1/projects/p/secrets/s');
            await v.app.inject({ method: 'GET', url: '/v1/projects/p/secrets/s', remoteAddress: '10.0.0.2', headers: { host: 'vault.test:8200', ...signed.headers } });
        }
        const validCpu = (cpuMicros() - t) / valid;
        const forged = [];
        for (let i = 0; i < total; i++) {
            const signed = v.sign(attacker, 'GET', '/v1/projects/p/secrets/s');
            const sig = signed.headers['signature'];
            signed.headers['signature'] = sig.slice(0, 6) + (sig[6] === 'A' ? 'B' : 'A') + sig.slice(7);
            t = cpuMicros();
            const res = await v.app.inject({ method: 'GET', url: '/v1/projects/p/secrets/s', remoteAddress: '10.0.0.66', headers: { host: 'vault.test:8200', ...signed.headers } });
            if (res.statusCode === 401)
                forged.push(cpuMicros() - t);
        }
        const cpu = { 401: [], 429: [] };
        for (let i = 0; i < total; i++) {
            t = cpuMicros();
            const res = await v.app.inject({ method: 'GET', url: '/v1/projects/p/secrets/s', remoteAddress: '10.0.0.67', headers: { host: 'vault.test:8200' } });
            (cpu[res.statusCode] ??= []).push(cpuMicros() - t);
        }
        const mean = (xs) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
        const r401 = mean(cpu[401] ?? []);
        const r429 = mean(cpu[429] ?? []);
        const line = {
            requests: total, forged_answered_401: forged.length, cpu_us_per_forged_401: round(mean(forged)),
            unsigned_answered_401: cpu[401]?.length ?? 0, unsigned_answered_429: cpu[429]?.length ?? 0,
            cpu_us_per_unsigned_401: round(r401), cpu_us_per_429: round(r429), cpu_us_per_valid_read: round(validCpu),
        };
        if (!args.includes('--json')) {
            process.stdout.write(`auth floods: ${line.forged_answered_401} forged signatures of a known key, each verified, 401 at ${line.cpu_us_per_forged_401} µs CPU each; `
                + `unsigned: ${line.unsigned_answered_401}×401 at ${line.cpu_us_per_unsigned_401} µs, then ${line.unsigned_answered_429}×429 at ${line.cpu_us_per_429} µs; a valid signed read costs ${line.cpu_us_per_valid_read} µs\n`);
        }
        process.stdout.write(JSON.stringify(line) + '\n');
    }
    finally {
        await v.close();
        await store.close();
        rmSync(dir, { recursive: true, force: true });
    }
}
//# sourceMappingURL=auth-bench.js.map