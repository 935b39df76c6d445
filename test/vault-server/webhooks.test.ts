// Webhooks (issue 22, items 1-3): catalog events become signed deliveries in the transaction that
// audits them, the worker sends them outside it and retries, and receivers verify them with
// protocol/webhooks.ts. Receivers are real HTTP servers on 127.0.0.1 (allowlisted for the SSRF-safe transport); the worker's
// ticks are driven by hand with the vault's injected clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { Migrator } from 'kysely';
import { CodeMigrationProvider } from '../../vault-server/store/migrations/index.js';
import { forEachStore } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import type { InjectedResponse, TestVault } from '../support/vault-app.js';
import { verifyWebhook } from '../../protocol/webhooks.js';
import { generateIdentityKey } from '../../protocol/keys.js';
import { deliverDueWebhooks } from '../../vault-server/modules/webhooks/webhooks-worker.js';
import { sendWebhook } from '../../vault-server/modules/webhooks/webhook-transport.js';
import { writeTx } from '../../vault-server/context.js';
import { enqueueForAuditEvent } from '../../vault-server/modules/webhooks/webhooks-enqueue.js';
import { EVENT_CATALOG } from '../../vault-server/modules/webhooks/event-catalog.js';
import type { StoredAuditEvent } from '../../vault-server/modules/audit/audit-store.js';

interface Received { headers: Record<string, string | string[] | undefined>; body: string }

interface Receiver {
  url: string;
  got: Received[];
  status: number;
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** An HTTP receiver on 127.0.0.1 that records every request; stop() makes it refuse connections, start() brings it back on the same port. */
async function receiver(): Promise<Receiver> {
  let server: Server | undefined;
  let port = 0;
  const r: Receiver = {
    url: '', got: [], status: 204,
    async start() {
      server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          r.got.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
          res.writeHead(r.status).end();
        });
      });
      await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
      r.url = `http://127.0.0.1:${port}/hook`;
    },
    async stop() {
      const s = server;
      server = undefined;
      if (s) await new Promise<void>((resolve) => { s.closeAllConnections(); s.close(() => resolve()); });
    },
  };
  await r.start();
  return r;
}

const codeOf = (r: InjectedResponse): string | undefined => (r.body as { error?: { code?: string } } | undefined)?.error?.code;

async function ok(res: Promise<InjectedResponse>, status = 200): Promise<InjectedResponse> {
  const r = await res;
  assert.equal(r.status, status, r.raw);
  return r;
}

async function addHook(v: TestVault, url: string, events: string[]): Promise<{ id: string; secret: string }> {
  return (await ok(v.call(v.operator, 'POST', '/v1/webhooks', { url, events }), 201)).body as { id: string; secret: string };
}

/** The vault's SSRF-safe transport, with the test receivers' loopback range allowed. */
const loopbackSender = (url: string, req: { headers: Record<string, string>; body: string; timeoutMs?: number }): ReturnType<typeof sendWebhook> =>
  sendWebhook(url, req, { allowCidrs: ['127.0.0.0/8'] });

const payload = (r: Received): { type: string; timestamp: string; data: Record<string, unknown> } => JSON.parse(r.body) as never;

forEachStore('webhooks', (s) => {
  let clock = Date.now();
  const now = (): number => clock;
  const tick = (v: TestVault): ReturnType<typeof deliverDueWebhooks> => deliverDueWebhooks(v.ctx, { sender: loopbackSender, random: () => 0.5 });
  const open = async (): Promise<TestVault> => startTestVault(await s.openAt(await s.freshLocation()), { now, webhookAllowCidrs: ['127.0.0.0/8'] });

  test('a canary trip arrives signed and verifies; a tampered body or an old timestamp does not; the secret is sealed at rest', async () => {
    clock = Date.now();
    const v = await open();
    const rx = await receiver();
    try {
      const hook = await addHook(v, rx.url, ['canary.tripped']);
      assert.match(hook.secret, /^whsec_/);
      const row = await v.ctx.store.db.selectFrom('webhooks').selectAll().where('id', '=', hook.id).executeTakeFirstOrThrow();
      assert.equal(Buffer.from(row.secret_sealed).includes(Buffer.from(hook.secret.slice(6))), false, 'never the secret in clear');
      assert.equal(JSON.stringify(row).includes(hook.secret.slice(6)), false);

      await ok(v.call(v.operator, 'POST', '/v1/projects', { name: 'shop' }), 201);
      await ok(v.call(v.operator, 'POST', '/v1/projects/shop/canaries', { name: 'db-backup', value: 'decoy-value-123' }), 201);
      const m = await v.addMachine('reader');
      await ok(v.call(v.operator, 'POST', '/v1/grants', { machine: 'reader', project: 'shop' }), 201);
      await v.call(m, 'GET', '/v1/projects/shop/secrets/db-backup');

      const r = await tick(v);
      assert.deepEqual(r, { attempted: 1, delivered: 1, failed: 0 });
      assert.equal(rx.got.length, 1);
      const got = rx.got[0]!;
      const t = Math.floor(clock / 1000);
      const verified = verifyWebhook({ secrets: [hook.secret], headers: got.headers, body: got.body, now: t });
      assert.equal(verified.ok, true);
      const body = payload(got);
      assert.equal(body.type, 'canary.tripped');
      assert.equal((body.data.project as { name: string }).name, 'shop');
      assert.equal(body.data.severity, 'critical');
      assert.equal(got.body.includes('decoy-value-123'), false, 'never a value');

      assert.equal(verifyWebhook({ secrets: [hook.secret], headers: got.headers, body: got.body.replace('shop', 'shoq'), now: t }).ok, false, 'a tampered body');
      assert.equal(verifyWebhook({ secrets: [hook.secret], headers: got.headers, body: got.body, now: t + 600 }).ok, false, 'an old timestamp');
      assert.equal(verifyWebhook({ secrets: ['whsec_' + Buffer.alloc(32, 1).toString('base64')], headers: got.headers, body: got.body, now: t }).ok, false, 'another secret');

      const list = (await ok(v.call(v.operator, 'GET', `/v1/webhooks/${hook.id}/deliveries`))).body as { deliveries: Array<{ status: string; attempts: number; lastStatus: number; latencyMs: number }> };
      assert.deepEqual(list.deliveries.map((d) => [d.status, d.attempts, d.lastStatus]), [['delivered', 1, 204]]);
      assert.equal(typeof list.deliveries[0]!.latencyMs, 'number');
      assert.equal(((await v.call(v.operator, 'GET', '/v1/audit/verify')).body as { ok: boolean }).ok, true);
    } finally {
      await rx.stop();
      await v.close();
    }
  });

  test('a receiver that is down gets the delivery once it is back (retries with backoff); redeliver sends it again with the same id', async () => {
    clock = Date.now();
    const v = await open();
    const rx = await receiver();
    try {
      const hook = await addHook(v, rx.url, ['all']);
      await rx.stop();
      await ok(v.call(v.operator, 'POST', '/v1/projects', { name: 'p' }), 201);
      await ok(v.call(v.operator, 'POST', '/v1/projects/p/unlock', { reason: 'test' }));
      assert.deepEqual(await tick(v), { attempted: 1, delivered: 0, failed: 1 });
      const [first] = ((await ok(v.call(v.operator, 'GET', `/v1/webhooks/${hook.id}/deliveries`))).body as { deliveries: Array<{ id: string; status: string; attempts: number; nextAttemptAt: number; lastError: string }> }).deliveries;
      assert.equal(first!.status, 'pending');
      assert.equal(first!.nextAttemptAt, clock + 5000, 'the first retry after 5 s (jitter fixed at its middle)');
      assert.ok(first!.lastError);
      assert.deepEqual(await tick(v), { attempted: 0, delivered: 0, failed: 0 }, 'not before it is due');
      clock += 5000;
      assert.deepEqual(await tick(v), { attempted: 1, delivered: 0, failed: 1 });
      await rx.start();
      clock += 30_000;
      assert.deepEqual(await tick(v), { attempted: 1, delivered: 1, failed: 0 });
      assert.equal(rx.got.length, 1);
      assert.equal(payload(rx.got[0]!).type, 'project.unlocked');
      assert.equal(rx.got[0]!.headers['webhook-id'], first!.id);

      const again = await ok(v.call(v.operator, 'POST', `/v1/webhook-deliveries/${first!.id}/redeliver`));
      assert.equal((again.body as { delivery: { status: string } }).delivery.status, 'pending');
      assert.equal((again.body as { delivery: { attempts: number } }).delivery.attempts, 0, 'retries start again at the first step');
      assert.deepEqual(await tick(v), { attempted: 1, delivered: 1, failed: 0 });
      assert.equal(rx.got.length, 2);
      assert.equal(rx.got[1]!.headers['webhook-id'], first!.id, 'the same webhook-id: receivers deduplicate on it');
      assert.equal(rx.got[1]!.body, rx.got[0]!.body);
      assert.equal(verifyWebhook({ secrets: [hook.secret], headers: rx.got[1]!.headers, body: rx.got[1]!.body, now: Math.floor(clock / 1000) }).ok, true);
    } finally {
      await rx.stop();
      await v.close();
    }
  });

  test('rotate-secret: both signatures during the overlap, only the new one after it', async () => {
    clock = Date.now();
    const v = await open();
    const rx = await receiver();
    try {
      const hook = await addHook(v, rx.url, ['project.unlocked']);
      const rotated = (await ok(v.call(v.operator, 'POST', `/v1/webhooks/${hook.id}/rotate-secret`, { overlap: '1h' }))).body as { secret: string; previousSecretExpiresAt: number };
      assert.notEqual(rotated.secret, hook.secret);
      assert.equal(rotated.previousSecretExpiresAt, clock + 3_600_000);
      await ok(v.call(v.operator, 'POST', '/v1/projects', { name: 'p' }), 201);
      await ok(v.call(v.operator, 'POST', '/v1/projects/p/unlock', { reason: 'one' }));
      await tick(v);
      const t = (): number => Math.floor(clock / 1000);
      const first = rx.got[0]!;
      assert.equal(String(first.headers['webhook-signature']).split(' ').length, 2);
      assert.equal(verifyWebhook({ secrets: [hook.secret], headers: first.headers, body: first.body, now: t() }).ok, true, 'the old secret still verifies');
      assert.equal(verifyWebhook({ secrets: [rotated.secret], headers: first.headers, body: first.body, now: t() }).ok, true, 'the new one too');

      clock += 3_600_001;
      await ok(v.call(v.operator, 'POST', '/v1/projects/p/unlock', { reason: 'two' }));
      await tick(v);
      const second = rx.got[1]!;
      assert.equal(String(second.headers['webhook-signature']).split(' ').length, 1);
      assert.equal(verifyWebhook({ secrets: [hook.secret], headers: second.headers, body: second.body, now: t() }).ok, false);
      assert.equal(verifyWebhook({ secrets: [rotated.secret], headers: second.headers, body: second.body, now: t() }).ok, true);
    } finally {
      await rx.stop();
      await v.close();
    }
  });

  test('overlapping rules and the webhook\'s own list deliver each event once; project and severity filters apply; alert test sends alert.test', async () => {
    clock = Date.now();
    const v = await open();
    const rx = await receiver();
    const other = await receiver();
    try {
      const hook = await addHook(v, rx.url, ['project.unlocked']);
      const quiet = await addHook(v, other.url, ['policy.failing']);
      await ok(v.call(v.operator, 'POST', '/v1/projects', { name: 'a' }), 201);
      await ok(v.call(v.operator, 'POST', '/v1/projects', { name: 'b' }), 201);
      for (const body of [
        { events: ['project.unlocked'], webhook: hook.id },
        { events: ['project.unlocked', 'canary.tripped'], webhook: hook.id, project: 'a' },
        { events: ['project.unlocked'], webhook: quiet.id, project: 'a' },
        { events: ['project.unlocked'], webhook: quiet.id, minSeverity: 'warning' },
      ]) await ok(v.call(v.operator, 'POST', '/v1/alert-rules', body), 201);
      await ok(v.call(v.operator, 'POST', '/v1/projects/a/unlock', { reason: 'x' }));
      await ok(v.call(v.operator, 'POST', '/v1/projects/b/unlock', { reason: 'y' }));
      await tick(v);
      assert.deepEqual(rx.got.map((g) => (payload(g).data.project as { name: string }).name).sort(), ['a', 'b'], 'once per event');
      assert.deepEqual(other.got.map((g) => (payload(g).data.project as { name: string }).name), ['a'], 'project filter; info is below warning');

      const unknown = await v.call(v.operator, 'POST', '/v1/alert-rules', { events: ['rotation.exploded'], webhook: hook.id });
      assert.equal(codeOf(unknown), 'SK_ERR_WEBHOOK_EVENT_UNKNOWN');
      assert.equal(codeOf(await v.call(v.operator, 'POST', '/v1/webhooks', { url: rx.url, events: ['secret.read'] })), 'SK_ERR_WEBHOOK_EVENT_UNKNOWN');
      assert.equal(codeOf(await v.call(v.operator, 'POST', '/v1/webhooks', { url: 'ftp://example.com/x', events: ['all'] })), 'SK_ERR_WEBHOOK_URL_INVALID');

      const rules = (await ok(v.call(v.operator, 'GET', '/v1/alert-rules'))).body as { rules: Array<{ id: string; webhookId: string }> };
      const rule = rules.rules.find((r) => r.webhookId === hook.id)!;
      const sent = (await ok(v.call(v.operator, 'POST', `/v1/alert-rules/${rule.id}/test`))).body as { delivery: { status: string; type: string } };
      assert.deepEqual([sent.delivery.status, sent.delivery.type], ['delivered', 'alert.test']);
      const test = rx.got.at(-1)!;
      assert.equal(payload(test).type, 'alert.test');
      assert.equal(verifyWebhook({ secrets: [hook.secret], headers: test.headers, body: test.body, now: Math.floor(clock / 1000) }).ok, true);

      const actions = (await v.ctx.store.db.selectFrom('audit_events').select('action').where('action', 'like', 'alert.%').execute()).map((e) => e.action);
      assert.deepEqual(actions, ['alert.add', 'alert.add', 'alert.add', 'alert.add', 'alert.test']);
    } finally {
      await rx.stop();
      await other.stop();
      await v.close();
    }
  });

  test('a webhook failing for an hour: exactly one webhook.failing, delivered to the other webhook, never to itself', async () => {
    clock = Date.now();
    const v = await open();
    const down = await receiver();
    const watcher = await receiver();
    try {
      const failing = await addHook(v, down.url, ['all']);
      await addHook(v, watcher.url, ['webhook.failing']);
      await down.stop();
      await ok(v.call(v.operator, 'POST', '/v1/projects', { name: 'p' }), 201);
      await ok(v.call(v.operator, 'POST', '/v1/projects/p/unlock', { reason: 'x' }));
      for (let i = 0; i < 12; i++) {
        await tick(v);
        clock += 15 * 60_000;
      }
      const events = await v.ctx.store.db.selectFrom('audit_events').select(['action', 'details']).where('action', '=', 'webhook.failing').execute();
      assert.equal(events.length, 1);
      assert.equal((JSON.parse(events[0]!.details) as { webhookId: string }).webhookId, failing.id);
      const hookUrl = new URL(down.url);
      assert.equal((JSON.parse(events[0]!.details) as { url: string }).url, `${hookUrl.protocol}//${hookUrl.host}/…`, 'no path: it may hold the hook\'s token');
      assert.equal(watcher.got.length, 1);
      assert.equal(payload(watcher.got[0]!).type, 'webhook.failing');
      const own = await v.ctx.store.db.selectFrom('webhook_deliveries').select('event_type').where('webhook_id', '=', failing.id).execute();
      assert.deepEqual(own.map((d) => d.event_type), ['project.unlocked'], 'not queued to the failing webhook');
      const listed = (await ok(v.call(v.operator, 'GET', '/v1/webhooks'))).body as { webhooks: Array<{ id: string; failingSince: number | null }> };
      assert.notEqual(listed.webhooks.find((w) => w.id === failing.id)!.failingSince, null);
    } finally {
      await watcher.stop();
      await v.close();
    }
  });

  test('a rotation that fails three times in a row produces exactly one policy.failing event and one delivery; a failed rotation arrives signed', async () => {
    clock = Date.now();
    const v = await open();
    const rx = await receiver();
    try {
      const hook = await addHook(v, rx.url, ['policy.failing', 'rotation.failed']);
      const op = v.operator;
      await ok(v.call(op, 'POST', '/v1/projects', { name: 'rot' }), 201);
      await ok(v.call(op, 'PUT', '/v1/projects/rot/secrets/db', { fields: { host: '127.0.0.1', port: '5432', username: 'app', password: 'rot-live-password-1' } }));
      await ok(v.call(op, 'PUT', '/v1/projects/rot/secrets/admin', { fields: { host: '127.0.0.1', port: '5432', username: 'postgres', password: 'rot-admin-password' } }));
      const agent = await v.addMachine('rot-agent');
      await ok(v.call(op, 'POST', '/v1/grants', { machine: 'rot-agent', project: 'rot', secret: 'admin' }), 201);
      await ok(v.call(op, 'PUT', '/v1/projects/rot/secrets/db/rotation', { provider: 'postgres', agent: 'rot-agent', adminSecret: 'admin' }));
      let id = ((await ok(v.call(op, 'POST', '/v1/projects/rot/secrets/db/rotation/run'), 202)).body as { id: string }).id;
      for (let i = 1; i <= 3; i++) {
        const claim = (await ok(v.call(agent, 'POST', `/v1/agent/rotations/${id}/claim`))).body as { fence: number };
        await ok(v.call(agent, 'POST', `/v1/agent/rotations/${id}/fail`, { fence: claim.fence, code: 'SK_ERR_PROVIDER_PRIVILEGE', message: 'admin lacks CREATEROLE', liveVerified: true }));
        if (i < 3) {
          clock += 10 * 60_000;
          const jobs = (await ok(v.call(agent, 'GET', '/v1/agent/rotations'))).body as { jobs: Array<{ id: string }> };
          assert.equal(jobs.jobs.length, 1, 'the retry');
          id = jobs.jobs[0]!.id;
        }
      }
      assert.equal((await v.ctx.store.db.selectFrom('audit_events').select('id').where('action', '=', 'policy.failing').execute()).length, 1);
      await tick(v);
      const types = rx.got.map((g) => payload(g).type);
      assert.deepEqual(types.filter((t) => t === 'policy.failing'), ['policy.failing'], 'one delivery');
      assert.equal(types.filter((t) => t === 'rotation.failed').length, 3);
      for (const g of rx.got) {
        assert.equal(verifyWebhook({ secrets: [hook.secret], headers: g.headers, body: g.body, now: Math.floor(clock / 1000) }).ok, true);
        assert.equal(g.body.includes('rot-live-password-1') || g.body.includes('rot-admin-password'), false);
      }
      const failed = payload(rx.got.find((g) => payload(g).type === 'rotation.failed')!);
      assert.equal((failed.data.details as { code: string }).code, 'SK_ERR_PROVIDER_PRIVILEGE');
    } finally {
      await rx.stop();
      await v.close();
    }
  });

  test('two workers ticking at once send each delivery once (leases; SKIP LOCKED on PostgreSQL)', async () => {
    clock = Date.now();
    const v = await open();
    const rx = await receiver();
    try {
      await addHook(v, rx.url, ['project.unlocked']);
      await ok(v.call(v.operator, 'POST', '/v1/projects', { name: 'p' }), 201);
      for (let i = 0; i < 10; i++) await ok(v.call(v.operator, 'POST', '/v1/projects/p/unlock', { reason: `r${i}` }));
      const results = await Promise.all(['a', 'b', 'c'].map((holder) => deliverDueWebhooks(v.ctx, { sender: loopbackSender, holder })));
      assert.equal(results.reduce((n, r) => n + r.delivered, 0), 10);
      const ids = rx.got.map((g) => String(g.headers['webhook-id']));
      assert.equal(ids.length, 10);
      assert.equal(new Set(ids).size, 10, 'no delivery sent twice');
    } finally {
      await rx.stop();
      await v.close();
    }
  });

  test('migration 0008 goes down and up again', async () => {
    const raw = await s.openAt(await s.freshLocation());
    const migrator = new Migrator({ db: raw.db, provider: new CodeMigrationProvider(raw.dialect) });
    assert.equal((await migrator.migrateTo('0007-lifecycle')).error, undefined);
    assert.equal((await raw.db.introspection.getTables()).some((t) => t.name === 'alert_rules'), false);
    assert.equal((await migrator.migrateToLatest()).error, undefined);
    const columns = (await raw.db.introspection.getTables()).find((t) => t.name === 'webhook_deliveries')?.columns.map((c) => c.name) ?? [];
    assert.ok(columns.includes('lease_until') && columns.includes('give_up_at'));
  });

  test('viewers list, admins change; the change is audited', async () => {
    clock = Date.now();
    const v = await open();
    try {
      const viewer = generateIdentityKey();
      await ok(v.call(v.operator, 'POST', '/v1/operators', { name: 'vera', role: 'viewer', publicKey: Buffer.from(viewer.publicKey).toString('base64') }), 201);
      const refused = await v.call(viewer, 'POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/sk', events: ['all'] });
      assert.equal(codeOf(refused), 'SK_ERR_FORBIDDEN');
      const hook = await addHook(v, 'http://127.0.0.1:9/sk', ['all']);
      const listed = (await ok(v.call(viewer, 'GET', '/v1/webhooks'))).body as { webhooks: Array<{ id: string }> };
      assert.deepEqual(listed.webhooks.map((w) => w.id), [hook.id]);
      assert.equal(JSON.stringify(listed).includes('whsec_'), false, 'the secret is never listed');
      assert.equal(codeOf(await v.call(viewer, 'DELETE', `/v1/webhooks/${hook.id}`)), 'SK_ERR_FORBIDDEN');
      await ok(v.call(viewer, 'GET', '/v1/alert-rules'));
      assert.equal(codeOf(await v.call(v.operator, 'DELETE', '/v1/webhooks/00000000-0000-0000-0000-000000000000')), 'SK_ERR_NOT_FOUND');
      await ok(v.call(v.operator, 'DELETE', `/v1/webhooks/${hook.id}`));
      const actions = (await v.ctx.store.db.selectFrom('audit_events').select(['action', 'details']).where('action', 'like', 'webhook.%').execute());
      assert.deepEqual(actions.map((a) => a.action), ['webhook.add', 'webhook.remove']);
      assert.equal(actions.some((a) => a.details.includes('whsec_')), false);
    } finally {
      await v.close();
    }
  });

  test('every event type of the catalog reaches a webhook of `all`, signed, through the SSRF-safe transport', async () => {
    clock = Date.now();
    const v = await open();
    const rx = await receiver();
    try {
      const hook = await addHook(v, rx.url, ['all']);
      for (const entry of EVENT_CATALOG) {
        await writeTx(v.ctx, (_trx, audit) => audit({
          action: entry.action, actorKind: 'system', actorId: null, target: `test:${entry.type}`, outcome: entry.outcome ?? 'failure', details: { synthetic: true },
        }));
      }
      const sender = (url: string, req: { headers: Record<string, string>; body: string; timeoutMs?: number }): ReturnType<typeof sendWebhook> =>
        sendWebhook(url, req, { allowCidrs: ['127.0.0.0/8'] });
      const r = await deliverDueWebhooks(v.ctx, { sender, random: () => 0.5 });
      assert.equal(r.delivered, EVENT_CATALOG.length);
      const types = rx.got.map((g) => payload(g).type).sort();
      assert.deepEqual(types, EVENT_CATALOG.map((e) => e.type).sort());
      for (const g of rx.got) {
        const verdict = verifyWebhook({ secrets: [hook.secret], headers: g.headers, body: g.body, now: Math.floor(Date.now() / 1000) });
        assert.equal(verdict.ok, true, `${payload(g).type}: ${JSON.stringify(verdict)}`);
      }
    } finally {
      await rx.stop();
      await v.close();
    }
  });
});

test('an audit action outside the catalog (secret.read) returns before any query', async () => {
  const noStore = new Proxy({}, { get: () => { throw new Error('queried the store'); } }) as never;
  const e: StoredAuditEvent = {
    seq: 1, id: 'x', at: 0, actorKind: 'machine', actorId: 'm', action: 'secret.read', projectId: 'p', target: 'secret:p/s',
    outcome: 'success', sourceIp: null, details: {}, prevHash: '', hash: '', mac: null, actorName: null,
  };
  assert.equal(await enqueueForAuditEvent(noStore, e), 0);
  assert.equal(await enqueueForAuditEvent(noStore, { ...e, action: 'machine.enroll', outcome: 'denied' }), 0, 'a refused enrollment is no event');
});

test('docs/webhooks.md lists exactly the event catalog', () => {
  const doc = readFileSync(new URL('../../../docs/webhooks.md', import.meta.url), 'utf8');
  const section = doc.slice(doc.indexOf('## Events'), doc.indexOf('\n## ', doc.indexOf('## Events') + 1));
  const rows = [...section.matchAll(/^\| `([a-z_.]+)` \| (info|warning|critical) \| `([a-z_.]+)` \|/gm)].map((m) => [m[1], m[2], m[3]]);
  assert.deepEqual(rows, EVENT_CATALOG.map((e) => [e.type, e.severity, e.action]));
});
