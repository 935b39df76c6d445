/**
 * End-to-end harness for leased credentials: the rotation harness's real vault process, operator
 * CLI and agent processes (no rotation policy), a lease fixture's real database, one lease role
 * served by the agents labelled `rotator`, and the application machine `app1` granted it. The
 * application side speaks the lease routes through a signed client, as `sikkerkey-agent lease` does.
 */
import { join } from 'node:path';
import { VaultClient } from '../../protocol/client.js';
import { readPrivateKeyFile } from '../../protocol/keys.js';
import type { Lease, LeasePending } from '../../protocol/api-types.js';
import { jsonOf } from './processes.js';
import { leaseFixture } from './lease-fixtures.js';
import type { LeaseEngine, LeaseFixture } from './lease-fixtures.js';
import { startRotationHarness } from './rotation-harness.js';
import type { RotationHarness } from './rotation-harness.js';

export interface LeaseRig {
  fx: LeaseFixture;
  h: RotationHarness;
  /** The application machine's signed client. */
  app: VaultClient;
  /** `sikkerkey lease-role create db NAME …` with the fixture's grant, and `grant add app1 --lease-role NAME`. */
  createRole(name: string, opts?: { ttl?: string; maxTtl?: string; extra?: string[] }): Promise<void>;
  /** Leases from role `role` as app1, waiting until the agent confirmed (or the lease failed). */
  lease(role: string, opts?: { ttl?: string }): Promise<Lease>;
  /** The lease as its owner sees it now (or after `wait` seconds when it is still creating). */
  get(leaseId: string, wait?: number): Promise<{ status: number; body: Lease | LeasePending }>;
  close(): Promise<void>;
}

export async function startLeaseRig(engine: LeaseEngine, opts: { serveArgs?: string[] } = {}): Promise<LeaseRig> {
  const fx = await leaseFixture(engine);
  let h: RotationHarness;
  try {
    h = await startRotationHarness({
      engine, target: fx.admin, admin: fx.admin, rotationPolicy: false, lease: '3s', ...(opts.serveArgs ? { serveArgs: opts.serveArgs } : {}),
    });
  } catch (err) {
    await fx.cleanup();
    throw err;
  }
  const k = readPrivateKeyFile(join(h.dir, 'app.key'));
  const app = new VaultClient({ url: h.url, key: { keyId: k.keyId, privateKey: k.privateKey }, timeoutMs: 60_000 });
  const get = async (leaseId: string, wait = 0): Promise<{ status: number; body: Lease | LeasePending }> => {
    const r = await app.request<Lease | LeasePending>('GET', `/v1/leases/${encodeURIComponent(leaseId)}?wait=${wait}`);
    return { status: r.status, body: r.body };
  };
  return {
    fx, h, app, get,
    createRole: async (name, o = {}) => {
      jsonOf(await h.sk(['lease-role', 'create', 'db', name, '--provider', engine, '--agent-label', 'rotator', '--admin-secret', 'admin',
        '--ttl', o.ttl ?? '1h', '--max-ttl', o.maxTtl ?? '24h', ...fx.grantArgs, ...(o.extra ?? []), '--json']));
      jsonOf(await h.sk(['grant', 'add', 'app1', '--project', 'db', '--lease-role', name, '--json']));
    },
    lease: async (role, o = {}) => {
      const r = await app.request<Lease | LeasePending>('POST', `/v1/projects/db/leases/${encodeURIComponent(role)}?wait=20`, o.ttl ? { ttl: o.ttl } : {});
      let body = r.body;
      for (let i = 0; i < 5 && body.state === 'creating'; i++) body = (await get(body.leaseId, 20)).body;
      if (body.state !== 'active') throw new Error(`the lease ${body.leaseId} is ${body.state}, not active`);
      return body as Lease;
    },
    close: async () => {
      await h.close();
      await fx.cleanup();
    },
  };
}
