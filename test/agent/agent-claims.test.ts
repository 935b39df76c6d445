// The agent claims the jobs of one poll several at once (bench/fleet-bench.ts showed one claim at
// a time kept 2–3 of 16 slots busy), yet claims and running jobs together never exceed its
// `concurrency`, and with concurrency 1 it still claims one job at a time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { AgentDaemon } from '../../agent/runtime/agent-daemon.js';
import type { AgentVault } from '../../agent/runtime/vault-api.js';
import type { AgentConfig } from '../../agent/config.js';
import { SikkerKeyError } from '../../protocol/errors.js';
import type { ClaimResponse, RotationStepResponse } from '../../protocol/api-types.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function config(concurrency: number): AgentConfig {
  return {
    vaultUrl: 'http://127.0.0.1:1', keyFile: '/nonexistent', health: { listen: '127.0.0.1:0' }, concurrency,
    log: { level: 'silent' }, caFile: undefined, pinSha256: undefined, pollWaitSeconds: 1, driftPollSeconds: 3600, leaseReconcileSeconds: 3600, templates: [], cacheDir: undefined, cacheMaxAgeMs: 86_400_000,
  };
}

/**
 * A vault whose first poll offers `n` jobs. `grant(i)` decides whether the i-th claim succeeds; a
 * granted job names an engine no agent knows, so its work is a `fail` report (held 30 ms): a job
 * that occupies a slot without any database.
 */
function fakeVault(n: number, grant: (i: number) => boolean) {
  let claimsInFlight = 0;
  let jobsInFlight = 0;
  const seen = { maxClaims: 0, maxTogether: 0, claims: 0, fails: 0 };
  let polls = 0;
  const note = (): void => {
    seen.maxClaims = Math.max(seen.maxClaims, claimsInFlight);
    seen.maxTogether = Math.max(seen.maxTogether, claimsInFlight + jobsInFlight);
  };
  const unused = (): Promise<never> => Promise.reject(new Error('not used by this test'));
  const vault: AgentVault = {
    driftProbes: async () => ({ probes: [], leaseSeconds: 120 }),
    driftResult: unused,
    poll: async (_wait, signal) => {
      polls += 1;
      if (polls === 1) return { jobs: Array.from({ length: n }, (_, i) => ({ id: `job-${i}`, kind: 'preflight' as const, project: 'p', secret: `s${i}` })), leaseJobs: [] };
      await new Promise<void>((r) => { const t = setTimeout(r, 200); signal?.addEventListener('abort', () => { clearTimeout(t); r(); }, { once: true }); });
      return { jobs: [], leaseJobs: [] };
    },
    claim: async (id) => {
      const i = Number(id.slice('job-'.length));
      seen.claims += 1;
      claimsInFlight += 1;
      note();
      await sleep(20);
      claimsInFlight -= 1;
      if (!grant(i)) throw new SikkerKeyError('SK_ERR_ROTATION_STATE', 'taken by another agent');
      jobsInFlight += 1; // released by the fail report below
      note();
      return {
        id, kind: 'preflight', project: 'p', secret: `s${i}`, engine: 'no-such-engine', strategy: 'single', flavour: null,
        fence: 1, leaseSeconds: 30, attempt: 1, admin: {}, usernames: ['u'], target: {},
      } as unknown as ClaimResponse;
    },
    preflight: async () => {
      seen.fails += 1;
      await sleep(30);
      jobsInFlight -= 1;
      return { state: 'failed' } as RotationStepResponse;
    },
    fail: unused, heartbeat: unused, applied: unused, confirm: unused,
    claimLeaseJobs: unused, confirmLeaseJob: unused, failLeaseJob: unused, reconcile: unused,
    leaseRoles: async () => ({ roles: [] }),
  };
  return { vault, seen };
}

async function runUntil(daemon: AgentDaemon, done: () => boolean): Promise<void> {
  const running = daemon.run();
  const deadline = Date.now() + 10_000;
  while (!done() && Date.now() < deadline) await sleep(5);
  await daemon.stop();
  await running;
}

const silent = pino({ level: 'silent' });

test('claims of one poll run in parallel up to the concurrency', async () => {
  const { vault, seen } = fakeVault(10, () => false);
  const daemon = new AgentDaemon(config(4), { vault, log: silent });
  await runUntil(daemon, () => seen.claims === 10);
  assert.equal(seen.claims, 10);
  assert.equal(seen.maxClaims, 4);
});

test('claims and running jobs together never exceed the concurrency; every granted job runs', async () => {
  const { vault, seen } = fakeVault(12, (i) => i % 3 !== 0);
  const daemon = new AgentDaemon(config(3), { vault, log: silent });
  await runUntil(daemon, () => seen.claims === 12 && seen.fails === 8);
  assert.equal(seen.fails, 8, 'each granted job ran (and reported its unloadable provider)');
  assert.ok(seen.maxTogether <= 3, `at most 3 claims and jobs at once, saw ${seen.maxTogether}`);
  assert.ok(seen.maxTogether >= 2, `claims overlapped, saw ${seen.maxTogether}`);
});

test('with concurrency 1 the agent claims one job at a time', async () => {
  const { vault, seen } = fakeVault(5, () => false);
  const daemon = new AgentDaemon(config(1), { vault, log: silent });
  await runUntil(daemon, () => seen.claims === 5);
  assert.equal(seen.maxClaims, 1);
});
