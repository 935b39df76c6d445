// `exec --lease` (agent/leases/exec-leases.ts, agent/delivery/exec.ts) against a stub vault
// object standing in for the vault's lease routes (helper L-vault's; the end-to-end test comes
// with the merge): variables, background renewal, a new lease when renewal is refused, revoke at exit.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { runExec } from '../../agent/delivery/exec.js';
import { ExecLeases } from '../../agent/leases/exec-leases.js';
import { acquireLease, leaseVariables, parseLeaseSpec } from '../../agent/leases/lease-client.js';
import type { LeaseRequester } from '../../agent/leases/lease-client.js';
import type { Lease } from '../../protocol/api-types.js';
import { SikkerKeyError } from '../../protocol/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'sk-exec-lease-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A stub vault object: each lease request makes lease-N (202 first, active on GET); renewals as `renew` says. */
function stubVault(opts: { lifetimeMs: number; renew: (lease: Lease, n: number) => Lease }) {
  const leases = new Map<string, Lease>();
  const calls = { requests: 0, renews: 0, revoked: [] as string[], bodies: [] as unknown[] };
  const client: LeaseRequester = {
    request: (async (method: string, path: string, body?: unknown) => {
      calls.bodies.push(body);
      if (method === 'POST' && path.startsWith('/v1/projects/shop/leases/app-ro?')) {
        calls.requests += 1;
        const id = `lease-${calls.requests}`;
        leases.set(id, {
          leaseId: id, project: 'shop', role: 'app-ro', state: 'active', expiresAt: Date.now() + opts.lifetimeMs, maxExpiresAt: Date.now() + 10 * opts.lifetimeMs,
          fields: { host: 'db.internal', port: '5432', username: `sk0a1b2c_app_${calls.requests}`, password: `pw-${calls.requests}`, database: 'shop' },
        });
        return { status: 202, body: { leaseId: id, state: 'creating' }, headers: {} };
      }
      const m = /^\/v1\/leases\/([^/?]+)(\/renew|\/revoke)?/.exec(path);
      const lease = m ? leases.get(m[1] as string) : undefined;
      if (!m || !lease) throw new SikkerKeyError('SK_ERR_LEASE_NOT_FOUND', 'no such lease');
      if (m[2] === '/renew') {
        calls.renews += 1;
        const next = opts.renew(lease, calls.renews);
        leases.set(lease.leaseId, next);
        return { status: 200, body: { ...next, fields: undefined }, headers: {} };
      }
      if (m[2] === '/revoke') {
        calls.revoked.push(lease.leaseId);
        return { status: 200, body: { ...lease, state: 'revoking', fields: undefined }, headers: {} };
      }
      return { status: 200, body: lease, headers: {} };
    }) as LeaseRequester['request'],
  };
  return { client, calls };
}

const waitUntil = async (what: string, done: () => boolean): Promise<void> => {
  const deadline = Date.now() + 15_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('exec --lease (stub vault)', () => {
  test('stub vault: --lease DB=shop/app-ro gives DB_USERNAME, DB_PASSWORD, DB_HOST, DB_PORT and DB_DATABASE', () => {
    const spec = parseLeaseSpec('DB=shop/app-ro');
    assert.deepEqual(spec, { name: 'DB', project: 'shop', role: 'app-ro' });
    const vars = leaseVariables('DB', { leaseId: 'l', project: 'shop', role: 'app-ro', state: 'active', expiresAt: 0, maxExpiresAt: 0, fields: { host: 'h', port: '1', username: 'u', password: 'p' } });
    assert.deepEqual(vars, { DB_USERNAME: 'u', DB_PASSWORD: 'p', DB_HOST: 'h', DB_PORT: '1' });
    for (const bad of ['DB', 'DB=shop', '1DB=shop/r', 'DB=shop/r/x']) assert.throws(() => parseLeaseSpec(bad), (err: unknown) => err instanceof SikkerKeyError && err.code === 'SK_ERR_USAGE', bad);
  });

  test('stub vault: renews in the background, takes a new lease when the renewal is refused, tells exec, and revokes the old one', async () => {
    const { client, calls } = stubVault({
      lifetimeMs: 300,
      renew: (lease, n) => {
        if (n >= 2) throw new SikkerKeyError('SK_ERR_LEASE_MAX_TTL', 'at the max ttl');
        return { ...lease, expiresAt: lease.expiresAt + 300 };
      },
    });
    const leases = new ExecLeases({ client, specs: [parseLeaseSpec('DB=shop/app-ro')], ttl: '1h', log: () => undefined, minDelayMs: 10 });
    const changes: Array<Record<string, string>> = [];
    const first = await leases.start((vars) => changes.push(vars));
    assert.equal(first.DB_USERNAME, 'sk0a1b2c_app_1');
    assert.deepEqual(calls.bodies[0], { ttl: '1h' });
    await waitUntil('a new lease after the refused renewal', () => changes.length === 1);
    assert.equal(calls.renews, 2, 'one renewal moved the expiry, the next was refused');
    assert.equal(changes[0]?.DB_USERNAME, 'sk0a1b2c_app_2');
    assert.equal(changes[0]?.DB_PASSWORD, 'pw-2');
    await waitUntil('the old lease revoked', () => calls.revoked.includes('lease-1'));
    await leases.stop();
    assert.deepEqual(calls.revoked, ['lease-1', 'lease-2']);
  });

  test('stub vault: with --on-change none (keepReplaced) the replaced lease is left to run out, not revoked under the command', async () => {
    const { client, calls } = stubVault({
      lifetimeMs: 300,
      renew: () => { throw new SikkerKeyError('SK_ERR_LEASE_MAX_TTL', 'at the max ttl'); },
    });
    const lines: string[] = [];
    const leases = new ExecLeases({ client, specs: [parseLeaseSpec('DB=shop/app-ro')], log: (l) => lines.push(l), minDelayMs: 10, keepReplaced: true });
    const changes: Array<Record<string, string>> = [];
    await leases.start((vars) => changes.push(vars));
    await waitUntil('a new lease after the refused renewal', () => changes.length >= 1);
    await waitUntil('the replaced lease noted as left to end', () => lines.some((l) => l.includes('lease-1 left to end')));
    assert.equal(calls.revoked.length, 0, 'nothing revoked while the command runs');
    await leases.stop();
    assert.equal(calls.revoked.includes('lease-1'), false, 'the replaced lease is never revoked by exec');
  });

  test('stub vault: the command gets the lease in its environment, and the lease is revoked when the command exits', async () => {
    const { client, calls } = stubVault({ lifetimeMs: 3_600_000, renew: (lease) => lease });
    const out = join(dir, 'env.txt');
    const status = await runExec({
      client: { getSecret: () => Promise.reject(new Error('no secrets here')), watch: () => { throw new Error('no secrets here'); } },
      env: [], envFileSecrets: [], onChange: { kind: 'restart' }, once: false, graceMs: 1000,
      command: process.execPath,
      args: ['-e', `require('node:fs').writeFileSync(${JSON.stringify(out)}, [process.env.DB_USERNAME, process.env.DB_HOST, process.env.DB_PORT, process.env.DB_DATABASE].join(' '))`],
      baseEnv: { PATH: process.env.PATH ?? '' },
      leases: new ExecLeases({ client, specs: [parseLeaseSpec('DB=shop/app-ro')], log: () => undefined }),
      log: () => undefined,
    });
    assert.equal(status, 0);
    assert.equal(readFileSync(out, 'utf8'), 'sk0a1b2c_app_1 db.internal 5432 shop');
    assert.deepEqual(calls.revoked, ['lease-1']);
  });

  test('stub vault: a lease that ends failed instead of active is SK_ERR_LEASE_STATE and no command starts', async () => {
    const client: LeaseRequester = {
      request: (async () => ({ status: 200, body: { leaseId: 'l-f', project: 'shop', role: 'app-ro', state: 'failed', expiresAt: 0, maxExpiresAt: 0 }, headers: {} })) as LeaseRequester['request'],
    };
    const leases = new ExecLeases({ client, specs: [parseLeaseSpec('DB=shop/app-ro')], log: () => undefined });
    await assert.rejects(leases.start(() => undefined), (err: unknown) => err instanceof SikkerKeyError && err.code === 'SK_ERR_LEASE_STATE');
  });

  test('stub vault: a lease still creating when the wait gives up is revoked before the error (it would hold a place for its whole TTL)', async () => {
    const seen: string[] = [];
    const client: LeaseRequester = {
      request: (async (method: string, path: string) => {
        seen.push(`${method} ${path.split('?')[0]}`);
        if (path.endsWith('/revoke')) return { status: 200, body: { leaseId: 'l-slow', state: 'revoking' }, headers: {} };
        return { status: 202, body: { leaseId: 'l-slow', state: 'creating' }, headers: {} };
      }) as LeaseRequester['request'],
    };
    await assert.rejects(acquireLease(client, { project: 'shop', role: 'app-ro', timeoutMs: 0 }), (err: unknown) => err instanceof SikkerKeyError && err.code === 'SK_ERR_CONNECT' && /revoked/.test(err.message));
    assert.deepEqual(seen, ['POST /v1/projects/shop/leases/app-ro', 'POST /v1/leases/l-slow/revoke']);
  });
});
