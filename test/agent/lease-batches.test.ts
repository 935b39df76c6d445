// The agent's lease-job batches (agent/leases/confirm-batcher.ts, agent/leases/lease-vault.ts):
// which confirms go together, how each caller learns its own job's outcome, and the fallback to
// the per-job routes on a vault without the batch routes. The vault is a recorded stand-in here
// (the requests it got, the answers it gives); the real vault's batch routes are tested in
// test/vault-server/leases.test.ts and used end to end by test/e2e/leases.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfirmBatcher } from '../../agent/leases/confirm-batcher.js';
import { leaseVault } from '../../agent/leases/lease-vault.js';
import type { LeaseJobConfirmBatch } from '../../protocol/api-types.js';
import type { VaultClient, VaultResponse } from '../../protocol/client.js';
import { SikkerKeyError, isSikkerKeyError } from '../../protocol/errors.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

test('confirm batcher: the first confirm goes alone; those made while it is in flight go together in the next request', async () => {
  const sent: string[][] = [];
  const gates: Array<() => void> = [];
  const batcher = new ConfirmBatcher(async (jobs) => {
    sent.push(jobs.map((j) => j.id));
    await new Promise<void>((r) => gates.push(r));
    return { confirmed: jobs.map((j) => j.id), refused: [] };
  });
  const first = batcher.confirm('a', 1);
  const rest = ['b', 'c', 'd'].map((id) => batcher.confirm(id, 1));
  await tick();
  assert.deepEqual(sent, [['a']]);
  gates.shift()?.();
  await first;
  await tick();
  assert.deepEqual(sent, [['a'], ['b', 'c', 'd']]);
  gates.shift()?.();
  await Promise.all(rest);
});

test('confirm batcher: a refused job rejects with the vault\'s code, an unanswered one with SK_ERR_RESPONSE, a failed request rejects its whole batch', async () => {
  let answer: () => Promise<LeaseJobConfirmBatch> = async () => ({ confirmed: ['ok'], refused: [{ id: 'stale', code: 'SK_ERR_ROTATION_FENCED', message: 'fence 1 is stale' }] });
  const batcher = new ConfirmBatcher(() => answer());
  const outcomes = await Promise.allSettled([batcher.confirm('ok', 1), batcher.confirm('stale', 1), batcher.confirm('missing', 1)]);
  assert.equal(outcomes[0]?.status, 'fulfilled');
  // the first went alone and was answered `ok`; the other two went together
  const reasons = outcomes.slice(1).map((o) => (o.status === 'rejected' && isSikkerKeyError(o.reason) ? o.reason.code : o.status));
  assert.deepEqual(reasons, ['SK_ERR_ROTATION_FENCED', 'SK_ERR_RESPONSE']);
  answer = async () => { throw new SikkerKeyError('SK_ERR_CONNECT', 'connection refused'); };
  const failed = await Promise.allSettled([batcher.confirm('x', 1), batcher.confirm('y', 1)]);
  assert.deepEqual(failed.map((o) => (o.status === 'rejected' && isSikkerKeyError(o.reason) ? o.reason.code : o.status)), ['SK_ERR_CONNECT', 'SK_ERR_CONNECT']);
});

test('lease vault: a vault without the batch routes (SK_ERR_ROUTE_NOT_FOUND) is asked per job from then on; a per-job refusal lands in `refused`', async () => {
  const paths: string[] = [];
  const client = {
    request: async <T>(method: string, path: string, body?: unknown): Promise<VaultResponse<T>> => {
      paths.push(`${method} ${path}`);
      if (path === '/v1/agent/lease-jobs/claim' || path === '/v1/agent/lease-jobs/confirm') throw new SikkerKeyError('SK_ERR_ROUTE_NOT_FOUND', `no route POST ${path}`);
      if (path === '/v1/agent/lease-jobs/j2/claim') throw new SikkerKeyError('SK_ERR_LEASE_STATE', 'the lease job is claimed under a live claim');
      const id = path.split('/')[4] as string;
      const answer = path.endsWith('/claim') ? { id, kind: 'create', fence: 1 } : { ok: true, fence: (body as { fence: number }).fence };
      return { status: 200, headers: {}, body: answer as T };
    },
  } as unknown as VaultClient;
  const vault = leaseVault(client);
  const batch = await vault.claimLeaseJobs(['j1', 'j2']);
  assert.deepEqual(batch.claims.map((c) => c.id), ['j1']);
  assert.deepEqual(batch.refused.map((r) => [r.id, r.code]), [['j2', 'SK_ERR_LEASE_STATE']]);
  await vault.confirmLeaseJob('j1', 1);
  await vault.claimLeaseJobs(['j3']);
  assert.deepEqual(paths, [
    'POST /v1/agent/lease-jobs/claim', 'POST /v1/agent/lease-jobs/j1/claim', 'POST /v1/agent/lease-jobs/j2/claim',
    'POST /v1/agent/lease-jobs/j1/confirm', 'POST /v1/agent/lease-jobs/j3/claim',
  ]);
});
