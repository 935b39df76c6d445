/**
 * The traffic test (issue "Proving it"): an application process watches its credential and opens
 * a new database connection every few milliseconds while rotations run back to back, each
 * starting as soon as the previous one's grace period has ended. `dual` and `alternating` must
 * lose no connection; `single` is printed as the baseline, whatever it shows.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { startRig } from './crash-matrix.js';
import { waitFor } from '../support/wait.js';
const FINISHED = new Set(['promoted', 'failed', 'stuck']);
const APP = fileURLToPath(new URL('./traffic-app.js', import.meta.url));
export function trafficLine(r) {
    return `app connections [${r.combo.engine} ${r.combo.strategy}]: ${r.ok} ok, ${r.failed + r.errors} failed`;
}
export async function runTraffic(combo, rotations, grace = '2s') {
    const rig = await startRig(combo, { grace });
    const agent = await rig.h.startAgent();
    const app = spawn(process.execPath, [APP], {
        env: { ...process.env, SK_URL: rig.h.url, SK_KEY_FILE: join(rig.h.dir, 'app.key'), SK_ENGINE: combo.engine, SK_INTERVAL_MS: '5' },
        stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let closed = false; // exited, and its output read to the end
    app.on('close', () => { closed = true; });
    app.stdout.on('data', (d) => { out += d.toString(); });
    app.stderr.on('data', (d) => { out += d.toString(); });
    try {
        await waitFor(() => out, { what: 'the app to print "app ready"', timeoutMs: 30_000, intervalMs: 50, until: (o) => o.includes('app ready'), show: (o) => JSON.stringify(o.slice(-500)) });
        for (let i = 0; i < rotations; i++) {
            // The previous rotation's retire job (dual) may still be waiting out its grace period.
            const id = (await waitFor(async () => {
                try {
                    return (await rig.operator.request('POST', '/v1/projects/db/secrets/app/rotation/run')).body.id;
                }
                catch (err) {
                    if (err.code !== 'SK_ERR_ROTATION_IN_PROGRESS')
                        throw err;
                    return undefined;
                }
            }, { what: `rotation ${i} to be accepted (the previous one's retire job finished)`, timeoutMs: 60_000 }));
            const job = await waitFor(async () => (await rig.operator.request('GET', `/v1/rotations/${id}`)).body, {
                what: `rotation ${i} (${id}) to finish`, timeoutMs: 60_000, intervalMs: 25, until: (b) => FINISHED.has(b.state),
            });
            if (job.state !== 'promoted')
                throw new Error(`rotation ${i} ${job.state}: ${job.error ?? ''}`);
        }
        // The counts are final once the app has followed the last promotion.
        const live = (await rig.h.read()).version;
        await waitFor(() => out, { what: `the app to follow version ${live}`, timeoutMs: 30_000, intervalMs: 25, until: (o) => o.includes(`version ${live}\n`), show: (o) => JSON.stringify(o.slice(-300)) });
        app.kill('SIGTERM');
        await waitFor(() => closed, {
            what: 'the app to exit after SIGTERM (printing its counts)', timeoutMs: 30_000, intervalMs: 50, show: () => JSON.stringify(out.slice(-300)),
        });
        const last = out.trim().split('\n').filter((l) => l.startsWith('{')).pop();
        if (!last)
            throw new Error(`the app printed no counts: ${out.slice(-500)}`);
        const counts = JSON.parse(last);
        return { combo, rotations, ...counts };
    }
    finally {
        app.kill('SIGKILL');
        await agent.stop('SIGKILL');
        await rig.close();
    }
}
//# sourceMappingURL=traffic.js.map