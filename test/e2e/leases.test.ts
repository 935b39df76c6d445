// Leased credentials end to end (issue "Leased credentials", Done when): a real vault process, a
// real agent process and real databases — PostgreSQL on a scram cluster, MariaDB, Redis. A machine
// leases a login of its own; the login works with exactly the granted privileges (a write outside
// them is refused by the database itself); renew extends it; revoke and expiry make the login fail
// and close a session that was open. MongoDB's lease commands are asserted against the wire double
// in test/providers (no MongoDB server here).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isSikkerKeyError } from '../../protocol/errors.js';
import type { Lease } from '../../protocol/api-types.js';
import { startLeaseRig } from '../support/lease-harness.js';
import type { LeaseRig } from '../support/lease-harness.js';
import type { LeaseEngine } from '../support/lease-fixtures.js';
import type { RunningProcess } from '../support/processes.js';
import { waitFor } from '../support/wait.js';

const ENGINES: Array<{ engine: LeaseEngine; label: string; serveArgs?: string[] }> = [
  // Redis behind `serve --workers 2`: a lease request held in one worker, the agent's confirm taken by another.
  { engine: 'redis', label: 'Redis (vault with --workers 2)', serveArgs: ['--workers', '2'] },
  { engine: 'postgres', label: 'PostgreSQL (scram cluster)' },
  { engine: 'mysql', label: 'MariaDB' },
];
/** How long a lease's end may take to reach the database (the 30 s test deadline). */
const END_DEADLINE_MS = 30_000;

/** Waits until the login is refused and the open session is gone; returns how long that took. */
async function waitUntilGone(rig: LeaseRig, fields: Record<string, string>, session: { alive(): Promise<boolean> }): Promise<number> {
  const started = Date.now();
  await waitFor(async () => ({ login: await rig.fx.login(fields), session: await session.alive() }), {
    what: 'the leased login to be refused and its open session closed', timeoutMs: END_DEADLINE_MS, intervalMs: 250,
    until: (s) => !s.login && !s.session,
    // a login attempt that lands while the agent ends the login's sessions is cut off mid-way: look again
    retryOn: true,
  });
  return Date.now() - started;
}

for (const { engine, label, serveArgs } of ENGINES) {
  describe(`leases on ${label}`, () => {
    let rig: LeaseRig;
    let agent: RunningProcess;
    const seenPasswords: string[] = [];

    before(async () => {
      rig = await startLeaseRig(engine, serveArgs ? { serveArgs } : {});
      await rig.createRole('ro');
      await rig.createRole('capped', { ttl: '1h', maxTtl: '2h' });
      await rig.createRole('short', { ttl: '5s', maxTtl: '10s' });
      agent = await rig.h.startAgent({ config: { leaseReconcileSeconds: 10 } });
    });
    after(async () => {
      await rig?.close();
    });

    test(`${label}: a machine leases a login of its own; it works with exactly the granted privileges`, async () => {
      const lease = await rig.lease('ro');
      const f = lease.fields ?? {};
      seenPasswords.push(f['password'] ?? '');
      assert.match(f['username'] ?? '', /^sk[0-9a-f]{6}_ro_[a-z0-9]+$/, 'named sk<vault id>_<role>_<random>');
      assert.ok((f['username'] ?? '').length <= 32);
      assert.equal(await rig.fx.login(f), true, 'the leased login logs in');
      await rig.fx.read(f);
      const refusal = await rig.fx.writeOutside(f);
      assert.ok(refusal.length > 0, `the database refused the write (${refusal})`);
      const other = await rig.lease('ro');
      assert.notEqual(other.fields?.['username'], f['username'], 'every lease is a login of its own');
      assert.ok(lease.expiresAt > Date.now() + 50 * 60_000 && lease.expiresAt <= Date.now() + 60 * 60_000, 'the role\'s 1h ttl');
      const list = JSON.parse((await rig.h.sk(['lease', 'list', '--json'])).stdout) as { leases: Array<{ leaseId: string; state: string }> };
      assert.ok(list.leases.some((l) => l.leaseId === lease.leaseId && l.state === 'active'), 'operators see the lease');
      assert.equal(JSON.stringify(list).includes(f['password'] ?? '\u0000'), false, 'operators never see its password');
    });

    test(`${label}: renew extends the lease, never past its max TTL`, async () => {
      const lease = await rig.lease('capped');
      const username = lease.fields?.['username'] ?? '';
      const before = engine === 'postgres' ? await rig.fx.validUntil?.(username) : null;
      const renewed = (await rig.app.request<Lease>('POST', `/v1/leases/${lease.leaseId}/renew`, { ttl: '90m' })).body;
      assert.ok(renewed.expiresAt > lease.expiresAt, 'renew moved expiresAt');
      assert.equal(renewed.maxExpiresAt, lease.maxExpiresAt);
      if (engine === 'postgres') {
        const after = await rig.fx.validUntil?.(username);
        assert.ok(before && after && after > before, `VALID UNTIL moved (${before} → ${after})`);
      }
      const capped = (await rig.app.request<Lease>('POST', `/v1/leases/${lease.leaseId}/renew`, { ttl: '5h' })).body;
      assert.equal(capped.expiresAt, capped.maxExpiresAt, 'a renewal past the max TTL stops at it');
      await assert.rejects(rig.app.request('POST', `/v1/leases/${lease.leaseId}/renew`, { ttl: '1h' }),
        (err: unknown) => isSikkerKeyError(err) && err.code === 'SK_ERR_LEASE_MAX_TTL');
      assert.equal(await rig.fx.login(lease.fields ?? {}), true, 'the renewed login still works');
    });

    test(`${label}: revoke makes the login fail and closes its open session`, async () => {
      const lease = await rig.lease('ro');
      const f = lease.fields ?? {};
      const session = await rig.fx.openSession(f);
      try {
        assert.equal(await session.alive(), true);
        const r = await rig.app.request<Lease>('POST', `/v1/leases/${lease.leaseId}/revoke`, {});
        assert.ok(['revoking', 'revoked'].includes(r.body.state));
        const ms = await waitUntilGone(rig, f, session);
        await waitFor(async () => (await rig.get(lease.leaseId)).body.state, { what: 'the lease to be revoked', timeoutMs: END_DEADLINE_MS, until: (s) => s === 'revoked' });
        assert.ok(ms <= END_DEADLINE_MS);
      } finally {
        await session.close();
      }
    });

    test(`${label}: a lease that runs out ends on its own: the login fails and its open session is closed`, async () => {
      const lease = await rig.lease('short');
      const f = lease.fields ?? {};
      const session = await rig.fx.openSession(f);
      try {
        assert.equal(await rig.fx.login(f), true);
        await waitUntilGone(rig, f, session);
        assert.ok(Date.now() >= lease.expiresAt - 1000, 'not ended before it expired');
        await waitFor(async () => (await rig.get(lease.leaseId)).body.state, { what: 'the lease to be expired', timeoutMs: END_DEADLINE_MS, until: (s) => s === 'expired' });
      } finally {
        await session.close();
      }
    });

    test(`${label}: removing the machine's grant revokes its leases at once; nothing is left in the database`, async () => {
      const lease = await rig.lease('ro');
      const f = lease.fields ?? {};
      const prefix = (f['username'] ?? '').split('_')[0] + '_';
      const grants = JSON.parse((await rig.h.sk(['grant', 'list', '--machine', 'app1', '--json'])).stdout) as { grants: Array<{ id: string; leaseRole?: string | null }> };
      const ro = grants.grants.find((g) => g.leaseRole === 'ro');
      assert.ok(ro, `app1 has a grant on the lease role ro: ${JSON.stringify(grants)}`);
      const session = await rig.fx.openSession(f);
      try {
        const removed = await rig.h.sk(['grant', 'remove', ro.id, '--json']);
        assert.equal(removed.code, 0, removed.stderr);
        await waitUntilGone(rig, f, session);
      } finally {
        await session.close();
      }
      await assert.rejects(rig.lease('ro'), (err: unknown) => isSikkerKeyError(err) && err.statusCode === 403, 'no grant, no lease');
      // Every other lease of this test run: revoke what is still live; then no login of this vault is left.
      const list = JSON.parse((await rig.h.sk(['lease', 'list', '--json'])).stdout) as { leases: Array<{ leaseId: string; state: string }> };
      for (const l of list.leases.filter((x) => x.state === 'active')) assert.equal((await rig.h.sk(['lease', 'revoke', l.leaseId, '--json'])).code, 0);
      const left = await waitFor(() => rig.fx.loginsWithPrefix(prefix), { what: 'every leased login to be dropped', timeoutMs: END_DEADLINE_MS, until: (l) => l.length === 0 });
      assert.deepEqual(left, []);
      for (const pw of seenPasswords.filter(Boolean)) {
        assert.equal(agent.output().includes(pw), false, 'no leased password in the agent log');
        assert.equal(rig.h.vault.output().includes(pw), false, 'no leased password in the vault log');
      }
    });
  });
}
