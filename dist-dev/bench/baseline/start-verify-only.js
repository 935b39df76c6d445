/**
 * Starts bench/baseline/verify-only-server.js as its own process (pinned like the vault), for the
 * machine key the bench signs with.
 *
 * @example
 *   const base = await startVerifyOnlyServer({ publicKey: vault.machinePublicKey, cpu: 0 });
 *   // load base.url, then
 *   await base.stop();
 */
import { fileURLToPath } from 'node:url';
import { canPin, pinnedCommand, spawnTracked } from '../support/child-processes.js';
const SCRIPT = fileURLToPath(new URL('./verify-only-server.js', import.meta.url));
export async function startVerifyOnlyServer(opts) {
    const child = spawnTracked(pinnedCommand(opts.cpu, [process.execPath, SCRIPT, '--public-key', opts.publicKey,
        '--value-bytes', String(opts.valueBytes ?? 1024), '--verify', opts.verify ?? 'thread-pool']));
    try {
        const m = await child.waitForLine(/\{"url":"([^"]+)"\}/);
        return { url: m[1], pid: child.proc.pid ?? 0, pinned: opts.cpu !== undefined && canPin(), stop: () => child.stop() };
    }
    catch (err) {
        await child.stop();
        throw err;
    }
}
//# sourceMappingURL=start-verify-only.js.map