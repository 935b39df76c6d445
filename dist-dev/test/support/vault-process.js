/**
 * A real `sikkerkey-vault serve` process over a fresh SQLite store (or a given database URL), for
 * tests of how the server runs: listeners, TLS, signals, shutdown. The operator key and the root
 * key live in a temporary directory removed by `close()`.
 *
 * @example
 *   const v = await startVaultProcess({ tls: { cert, key, ca } });
 *   const r = await v.sk(['project', 'list', '--json']);
 *   await v.close();
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonOf, runBin, startBin } from './processes.js';
/** Makes a store with an owner; returns the files `serve` needs. */
export async function initVaultStore(dir, databaseUrl) {
    const opKey = join(dir, 'operator.key');
    const op = jsonOf(await runBin('sikkerkey', ['keygen', '--out', opKey, '--json']));
    const storeArgs = databaseUrl ? ['--database-url', databaseUrl] : ['--data-dir', join(dir, 'data')];
    const init = jsonOf(await runBin('sikkerkey-vault', ['init', ...storeArgs, '--operator-public-key', op.publicKey, '--json']));
    const rootKeyFile = join(dir, 'root.key');
    writeFileSync(rootKeyFile, init.rootKey, { mode: 0o600 });
    return { opKey, rootKeyFile, storeArgs };
}
export async function startVaultProcess(opts = {}) {
    const dir = mkdtempSync(join(tmpdir(), 'sk-vaultproc-'));
    const started = [];
    try {
        const { opKey, rootKeyFile, storeArgs } = await initVaultStore(dir, opts.databaseUrl);
        const scheme = opts.tls ? 'https' : 'http';
        const ca = opts.tls ? readFileSync(opts.tls.ca, 'utf8') : undefined;
        let listen = opts.listen ?? '127.0.0.1:0';
        const launch = async (given = opts.args ?? []) => {
            const args = given.some((a) => a === '--workers' || a.startsWith('--workers=')) ? given : [...given, '--workers', '1'];
            const proc = startBin('sikkerkey-vault', ['serve', ...storeArgs, '--root-key-file', rootKeyFile, '--listen', listen, '--log-level', 'info',
                ...(opts.tls ? ['--tls-cert', opts.tls.cert, '--tls-key', opts.tls.key] : []), ...args], { env: opts.env ?? {} });
            started.push(proc);
            const m = await proc.waitFor(/"url":"https?:\/\/[^"]*:(\d+)"/);
            return { proc, port: Number(m[1]) };
        };
        let { proc, port } = await launch();
        listen = listen.replace(/:0$/, `:${port}`);
        const url = `${scheme}://127.0.0.1:${port}`;
        const env = { SIKKERKEY_URL: url, SIKKERKEY_KEY_FILE: opKey, ...(opts.tls ? { SIKKERKEY_CA_FILE: opts.tls.ca } : {}) };
        return {
            dir, url, caFile: opts.tls?.ca, opKey,
            get port() { return port; },
            get proc() { return proc; },
            sk: (args, extra = {}) => runBin('sikkerkey', args, { env: { ...env, ...extra } }),
            get: (path) => new Promise((resolve, reject) => {
                const req = (opts.tls ? https : http).get(`${url}${path}`, { ...(ca ? { ca } : {}), agent: false }, (res) => {
                    let body = '';
                    res.setEncoding('utf8');
                    res.on('data', (d) => { body += d; });
                    res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
                });
                req.on('error', reject);
            }),
            restart: async (o = {}) => {
                ({ proc, port } = await launch(o.args));
            },
            close: async () => {
                for (const p of started)
                    await p.stop('SIGKILL');
                rmSync(dir, { recursive: true, force: true });
            },
        };
    }
    catch (err) {
        for (const p of started)
            await p.stop('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
        throw err;
    }
}
//# sourceMappingURL=vault-process.js.map