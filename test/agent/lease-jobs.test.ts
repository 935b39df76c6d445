// The agent's lease job runner and reconcile (agent/leases/) with the real Redis provider on the
// real server at REDIS_URL, and a stub vault object in place of the vault's lease routes (those
// are helper L-vault's; the end-to-end test comes with the merge).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import type { AgentConfig } from '../../agent/config.js';
import { loadAgentConfig } from '../../agent/config.js';
import type { LeaseVault } from '../../agent/leases/lease-vault.js';
import { reconcileLeases } from '../../agent/leases/reconcile.js';
import { runLeaseJob } from '../../agent/leases/run-lease-job.js';
import { AgentDaemon } from '../../agent/runtime/agent-daemon.js';
import type { AgentVault } from '../../agent/runtime/vault-api.js';
import type { AgentLeaseRole, LeaseJobClaim, LeaseJobFailBody } from '../../protocol/api-types.js';
import { SikkerKeyError } from '../../protocol/errors.js';
import { redisProvider } from '../../providers/redis/index.js';
import { withSanitizer } from '../../providers/sanitize.js';
import type { CredentialProvider } from '../../providers/provider.js';
import { assertReachable, parseServiceUrl, randomTag, redisUrl } from '../support/services.js';

const url = redisUrl();
await assertReachable('redis', url);
const server = parseServiceUrl(url);
const tag = randomTag(3);
const prefix = `sk${tag}_`;
const silent = pino({ level: 'silent' });
const admin = { host: server.host, port: String(server.port), username: server.username || 'default', password: server.password };
const target = { host: server.host, port: String(server.port) };
let root: Redis;

const connect = async (auth?: [string, string]): Promise<Redis> => {
  const c = new Redis({ host: server.host, port: server.port, lazyConnect: true, protocol: 2, retryStrategy: () => null, maxRetriesPerRequest: 0, enableOfflineQueue: false });
  c.on('error', () => undefined);
  await c.connect();
  if (auth) await c.call('AUTH', ...auth);
  else if (server.password !== '') await c.call('AUTH', admin.username, server.password);
  return c;
};
const users = async (): Promise<string[]> => (await root.call('ACL', 'USERS')) as string[];

before(async () => {
  root = await connect();
});
after(async () => {
  for (const p of opened) await p.close();
  for (const u of (await users()).filter((x) => x.startsWith(prefix) || x.startsWith(`skf${tag}`))) await root.call('ACL', 'DELUSER', u);
  root?.disconnect();
});

/** A stub vault object recording what the runner reported. */
function stubVault(opts: { reportFails?: boolean } = {}) {
  const calls = { confirms: [] as Array<[string, number]>, fails: [] as Array<[string, LeaseJobFailBody]> };
  const vault: Pick<LeaseVault, 'confirmLeaseJob' | 'failLeaseJob'> = {
    confirmLeaseJob: async (id, fence) => {
      if (opts.reportFails) throw new SikkerKeyError('SK_ERR_CONNECT', 'vault unreachable');
      calls.confirms.push([id, fence]);
    },
    failLeaseJob: async (id, body) => {
      if (opts.reportFails) throw new SikkerKeyError('SK_ERR_CONNECT', 'vault unreachable');
      calls.fails.push([id, body]);
    },
  };
  return { vault, calls };
}

/** Providers the runner tests made: the runner leaves closing to its caller (the daemon pools them). */
const opened: CredentialProvider[] = [];
const provider = (): CredentialProvider => {
  const p = withSanitizer(redisProvider());
  opened.push(p);
  return p;
};

function claim(kind: LeaseJobClaim['kind'], username: string, extra: Partial<LeaseJobClaim> = {}): LeaseJobClaim {
  return {
    id: `job-${randomTag()}`, kind, fence: 7, leaseId: `lease-${randomTag()}`, engine: 'redis', admin, target, username,
    grant: { acl: `~lease${tag}:* +@read` }, validUntil: Date.now() + 3_600_000, ...extra,
  };
}

describe('lease job runner (real Redis, stub vault)', () => {
  test('stub vault: a create job makes the user, proves it logs in, and confirms with the job\'s fence', async () => {
    const username = `${prefix}app_${randomTag()}`;
    const password = `pw-${randomTag(12)}`;
    const { vault, calls } = stubVault();
    const job = claim('create', username, { password });
    const result = await runLeaseJob(job, provider(), vault, silent);
    assert.equal(result, 'confirmed');
    assert.deepEqual(calls.confirms, [[job.id, 7]]);
    assert.deepEqual(calls.fails, []);
    const c = await connect([username, password]);
    try {
      assert.equal(await c.get(`lease${tag}:k`), null);
      await assert.rejects(c.set(`lease${tag}:k`, 'x'), /NOPERM/, 'the grant is read-only');
    } finally {
      c.disconnect();
    }
  });

  test('stub vault: a create the provider refuses is reported with its SK_ERR code and no password, and nothing is created', async () => {
    const username = `${prefix}bad_${randomTag()}`;
    const password = `pw-${randomTag(12)}`;
    const { vault, calls } = stubVault();
    const result = await runLeaseJob(claim('create', username, { password, grant: { acl: `+@read >${password}` } }), provider(), vault, silent);
    assert.equal(result, 'failed');
    assert.equal(calls.fails.length, 1);
    const [, body] = calls.fails[0] as [string, LeaseJobFailBody];
    assert.equal(body.code, 'SK_ERR_PROVIDER_CONFIG');
    assert.equal(body.fence, 7);
    assert.ok(!body.message.includes(password), 'no password in the reported message');
    assert.ok(!(await users()).includes(username));
  });

  test('stub vault: an unreachable admin is reported as SK_ERR_PROVIDER_CONNECT with neither admin nor lease password', async () => {
    const password = `pw-${randomTag(12)}`;
    const adminPassword = `adm-${randomTag(12)}`;
    const { vault, calls } = stubVault();
    const job = claim('create', `${prefix}x_${randomTag()}`, { password, admin: { host: '127.0.0.1', port: '1', username: 'default', password: adminPassword }, target: { host: '127.0.0.1', port: '1' } });
    assert.equal(await runLeaseJob(job, provider(), vault, silent), 'failed');
    const [, body] = calls.fails[0] as [string, LeaseJobFailBody];
    assert.equal(body.code, 'SK_ERR_PROVIDER_CONNECT');
    assert.ok(!body.message.includes(password) && !body.message.includes(adminPassword));
  });

  test('stub vault: a drop job closes the user\'s open connection, removes it and confirms; a renew on Redis only confirms', async () => {
    const username = `${prefix}drop_${randomTag()}`;
    const password = `pw-${randomTag(12)}`;
    const { vault, calls } = stubVault();
    assert.equal(await runLeaseJob(claim('create', username, { password }), provider(), vault, silent), 'confirmed');
    assert.equal(await runLeaseJob(claim('renew', username), provider(), vault, silent), 'confirmed');
    const open = await connect([username, password]);
    assert.equal(await runLeaseJob(claim('drop', username), provider(), vault, silent), 'confirmed');
    await assert.rejects(open.get(`lease${tag}:k`), 'the open connection was closed');
    open.disconnect();
    assert.ok(!(await users()).includes(username));
    assert.equal(calls.confirms.length, 3);
  });

  test('stub vault: when the report cannot reach the vault the result is "error" (the vault offers the job again)', async () => {
    const { vault } = stubVault({ reportFails: true });
    const username = `${prefix}unrep_${randomTag()}`;
    assert.equal(await runLeaseJob(claim('create', username, { password: `pw-${randomTag(8)}` }), provider(), vault, silent), 'error');
    // done on the database: a second run of the same job (re-claimed) is idempotent
    assert.ok((await users()).includes(username));
  });
});

describe('lease reconcile (real Redis, stub vault)', () => {
  test('stub vault: drops what the vault names with this vault\'s prefix, never a foreign login even when named', async () => {
    const a = `${prefix}rec_a`;
    const b = `${prefix}rec_b`;
    const foreign = `skf${tag}_other`;
    for (const u of [a, b, foreign]) await root.call('ACL', 'SETUSER', u, 'on', `>pw-${randomTag(8)}`, '+get');
    const role: AgentLeaseRole = { roleId: 'role-1', project: 'shop', role: 'cache-ro', engine: 'redis', admin, target, prefix };
    let listed: string[] = [];
    const dropped: string[] = [];
    const summary = await reconcileLeases({
      vault: {
        leaseRoles: async () => ({ roles: [role] }),
        reconcile: async (roleId, body) => {
          assert.equal(roleId, 'role-1');
          listed = body.logins;
          return { drop: [a, foreign], foreign: [foreign] };
        },
      },
      provider: async () => withSanitizer(redisProvider()),
      log: silent,
      onDrop: (engine, result) => dropped.push(`${engine}:${result}`),
    });
    assert.ok([a, b, foreign].every((u) => listed.includes(u)), 'every sk login was listed to the vault');
    assert.ok(listed.every((u) => u.startsWith('sk')));
    const now = await users();
    assert.ok(!now.includes(a), 'the named login of this vault is dropped');
    assert.ok(now.includes(b), 'a login the vault did not name stays');
    assert.ok(now.includes(foreign), 'a foreign login is never dropped');
    assert.deepEqual(summary, { roles: 1, dropped: 1, foreign: 1, errors: 0 });
    assert.deepEqual(dropped, ['redis:confirmed']);
  });
});

describe('agent daemon with lease jobs (real Redis, stub vault)', () => {
  test('stub vault: a lease job in the poll answer is claimed, run and confirmed, and the reconcile runs at start', async () => {
    const username = `${prefix}daemon_${randomTag()}`;
    const password = `pw-${randomTag(12)}`;
    const job = claim('create', username, { password });
    let polls = 0;
    let roleLists = 0;
    const confirms: string[] = [];
    const unused = (): Promise<never> => Promise.reject(new Error('not used by this test'));
    const vault: AgentVault = {
      poll: async (_wait, signal) => {
        polls += 1;
        if (polls === 1) return { jobs: [], leaseJobs: [{ id: job.id, kind: 'create', leaseId: job.leaseId, project: 'shop', role: 'cache-ro' }] };
        await new Promise<void>((r) => { const t = setTimeout(r, 200); signal?.addEventListener('abort', () => { clearTimeout(t); r(); }, { once: true }); });
        return { jobs: [], leaseJobs: [] };
      },
      claimLeaseJobs: async (ids) => { assert.deepEqual(ids, [job.id]); return { claims: [job], refused: [] }; },
      confirmLeaseJob: async (id) => { confirms.push(id); },
      failLeaseJob: unused,
      leaseRoles: async () => { roleLists += 1; return { roles: [] }; },
      reconcile: unused,
      driftProbes: async () => ({ probes: [], leaseSeconds: 120 }),
      driftResult: unused, claim: unused, preflight: unused, fail: unused, heartbeat: unused, applied: unused, confirm: unused,
    };
    const config: AgentConfig = {
      vaultUrl: 'http://127.0.0.1:1', keyFile: '/nonexistent', health: { listen: '127.0.0.1:0' }, concurrency: 2, log: { level: 'silent' },
      caFile: undefined, pinSha256: undefined, pollWaitSeconds: 1, driftPollSeconds: 3600, leaseReconcileSeconds: 3600, templates: [], cacheDir: undefined, cacheMaxAgeMs: 86_400_000,
    };
    const daemon = new AgentDaemon(config, { log: silent, vault });
    const running = daemon.run();
    const deadline = Date.now() + 15_000;
    while (confirms.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await daemon.stop();
    await running;
    assert.deepEqual(confirms, [job.id]);
    assert.equal(roleLists, 1, 'one reconcile at start');
    const c = await connect([username, password]);
    c.disconnect();
  });
});

describe('agent config: leaseReconcileSeconds', () => {
  const env = { SIKKERKEY_AGENT_VAULT_URL: 'http://127.0.0.1:1', SIKKERKEY_AGENT_KEY_FILE: '/k' };
  test('defaults to 300 s, takes a duration from SIKKERKEY_AGENT_LEASE_RECONCILE_SECONDS, refuses less than 10 s', () => {
    assert.equal(loadAgentConfig(undefined, env).leaseReconcileSeconds, 300);
    assert.equal(loadAgentConfig(undefined, { ...env, SIKKERKEY_AGENT_LEASE_RECONCILE_SECONDS: '2m' }).leaseReconcileSeconds, 120);
    assert.throws(() => loadAgentConfig(undefined, { ...env, SIKKERKEY_AGENT_LEASE_RECONCILE_SECONDS: '5s' }), (err: unknown) => err instanceof SikkerKeyError && err.code === 'SK_ERR_CONFIG');
  });
});
