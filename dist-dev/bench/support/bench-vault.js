/**
 * A real `sikkerkey-vault serve` process for benchmarks, optionally pinned to one CPU, over a fresh
 * SQLite store (temporary directory) or a given PostgreSQL database. Set up as a user would, with
 * the `sikkerkey` CLI as the owner: project `p`, secrets of `valueBytes` random characters, a
 * machine `m` with a generated key (its key file is returned) and a grant on the whole project.
 *
 * @example
 *   const v = await startBenchVault({ store: 'sqlite', cpu: 0, secrets: ['s'] });
 *   // sign requests with readPrivateKeyFile(v.machineKeyFile) against v.url
 *   await v.stop();
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, jsonOf, runBin } from '../../test/support/processes.js';
import { initVaultStore } from '../../test/support/vault-process.js';
import { freePort } from '../../test/support/services.js';
import { canPin, onInterrupt, pinnedCommand, spawnTracked } from './child-processes.js';
function getStatus(url) {
    return new Promise((resolve) => {
        const req = http.get(url, { agent: false }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)); });
        req.on('error', () => resolve(0));
        req.setTimeout(2000, () => req.destroy());
    });
}
/** Polls `url` until it answers 200, failing when `exited` resolves first or after `timeoutMs`. */
export async function waitReady(url, child, timeoutMs = 60_000) {
    let gone = false;
    void child.exited.then(() => { gone = true; });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        if (await getStatus(url) === 200)
            return;
        if (gone)
            throw new Error(`the server exited before ${url} answered: ${child.output().slice(-2000)}`);
        if (Date.now() > deadline)
            throw new Error(`${url} did not answer 200 within ${timeoutMs} ms: ${child.output().slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 50));
    }
}
async function cli(env, args, input) {
    return jsonOf(await runBin('sikkerkey', [...args, '--json'], { env, ...(input !== undefined ? { input } : {}) }));
}
export async function startBenchVault(opts) {
    if (opts.store === 'postgres' && opts.databaseUrl === undefined)
        throw new Error('a postgres bench vault needs databaseUrl');
    const dir = mkdtempSync(join(tmpdir(), 'sk-bench-vault-'));
    const forget = onInterrupt(() => rmSync(dir, { recursive: true, force: true }));
    let stopServer = async () => { };
    try {
        const { opKey, rootKeyFile, storeArgs } = await initVaultStore(dir, opts.store === 'postgres' ? opts.databaseUrl : undefined);
        const port = await freePort();
        const profile = opts.cpuProfDir !== undefined ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProfDir] : [];
        const server = spawnTracked(pinnedCommand(opts.cpu, [process.execPath, ...profile, BIN['sikkerkey-vault'], 'serve', ...storeArgs,
            '--root-key-file', rootKeyFile, '--listen', `127.0.0.1:${port}`, '--log-level', opts.logLevel ?? 'info']), { logFile: join(dir, 'serve.log') });
        stopServer = () => server.stop();
        const url = `http://127.0.0.1:${port}`;
        await waitReady(`${url}/readyz`, server);
        const env = { SIKKERKEY_URL: url, SIKKERKEY_KEY_FILE: opKey };
        await cli(env, ['project', 'create', 'p']);
        for (const name of opts.secrets ?? ['s']) {
            // Random, never printed; given on stdin so it is not in any process listing either.
            const value = randomBytes(opts.valueBytes ?? 1024).toString('base64url').slice(0, opts.valueBytes ?? 1024);
            await cli(env, ['secret', 'set', 'p', name, '--value-stdin'], value);
        }
        const machineKeyFile = join(dir, 'machine.key');
        const machine = jsonOf(await runBin('sikkerkey', ['keygen', '--out', machineKeyFile, '--json']));
        await cli(env, ['machine', 'add', 'm', '--public-key', machine.publicKey]);
        await cli(env, ['grant', 'add', 'm', '--project', 'p']);
        return {
            url, machineKeyFile, machinePublicKey: machine.publicKey, pid: server.proc.pid ?? 0,
            pinned: opts.cpu !== undefined && canPin(),
            log: () => server.output(),
            stop: async () => {
                await server.stop(opts.cpuProfDir !== undefined ? { signal: 'SIGTERM', graceMs: 20_000 } : {});
                rmSync(dir, { recursive: true, force: true });
                forget();
            },
        };
    }
    catch (err) {
        await stopServer();
        rmSync(dir, { recursive: true, force: true });
        forget();
        throw err;
    }
}
//# sourceMappingURL=bench-vault.js.map