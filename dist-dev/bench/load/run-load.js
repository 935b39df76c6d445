/**
 * Runs bench/load/load-generator.js as its own process (pinned to `cpu` when taskset exists) and
 * returns what it measured.
 *
 * @example
 *   const r = await runLoad({ url, keyFile, paths: ['/v1/projects/p/secrets/s'], connections: 10, seconds: 10, cpu: 1 });
 *   r.ok_rps; r.p99_ms; r.errors;
 */
import { fileURLToPath } from 'node:url';
import { pinnedCommand, spawnTracked } from '../support/child-processes.js';
const SCRIPT = fileURLToPath(new URL('./load-generator.js', import.meta.url));
export async function runLoad(opts) {
    const argv = [process.execPath, SCRIPT, '--url', opts.url, '--key-file', opts.keyFile,
        ...opts.paths.flatMap((p) => ['--path', p]), '--method', opts.method ?? 'GET',
        ...(opts.body !== undefined ? ['--body', opts.body] : []),
        '--connections', String(opts.connections), '--seconds', String(opts.seconds), '--warmup', String(opts.warmup ?? 2),
        ...(opts.checkBatch ? ['--check-batch'] : [])];
    const child = spawnTracked(pinnedCommand(opts.cpu, argv));
    const code = await child.exited;
    const lines = child.output().trim().split('\n');
    const last = lines[lines.length - 1] ?? '';
    if (code !== 0 || !last.startsWith('{'))
        throw new Error(`the load generator failed (${String(code)}): ${child.output().slice(-2000)}`);
    return JSON.parse(last);
}
//# sourceMappingURL=run-load.js.map