// Status tells the truth, from the command line (issue 22): against a real vault process on
// SQLite, `rotation run --wait` whose new password is refused at verification prints the failure
// and when the next attempt is due and exits 3; `rotation status` and `rotation list` go on showing
// the failure while the retry waits. The agent's half is signed calls from this process.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { VaultClient } from '../../protocol/client.js';
import type { RotationStatus } from '../../protocol/api-types.js';
import { jsonOf, runBin } from '../support/processes.js';
import { startVaultProcess } from '../support/vault-process.js';
import type { VaultProcess } from '../support/vault-process.js';

let vault: VaultProcess | undefined;
after(async () => {
  await vault?.close();
});

const REFUSED = 'the new password was refused at verification';

test('after `rotation run --wait` fails, it prints the code, message and next attempt; `rotation status` and `rotation list` keep showing the failure', async () => {
  vault = await startVaultProcess();
  const { dir, url, opKey } = vault;
  const env = { SIKKERKEY_URL: url, SIKKERKEY_KEY_FILE: opKey };
  const sk = async <T>(...args: string[]): Promise<T> => jsonOf<T>(await runBin('sikkerkey', [...args, '--json'], { env }));

  const agentKey = join(dir, 'agent.key');
  const agentPub = jsonOf<{ publicKey: string }>(await runBin('sikkerkey-agent', ['init', '--key-file', agentKey, '--json'])).publicKey;
  const conn = { host: 'db.internal', port: '5432', username: 'app', password: 'cli-status-live-password', database: 'app' };
  await sk('project', 'create', 'shop');
  await sk('secret', 'set', 'shop', 'admin', '--fields-json', JSON.stringify({ ...conn, username: 'admin', password: 'cli-status-admin-password' }));
  await sk('secret', 'set', 'shop', 'db', '--fields-json', JSON.stringify(conn));
  await sk('machine', 'add', 'agent1', '--public-key', agentPub);
  await sk('grant', 'add', 'agent1', '--project', 'shop', '--secret', 'admin');
  await sk('rotation', 'set', 'shop', 'db', '--provider', 'postgres', '--agent', 'agent1', '--admin-secret', 'admin', '--schedule', '0 3 * * *');

  const run = runBin('sikkerkey', ['rotation', 'run', 'shop', 'db', '--wait', '--timeout', '60'], { env });
  // The agent: finds the rotation, applies it, and the new password is refused at verification.
  const agent = new VaultClient({ url, keyFile: agentKey });
  let job: { id: string } | undefined;
  for (let i = 0; i < 300 && !job; i += 1) {
    const res = await agent.request<{ jobs: Array<{ id: string; kind: string }> } | undefined>('GET', '/v1/agent/rotations');
    job = res.status === 200 ? res.body?.jobs.find((j) => j.kind === 'rotate') : undefined;
    if (!job) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(job, 'the agent is offered the rotation');
  const claim = (await agent.request<{ fence: number }>('POST', `/v1/agent/rotations/${job.id}/claim`)).body;
  await agent.request('POST', `/v1/agent/rotations/${job.id}/applied`, { fence: claim.fence });
  const stepAt = Date.now();
  const steps = [{ step: 'claimed', at: stepAt, ms: 0 }, { step: 'connected', at: stepAt + 12, ms: 12 }, { step: 'applied', at: stepAt + 20, ms: 8 }];
  await agent.request('POST', `/v1/agent/rotations/${job.id}/fail`, { fence: claim.fence, code: 'SK_ERR_PROVIDER_AUTH_FAILED', message: REFUSED, liveVerified: true, steps });

  const r = await run;
  assert.equal(r.code, 3, r.stdout + r.stderr);
  assert.match(r.stdout, new RegExp(`^rotation ${job.id}: failed — SK_ERR_PROVIDER_AUTH_FAILED: ${REFUSED} \\(attempt 1 of 3, \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\)$`, 'm'));
  assert.match(r.stdout, /^next attempt: (\d{4}-\d\d-\d\dT[\d:.]+Z|due now \(since .*\), waiting for an agent)$/m);

  const st = await sk<RotationStatus>('rotation', 'status', 'shop', 'db');
  assert.deepEqual([st.state, st.lastError?.code, st.lastError?.message, st.lastError?.rotationId], ['pending', 'SK_ERR_PROVIDER_AUTH_FAILED', REFUSED, job.id]);
  assert.ok(st.nextAttemptAt !== null);
  const human = (await runBin('sikkerkey', ['rotation', 'status', 'shop', 'db'], { env })).stdout;
  assert.match(human, new RegExp(`^last error    SK_ERR_PROVIDER_AUTH_FAILED: ${REFUSED} \\(attempt 1 of 3, `, 'm'));
  assert.match(human, /^next attempt {2}\S/m);
  assert.match((await runBin('sikkerkey', ['rotation', 'list'], { env })).stdout, /^shop\/db .*FAILED \(SK_ERR_PROVIDER_AUTH_FAILED\)/m);

  // `rotation show <id>`: the failed job's timeline, the agent's steps with their durations.
  const shown = await sk<{ id: string; state: string; timeline: Array<{ source: string; step: string; ms?: number }> }>('rotation', 'show', job.id);
  assert.equal(shown.state, 'failed');
  assert.deepEqual(shown.timeline.map((e) => `${e.source}:${e.step}`), ['vault:created', 'vault:claimed', 'agent:claimed', 'agent:connected', 'agent:applied', 'vault:applied', 'vault:failed']);
  const shownHuman = (await runBin('sikkerkey', ['rotation', 'show', job.id], { env })).stdout;
  assert.match(shownHuman, /^state {9}failed \(attempt 1\)$/m);
  assert.match(shownHuman, /^ {2}\S+Z {2}agent {6}12 ms {2}connected {8}attempt 1$/m);
  assert.match(shownHuman, /^ {2}\S+Z {2}vault {13}failed {11}attempt 1$/m);
  assert.match((await runBin('sikkerkey', ['rotation', 'show', '--help'], { env })).stdout, /timeline/);
  // `rotation status` prints the latest job's timeline (the retry, created only).
  assert.match(human, /^timeline of \S+\n {2}\S+Z {2}vault {13}created$/m);
});
