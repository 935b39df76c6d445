// Access policies (issue 24) on both stores, through real signed requests to an in-process vault:
// every axis allows and refuses as specified, a refused read serves no value bytes and writes one
// audit event naming the axis, and 100 parallel reads over real HTTP against maxReads 10 serve 10.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IdentityKey } from '../../protocol/keys.js';
import { forEachStore } from '../support/stores.js';
import { expectStatus, policyProject } from '../support/policy-fixtures.js';
import { startTestVault } from '../support/vault-app.js';
import type { InjectedResponse, TestVault } from '../support/vault-app.js';
import { auditEvents, codeOf, projectLock, serveOverHttp } from '../support/canary-fixtures.js';

const VALUE = 'policy-guarded-value-7f3a';

const ok = expectStatus;
/** A project `p` with a plain secret `s`, a reader machine granted on it, and a policy bound to it. */
const setup = (v: TestVault, project: string, policy: Record<string, unknown>): Promise<IdentityKey> => policyProject(v, project, policy, VALUE);

/** Asserts a refusal: status and code, no value bytes, and exactly one new denied audit event naming `axis`. */
async function assertRefused(v: TestVault, res: Promise<InjectedResponse>, status: number, code: string, axis: string): Promise<InjectedResponse> {
  const before = (await auditEvents(v, 'secret.read')).filter((e) => e.outcome === 'denied').length;
  const r = await res;
  assert.equal(r.status, status, r.raw);
  assert.equal(codeOf(r), code);
  assert.equal(r.raw.includes(VALUE), false, 'a refused read carries no value bytes');
  const denied = (await auditEvents(v, 'secret.read')).filter((e) => e.outcome === 'denied');
  assert.equal(denied.length, before + 1, 'one audit event per refusal');
  assert.equal(denied.at(-1)?.details['policy'], axis);
  assert.equal(denied.at(-1)?.details['code'], code);
  return r;
}

const read = (v: TestVault, key: IdentityKey, project: string, o: { remoteAddress?: string } = {}): Promise<InjectedResponse> =>
  v.call(key, 'GET', `/v1/projects/${project}/secrets/s`, undefined, o);

/** HH:MM of `minute` (mod one day). */
const clock = (minute: number): string => {
  const m = ((minute % 1440) + 1440) % 1440;
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
};

forEachStore('access policies', (s) => {
  test('create, list, get, update, bind, unbind and delete; a bound policy cannot be deleted; bad input is 400', async () => {
    const v = await startTestVault(await s.openAt(await s.freshLocation()));
    try {
      await ok(v.call(v.operator, 'POST', '/v1/projects', { name: 'crud' }), 201);
      await ok(v.call(v.operator, 'PUT', '/v1/projects/crud/secrets/s', { value: VALUE }));
      const created = await ok(v.call(v.operator, 'POST', '/v1/projects/crud/policies', {
        name: 'strict', timeWindow: 'Mon-Fri 08:00-18:00 Europe/Oslo', ipAllowlist: ['10.0.0.0/8', '2001:db8::/32'], rateCap: { maxReadsPerMinute: 5 },
        ttl: { expiresAt: '2031-01-01T00:00:00Z', maxReads: 100 }, rotateAfterReads: 50,
      }), 201);
      const policy = (created.body as { policy: Record<string, unknown> }).policy;
      assert.equal(policy['timeWindow'], 'Mon-Fri 08:00-18:00 Europe/Oslo');
      assert.deepEqual(policy['ttl'], { expiresAt: '2031-01-01T00:00:00.000Z', maxReads: 100 });
      assert.deepEqual(policy['rateCap'], { maxReadsPerMinute: 5, maxReadsPerDay: null });
      assert.equal(codeOf(await v.call(v.operator, 'POST', '/v1/projects/crud/policies', { name: 'strict' })), 'SK_ERR_CONFLICT');
      assert.equal(codeOf(await v.call(v.operator, 'POST', '/v1/projects/crud/policies', { name: 'bad', timeWindow: '25:00-26:00 UTC' })), 'SK_ERR_VALIDATION');
      assert.equal(codeOf(await v.call(v.operator, 'POST', '/v1/projects/crud/policies', { name: 'bad', ipAllowlist: ['10.0.0.0/33'] })), 'SK_ERR_VALIDATION');
      assert.equal(codeOf(await v.call(v.operator, 'POST', '/v1/projects/crud/policies', { name: 'bad', ttl: { expiresAt: 'tomorrow!' } })), 'SK_ERR_VALIDATION');
      assert.equal(codeOf(await v.call(v.operator, 'POST', '/v1/projects/crud/policies', { name: 'bad', rateCap: {} })), 'SK_ERR_VALIDATION');

      await ok(v.call(v.operator, 'PUT', '/v1/projects/crud/policies/bindings/s', { policy: 'strict' }));
      assert.equal(codeOf(await v.call(v.operator, 'PUT', '/v1/projects/crud/policies/bindings/nope', { policy: 'strict' })), 'SK_ERR_NOT_FOUND');
      const listed = await ok(v.call(v.operator, 'GET', '/v1/projects/crud/secrets'));
      assert.equal((listed.body as { secrets: Array<{ name: string; policy?: string }> }).secrets.find((x) => x.name === 's')?.policy, 'strict', 'secret list shows the bound policy');
      const del = await v.call(v.operator, 'DELETE', '/v1/projects/crud/policies/strict');
      assert.equal(del.status, 409);
      assert.equal(codeOf(del), 'SK_ERR_IN_USE');

      const updated = await ok(v.call(v.operator, 'PATCH', '/v1/projects/crud/policies/strict', { timeWindow: null, rateCap: { maxReadsPerDay: 9 } }));
      assert.equal((updated.body as { policy: { timeWindow: unknown } }).policy.timeWindow, null);
      const got = await ok(v.call(v.operator, 'GET', '/v1/projects/crud/policies/strict'));
      const body = got.body as { policy: { secrets: string[]; rateCap: unknown }; counters: Array<{ secret: string; readsServed: number }> };
      assert.deepEqual(body.policy.secrets, ['s']);
      assert.deepEqual(body.policy.rateCap, { maxReadsPerMinute: null, maxReadsPerDay: 9 });
      assert.deepEqual(body.counters.map((c) => [c.secret, c.readsServed]), [['s', 0]]);
      const all = await ok(v.call(v.operator, 'GET', '/v1/projects/crud/policies'));
      assert.deepEqual((all.body as { policies: Array<{ name: string }> }).policies.map((p) => p.name), ['strict']);

      await ok(v.call(v.operator, 'DELETE', '/v1/projects/crud/policies/bindings/s'));
      await ok(v.call(v.operator, 'DELETE', '/v1/projects/crud/policies/strict'));
      const actions = (await auditEvents(v)).map((e) => e.action).filter((a) => a.startsWith('policy.'));
      assert.deepEqual(actions, ['policy.create', 'policy.bind', 'policy.update', 'policy.unbind', 'policy.delete']);
    } finally {
      await v.close();
    }
  });

  test('ttl by reads: maxReads 3 serves three reads, then 410 SK_ERR_SECRET_EXPIRED until update extends it', async () => {
    const v = await startTestVault(await s.openAt(await s.freshLocation()));
    try {
      const reader = await setup(v, 'ttlr', { ttl: { maxReads: 3 } });
      for (let i = 0; i < 3; i += 1) assert.equal(((await ok(read(v, reader, 'ttlr'))).body as { value: string }).value, VALUE);
      await assertRefused(v, read(v, reader, 'ttlr'), 410, 'SK_ERR_SECRET_EXPIRED', 'ttl');
      const got = await ok(v.call(v.operator, 'GET', '/v1/projects/ttlr/policies/pol'));
      assert.deepEqual((got.body as { counters: Array<{ readsServed: number; expired: boolean }> }).counters.map((c) => [c.readsServed, c.expired]), [[3, true]]);
      await ok(v.call(v.operator, 'PATCH', '/v1/projects/ttlr/policies/pol', { ttl: { maxReads: 4 } }));
      await ok(read(v, reader, 'ttlr'));
      await assertRefused(v, read(v, reader, 'ttlr'), 410, 'SK_ERR_SECRET_EXPIRED', 'ttl');
    } finally {
      await v.close();
    }
  });

  test('ttl by time: an expiresAt in the future serves, one in the past answers 410', async () => {
    const v = await startTestVault(await s.openAt(await s.freshLocation()));
    try {
      const reader = await setup(v, 'ttlt', { ttl: { expiresAt: new Date(Date.now() + 3_600_000).toISOString() } });
      await ok(read(v, reader, 'ttlt'));
      await ok(v.call(v.operator, 'PATCH', '/v1/projects/ttlt/policies/pol', { ttl: { expiresAt: new Date(Date.now() - 1000).toISOString() } }));
      await assertRefused(v, read(v, reader, 'ttlt'), 410, 'SK_ERR_SECRET_EXPIRED', 'ttl');
    } finally {
      await v.close();
    }
  });

  test('100 parallel reads over real HTTP against maxReads 10 serve exactly 10', async () => {
    const v = await startTestVault(await s.openAt(await s.freshLocation()));
    const served = await serveOverHttp(v);
    try {
      const reader = await setup(v, 'race', { ttl: { maxReads: 10 } });
      const client = served.client(reader);
      const results = await Promise.all(Array.from({ length: 100 }, () => client.request<{ value?: string }>('GET', '/v1/projects/race/secrets/s').then(
        (r) => ({ status: r.status, value: r.body.value }),
        (err: unknown) => ({ status: (err as { statusCode?: number }).statusCode ?? -1, value: undefined }),
      )));
      const ok200 = results.filter((r) => r.status === 200);
      assert.equal(ok200.length, 10, `statuses: ${JSON.stringify(results.map((r) => r.status))}`);
      assert.ok(ok200.every((r) => r.value === VALUE));
      assert.equal(results.filter((r) => r.status === 410).length, 90);
      const reads = await auditEvents(v, 'secret.read');
      assert.equal(reads.filter((e) => e.outcome === 'success').length, 10);
      assert.equal(reads.filter((e) => e.outcome === 'denied' && e.details['policy'] === 'ttl').length, 90);
    } finally {
      served.close();
      await v.close();
    }
  });

  test('a batch counts one read per item: maxReads 2 serves two items and refuses the third', async () => {
    const v = await startTestVault(await s.openAt(await s.freshLocation()));
    try {
      const reader = await setup(v, 'batch', { ttl: { maxReads: 2 } });
      const item = { project: 'batch', name: 's' };
      const res = await ok(v.call(reader, 'POST', '/v1/secrets:batchGet', { items: [item, item, item] }));
      const results = (res.body as { results: Array<{ status: number; error?: { code: string } }> }).results;
      assert.deepEqual(results.map((r) => r.status), [200, 200, 410]);
      assert.equal(results[2]?.error?.code, 'SK_ERR_SECRET_EXPIRED');
      const denied = (await auditEvents(v, 'secret.read')).filter((e) => e.outcome === 'denied');
      assert.deepEqual(denied.map((e) => e.details['policy']), ['ttl']);
    } finally {
      await v.close();
    }
  });

  test('ipAllowlist: IPv4 and IPv6 addresses inside are served, outside are refused 403 SK_ERR_POLICY_IP', async () => {
    const v = await startTestVault(await s.openAt(await s.freshLocation()));
    try {
      const reader = await setup(v, 'net', { ipAllowlist: ['10.0.0.0/8', '2001:db8::/32'] });
      await ok(read(v, reader, 'net', { remoteAddress: '10.1.2.3' }));
      await ok(read(v, reader, 'net', { remoteAddress: '2001:db8::5' }));
      await assertRefused(v, read(v, reader, 'net', { remoteAddress: '192.168.1.1' }), 403, 'SK_ERR_POLICY_IP', 'ipAllowlist');
      await assertRefused(v, read(v, reader, 'net', { remoteAddress: '2001:db9::1' }), 403, 'SK_ERR_POLICY_IP', 'ipAllowlist');
    } finally {
      await v.close();
    }
  });

  test('a watch answers only what the policy would serve at that moment: refused, audited with watchAfter and the axis', async () => {
    const v = await startTestVault(await s.openAt(await s.freshLocation()));
    try {
      const reader = await setup(v, 'watch', { ipAllowlist: ['10.0.0.0/8'] });
      const served = await ok(v.call(reader, 'GET', '/v1/projects/watch/secrets/s?waitForVersionAfter=0&wait=1', undefined, { remoteAddress: '10.9.9.9' }));
      assert.equal((served.body as { value: string }).value, VALUE);
      await assertRefused(v, v.call(reader, 'GET', '/v1/projects/watch/secrets/s?waitForVersionAfter=0&wait=1', undefined, { remoteAddress: '172.16.0.1' }), 403, 'SK_ERR_POLICY_IP', 'ipAllowlist');
      assert.equal((await auditEvents(v, 'secret.read')).at(-1)?.details['watchAfter'], 0);
    } finally {
      await v.close();
    }
  });

  test('timeWindow with real time: a window around now serves, a window later today and one on other days refuse', async () => {
    const v = await startTestVault(await s.openAt(await s.freshLocation()));
    try {
      const now = new Date();
      const minute = now.getUTCHours() * 60 + now.getUTCMinutes();
      const reader = await setup(v, 'tw', { timeWindow: `${clock(minute - 60)}-${clock(minute + 60)} UTC` });
      await ok(read(v, reader, 'tw'));
      await ok(v.call(v.operator, 'PATCH', '/v1/projects/tw/policies/pol', { timeWindow: `${clock(minute + 120)}-${clock(minute + 180)} UTC` }));
      await assertRefused(v, read(v, reader, 'tw'), 403, 'SK_ERR_POLICY_TIME_WINDOW', 'timeWindow');
      // All day, but only on the two days that are neither yesterday, today nor tomorrow… in UTC.
      const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
      const today = now.getUTCDay();
      const other = [days[(today + 3) % 7], days[(today + 4) % 7]].join(',');
      await ok(v.call(v.operator, 'PATCH', '/v1/projects/tw/policies/pol', { timeWindow: `${other} 00:00-24:00 UTC` }));
      await assertRefused(v, read(v, reader, 'tw'), 403, 'SK_ERR_POLICY_TIME_WINDOW', 'timeWindow');
      const m = (await v.metrics.registry.getSingleMetricAsString('sikkerkey_policy_refusals_total'));
      assert.match(m, /sikkerkey_policy_refusals_total\{axis="timeWindow"\} 2/);
    } finally {
      await v.close();
    }
  });

  test('rateCap per minute: the fourth read within 60 s is 429 SK_ERR_POLICY_RATE with Retry-After; per day likewise, Retry-After about a day', async () => {
    const v = await startTestVault(await s.openAt(await s.freshLocation()));
    try {
      const reader = await setup(v, 'rate', { rateCap: { maxReadsPerMinute: 3 } });
      for (let i = 0; i < 3; i += 1) await ok(read(v, reader, 'rate'));
      const r = await assertRefused(v, read(v, reader, 'rate'), 429, 'SK_ERR_POLICY_RATE', 'rateCap');
      const retry = Number(r.headers['retry-after']);
      assert.ok(retry >= 1 && retry <= 60, `Retry-After ${String(r.headers['retry-after'])}`);
      const got = await ok(v.call(v.operator, 'GET', '/v1/projects/rate/policies/pol'));
      assert.deepEqual((got.body as { counters: Array<{ readsLastMinute: number }> }).counters.map((c) => c.readsLastMinute), [3], 'refused reads do not count');

      await ok(v.call(v.operator, 'PATCH', '/v1/projects/rate/policies/pol', { rateCap: { maxReadsPerDay: 4 } }));
      await ok(read(v, reader, 'rate'));
      const d = await assertRefused(v, read(v, reader, 'rate'), 429, 'SK_ERR_POLICY_RATE', 'rateCap');
      const dayRetry = Number(d.headers['retry-after']);
      assert.ok(dayRetry > 80_000 && dayRetry <= 86_400, `Retry-After ${String(d.headers['retry-after'])}`);
    } finally {
      await v.close();
    }
  });

  test('coSign: refused without, served once with a second machine\'s co-sign, refused on reuse and after the window', async () => {
    const v = await startTestVault(await s.openAt(await s.freshLocation()));
    try {
      const reader = await setup(v, 'cs', { coSign: { windowSeconds: 60 } });
      const second = await v.addMachine('cs-second');
      await assertRefused(v, read(v, reader, 'cs'), 403, 'SK_ERR_POLICY_COSIGN', 'coSign');
      const self = await v.call(reader, 'POST', '/v1/projects/cs/secrets/s/cosign', { machine: 'cs-reader' });
      assert.equal(codeOf(self), 'SK_ERR_FORBIDDEN', 'a machine cannot co-sign its own read');
      await ok(v.call(second, 'POST', '/v1/projects/cs/secrets/s/cosign', { machine: 'cs-reader' }), 201);
      assert.equal(((await ok(read(v, reader, 'cs'))).body as { value: string }).value, VALUE);
      await assertRefused(v, read(v, reader, 'cs'), 403, 'SK_ERR_POLICY_COSIGN', 'coSign');

      // A one-second window: a co-sign older than that is no use (waiting longer only makes it older).
      await ok(v.call(v.operator, 'PATCH', '/v1/projects/cs/policies/pol', { coSign: { windowSeconds: 1 } }));
      await ok(v.call(second, 'POST', '/v1/projects/cs/secrets/s/cosign', { machine: 'cs-reader' }), 201);
      await new Promise((r) => setTimeout(r, 1200));
      await assertRefused(v, read(v, reader, 'cs'), 403, 'SK_ERR_POLICY_COSIGN', 'coSign');
      const cosigns = await auditEvents(v, 'secret.cosign');
      assert.equal(cosigns.length, 2);
    } finally {
      await v.close();
    }
  });

  test('coSign naming a machine: only that machine\'s co-sign counts', async () => {
    const v = await startTestVault(await s.openAt(await s.freshLocation()));
    try {
      await v.addMachine('named-approver');
      const reader = await setup(v, 'csn', { coSign: { windowSeconds: 60, machine: 'named-approver' } });
      const other = await v.addMachine('csn-other');
      assert.equal(codeOf(await v.call(other, 'POST', '/v1/projects/csn/secrets/s/cosign', { machine: 'csn-reader' })), 'SK_ERR_FORBIDDEN');
      await assertRefused(v, read(v, reader, 'csn'), 403, 'SK_ERR_POLICY_COSIGN', 'coSign');
    } finally {
      await v.close();
    }
  });

  test('a canary with a policy that refuses the read still trips: the attempt is the signal', async () => {
    const v = await startTestVault(await s.openAt(await s.freshLocation()));
    try {
      await ok(v.call(v.operator, 'POST', '/v1/projects', { name: 'trap' }), 201);
      await ok(v.call(v.operator, 'POST', '/v1/projects/trap/canaries', { name: 'decoy', value: 'decoy-value-x' }), 201);
      await ok(v.call(v.operator, 'POST', '/v1/projects/trap/policies', { name: 'nets', ipAllowlist: ['10.0.0.0/8'] }), 201);
      await ok(v.call(v.operator, 'PUT', '/v1/projects/trap/policies/bindings/decoy', { policy: 'nets' }));
      const intruder = await v.addMachine('trap-intruder');
      await ok(v.call(v.operator, 'POST', '/v1/grants', { machine: 'trap-intruder', project: 'trap' }), 201);
      const r = await v.call(intruder, 'GET', '/v1/projects/trap/secrets/decoy', undefined, { remoteAddress: '192.168.9.9' });
      assert.equal(codeOf(r), 'SK_ERR_POLICY_IP');
      assert.equal(r.raw.includes('decoy-value-x'), false);
      assert.equal((await projectLock(v, 'trap')).locked, true);
      assert.equal((await auditEvents(v, 'canary.tripped')).length, 1);
    } finally {
      await v.close();
    }
  });

  test('rotateAfterReads: every N served reads queues exactly one rotation; without a rotation policy an audit note says so', async () => {
    const v = await startTestVault(await s.openAt(await s.freshLocation()));
    try {
      const reader = await setup(v, 'rar', { rotateAfterReads: 2 });
      await ok(read(v, reader, 'rar'));
      await ok(read(v, reader, 'rar'));
      const notes = await auditEvents(v, 'policy.rotate_after_reads');
      assert.equal(notes.length, 1);
      assert.equal(notes[0]?.details['reason'], 'no enabled rotation policy on this secret');

      await ok(v.call(v.operator, 'PUT', '/v1/projects/rar/secrets/db', { fields: { host: '127.0.0.1', port: '5432', username: 'app', password: 'rar-live-password' } }));
      await ok(v.call(v.operator, 'PUT', '/v1/projects/rar/secrets/admin', { fields: { host: '127.0.0.1', port: '5432', username: 'postgres', password: 'rar-admin-password' } }));
      await v.addMachine('rar-agent');
      await ok(v.call(v.operator, 'PUT', '/v1/projects/rar/secrets/db/rotation', { provider: 'postgres', agent: 'rar-agent', adminSecret: 'admin' }));
      await ok(v.call(v.operator, 'PUT', '/v1/projects/rar/policies/bindings/db', { policy: 'pol' }));
      const before = (await auditEvents(v, 'rotation.created')).length;
      for (let i = 0; i < 3; i += 1) await ok(v.call(reader, 'GET', '/v1/projects/rar/secrets/db'));
      const created = (await auditEvents(v, 'rotation.created')).slice(before);
      assert.equal(created.length, 1, 'three reads with N = 2: one rotation');
      assert.equal(created[0]?.details['trigger'], 'reads');
      // The fourth read reaches N again while that rotation is unfinished: no second one.
      await ok(v.call(reader, 'GET', '/v1/projects/rar/secrets/db'));
      assert.equal((await auditEvents(v, 'rotation.created')).length - before, 1);
      assert.equal((await auditEvents(v, 'policy.rotate_after_reads')).at(-1)?.details['reason'], 'a rotation is already unfinished');
    } finally {
      await v.close();
    }
  });

  test('a rotation claim is not a read: it counts nothing, and is refused 410 while the secret is expired', async () => {
    const v = await startTestVault(await s.openAt(await s.freshLocation()));
    try {
      await ok(v.call(v.operator, 'POST', '/v1/projects', { name: 'claim' }), 201);
      await ok(v.call(v.operator, 'PUT', '/v1/projects/claim/secrets/db', { fields: { host: '127.0.0.1', port: '5432', username: 'app', password: 'claim-live-password' } }));
      await ok(v.call(v.operator, 'PUT', '/v1/projects/claim/secrets/admin', { fields: { host: '127.0.0.1', port: '5432', username: 'postgres', password: 'claim-admin-password' } }));
      const agent = await v.addMachine('claim-agent');
      await ok(v.call(v.operator, 'PUT', '/v1/projects/claim/secrets/db/rotation', { provider: 'postgres', agent: 'claim-agent', adminSecret: 'admin' }));
      await ok(v.call(v.operator, 'POST', '/v1/projects/claim/policies', { name: 'pol', ttl: { expiresAt: new Date(Date.now() - 1000).toISOString() } }), 201);
      await ok(v.call(v.operator, 'PUT', '/v1/projects/claim/policies/bindings/db', { policy: 'pol' }));
      const run = await ok(v.call(v.operator, 'POST', '/v1/projects/claim/secrets/db/rotation/run'), 202);
      const claim = await v.call(agent, 'POST', `/v1/agent/rotations/${(run.body as { id: string }).id}/claim`);
      assert.equal(claim.status, 410, claim.raw);
      assert.equal(codeOf(claim), 'SK_ERR_SECRET_EXPIRED');
      assert.equal(claim.raw.includes('claim-live-password'), false);
    } finally {
      await v.close();
    }
  });

  test('a policy bound to a secret in the trash can be unbound (dropping its counters) and then deleted', async () => {
    const v = await startTestVault(await s.openAt(await s.freshLocation()));
    try {
      const reader = await setup(v, 'trashy', { ttl: { maxReads: 5 } });
      await ok(read(v, reader, 'trashy'));
      await ok(v.call(v.operator, 'DELETE', '/v1/projects/trashy/secrets/s'));
      assert.equal(codeOf(await v.call(v.operator, 'DELETE', '/v1/projects/trashy/policies/pol')), 'SK_ERR_IN_USE');
      await ok(v.call(v.operator, 'DELETE', '/v1/projects/trashy/policies/bindings/s'));
      await ok(v.call(v.operator, 'DELETE', '/v1/projects/trashy/policies/pol'));
      const left = await v.ctx.store.db.selectFrom('access_policy_state').selectAll().execute();
      assert.deepEqual(left, [], 'unbinding dropped the counters');
    } finally {
      await v.close();
    }
  });

  test('a secret without a policy reads as before, and a policy of another project cannot be bound', async () => {
    const v = await startTestVault(await s.openAt(await s.freshLocation()));
    try {
      const reader = await setup(v, 'own', { ttl: { maxReads: 1 } });
      await ok(v.call(v.operator, 'PUT', '/v1/projects/own/secrets/free', { value: 'free-value' }));
      for (let i = 0; i < 3; i += 1) await ok(v.call(reader, 'GET', '/v1/projects/own/secrets/free'));
      await ok(v.call(v.operator, 'POST', '/v1/projects', { name: 'elsewhere' }), 201);
      await ok(v.call(v.operator, 'PUT', '/v1/projects/elsewhere/secrets/x', { value: 'x' }));
      assert.equal(codeOf(await v.call(v.operator, 'PUT', '/v1/projects/elsewhere/policies/bindings/x', { policy: 'pol' })), 'SK_ERR_NOT_FOUND');
    } finally {
      await v.close();
    }
  });
});
