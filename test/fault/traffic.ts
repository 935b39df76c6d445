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
import type { Combo } from './crash-matrix.js';

export interface TrafficResult { combo: Combo; rotations: number; ok: number; failed: number; errors: number; versions: number }

const APP = fileURLToPath(new URL('./traffic-app.js', import.meta.url));

export function trafficLine(r: TrafficResult): string {
  return `app connections [${r.combo.engine} ${r.combo.strategy}]: ${r.ok} ok, ${r.failed + r.errors} failed`;
}

export async function runTraffic(combo: Combo, rotations: number, grace = '2s'): Promise<TrafficResult> {
  const rig = await startRig(combo, { grace });
  const agent = await rig.h.startAgent();
  const app = spawn(process.execPath, [APP], {
    env: { ...process.env, SK_URL: rig.h.url, SK_KEY_FILE: join(rig.h.dir, 'app.key'), SK_ENGINE: combo.engine, SK_INTERVAL_MS: '5' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  app.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  app.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  try {
    const deadline = Date.now() + 15_000;
    while (!out.includes('app ready')) {
      if (Date.now() > deadline) throw new Error(`the app did not start: ${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    for (let i = 0; i < rotations; i++) {
      let id: string | undefined;
      while (!id) {
        try {
          id = (await rig.operator.request<{ id: string }>('POST', '/v1/projects/db/secrets/app/rotation/run')).body.id;
        } catch (err) {
          // The previous rotation's retire job (dual) is still waiting out its grace period.
          if ((err as { code?: string }).code !== 'SK_ERR_ROTATION_IN_PROGRESS') throw err;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      for (;;) {
        const { body } = await rig.operator.request<{ state: string; error: string | null }>('GET', `/v1/rotations/${id}`);
        if (body.state === 'promoted') break;
        if (body.state === 'failed' || body.state === 'stuck') throw new Error(`rotation ${i} ${body.state}: ${body.error ?? ''}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    }
    await new Promise((r) => setTimeout(r, 300)); // the app picks up the last promotion
    const done = new Promise<void>((resolve) => app.on('exit', () => resolve()));
    app.kill('SIGTERM');
    await done;
    const last = out.trim().split('\n').filter((l) => l.startsWith('{')).pop();
    if (!last) throw new Error(`the app printed no counts: ${out.slice(-500)}`);
    const counts = JSON.parse(last) as { ok: number; failed: number; errors: number; versions: number };
    return { combo, rotations, ...counts };
  } finally {
    app.kill('SIGKILL');
    await agent.stop('SIGKILL');
    await rig.close();
  }
}
