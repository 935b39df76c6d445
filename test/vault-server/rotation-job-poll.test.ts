// The operators' job long-poll (issue 29): `GET /v1/rotations/{id}?wait=N&afterState=S` answers
// at once when the job's state is not S, is held while it is, and answers the new status when a
// change is made while it waits — through every step of a run (claimed → applied → promoted).
// In-process on both stores; then real `serve --workers 2` processes on SQLite (IPC relay) and
// PostgreSQL (LISTEN/NOTIFY), where polls held in both workers end on a claim made through
// whichever worker the agent's connection reached. A held poll ends on shutdown (503).
// "Answered before its deadline" checks are coarse (a 30 s wait, answered within 20 s of the
// change): they tell a woken poll from one that ran out, and measure nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { join } from 'node:path';
import { forEachStore, tempPgDatabase } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import type { InjectedResponse, TestVault } from '../support/vault-app.js';
import { codeOf } from '../support/enrollment.js';
import type { IdentityKey } from '../../protocol/keys.js';
import { readPrivateKeyFile } from '../../protocol/keys.js';
import { signRequest } from '../../protocol/signing.js';
import { VaultClient } from '../../protocol/client.js';
import { jsonOf, runBin } from '../support/processes.js';
import { startVaultProcess } from '../support/vault-process.js';
import { sleep, waitFor } from '../support/wait.js';

interface JobView { id: string; state: string; timeline: Array<{ source: string; step: string }> }

/** Resolves 'deadline' if `p` has not settled within `ms` (a held poll's answer was not a wake-up). */
async function within<T>(p: Promise<T>, ms: number): Promise<T | 'deadline'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'deadline'>((r) => { timer = setTimeout(() => r('deadline'), ms); });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

forEachStore('operator job long-poll', (s) => {
  let v: TestVault;
  let agent: IdentityKey;
  let closed = false;
  const fields = { host: 'db.internal', port: '5432', username: 'app', password: 'poll-live-password-0' };

  const ok = async (res: Promise<InjectedResponse>, status = 200): Promise<InjectedResponse> => {
    const r = await res;
    assert.equal(r.status, status, r.raw);
    return r;
  };
  const poll = (id: string, query: string): Promise<InjectedResponse> => v.call(v.operator, 'GET', `/v1/rotations/${id}?${query}`);
  let n = 0;
  const run = async (): Promise<string> => {
    const name = `db${n++}`;
    await ok(v.call(v.operator, 'PUT', `/v1/projects/p/secrets/${name}`, { fields }));
    await ok(v.call(v.operator, 'PUT', `/v1/projects/p/secrets/${name}/rotation`, { provider: 'postgres', agent: 'agent', adminSecret: 'admin' }));
    return ((await ok(v.call(v.operator, 'POST', `/v1/projects/p/secrets/${name}/rotation/run`), 202)).body as { id: string }).id;
  };

  before(async () => {
    v = await startTestVault(await s.open());
    await ok(v.call(v.operator, 'POST', '/v1/projects', { name: 'p' }), 201);
    await ok(v.call(v.operator, 'PUT', '/v1/projects/p/secrets/admin', { fields: { ...fields, username: 'admin', password: 'poll-admin-password' } }));
    agent = await v.addMachine('agent');
    await ok(v.call(v.operator, 'POST', '/v1/grants', { machine: 'agent', project: 'p', secret: 'admin' }), 201);
  });
  after(async () => {
    if (!closed) await v.close();
  });

  test('a state other than afterState answers at once; the same state is held and answered when the change is made while it waits, at every step of a run', async () => {
    const id = await run();
    const atOnce = await ok(poll(id, 'wait=30&afterState=claimed'));
    assert.equal((atOnce.body as JobView).state, 'pending');

    let settled = false;
    const held = poll(id, 'wait=30&afterState=pending').finally(() => { settled = true; });
    await sleep(300);
    assert.equal(settled, false, 'the poll is held while the job stays pending');
    const claim = (await ok(v.call(agent, 'POST', `/v1/agent/rotations/${id}/claim`))).body as { fence: number };
    const woke = await within(held, 20_000);
    assert.notEqual(woke, 'deadline', 'the claim ended the wait');
    assert.equal((woke as InjectedResponse).status, 200);
    assert.equal(((woke as InjectedResponse).body as JobView).state, 'claimed');

    const heldClaimed = poll(id, 'wait=30&afterState=claimed');
    await sleep(100);
    await ok(v.call(agent, 'POST', `/v1/agent/rotations/${id}/applied`, { fence: claim.fence }));
    const applied = await within(heldClaimed, 20_000);
    assert.equal(applied !== 'deadline' && (applied.body as JobView).state, 'applied');

    const heldApplied = poll(id, 'wait=30&afterState=applied');
    await sleep(100);
    await ok(v.call(agent, 'POST', `/v1/agent/rotations/${id}/confirm`, { fence: claim.fence, steps: [{ step: 'verified', at: Date.now(), ms: 3 }] }));
    const promoted = await within(heldApplied, 20_000);
    assert.notEqual(promoted, 'deadline');
    const view = (promoted as InjectedResponse).body as JobView;
    assert.equal(view.state, 'promoted');
    assert.deepEqual(view.timeline.map((e) => `${e.source}:${e.step}`), ['vault:created', 'vault:claimed', 'vault:applied', 'agent:verified', 'vault:promoted']);
  });

  test('nothing changes: the poll answers the unchanged status when its wait ends; without afterState or with wait=0 it answers at once', async () => {
    const id = await run();
    const res = await ok(poll(id, 'wait=1&afterState=pending'));
    assert.equal((res.body as JobView).state, 'pending');
    assert.equal(((await ok(poll(id, 'wait=5'))).body as JobView).state, 'pending');
    assert.equal(((await ok(poll(id, 'wait=0&afterState=pending'))).body as JobView).state, 'pending');
    await ok(v.call(v.operator, 'DELETE', `/v1/projects/p/secrets/db${n - 1}/rotation?force=true`));
  });

  test('bad waits are refused (400 SK_ERR_VALIDATION); an unknown job is 404 at once', async () => {
    const id = await run();
    for (const q of ['wait=31&afterState=pending', 'wait=-1&afterState=pending', 'wait=x&afterState=pending', 'wait=5&afterState=bogus', 'wait=5&afterState=pending&extra=1']) {
      const res = await poll(id, q);
      assert.equal(res.status, 400, `${q}: ${res.raw}`);
      assert.equal(codeOf(res), 'SK_ERR_VALIDATION', q);
    }
    const missing = await poll('no-such-job', 'wait=30&afterState=pending');
    assert.equal(missing.status, 404);
    assert.equal(codeOf(missing), 'SK_ERR_NOT_FOUND');
    await ok(v.call(v.operator, 'DELETE', `/v1/projects/p/secrets/db${n - 1}/rotation?force=true`));
  });

  test('a held poll ends when the vault shuts down (503 SK_ERR_UNAVAILABLE), and the shutdown does not wait out its 30 s', async () => {
    const id = await run();
    const held = poll(id, 'wait=30&afterState=pending');
    await sleep(200);
    closed = true;
    const closing = v.app.close();
    const res = await within(held, 20_000);
    assert.notEqual(res, 'deadline', 'the shutdown ended the wait');
    assert.equal((res as InjectedResponse).status, 503);
    assert.equal(codeOf(res as InjectedResponse), 'SK_ERR_UNAVAILABLE');
    await closing;
  });
});

/** A GET on its own connection (cluster hands connections to the workers in turn). */
function send(port: number, target: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: target, method: 'GET', headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  test(`serve --workers 2 (${dialect}): job polls held in both workers end on a claim made through either`, async () => {
    const pg = dialect === 'postgres' ? await tempPgDatabase() : undefined;
    const v = await startVaultProcess({ args: ['--workers', '2', '--log-level', 'debug'], ...(pg ? { databaseUrl: pg.location.databaseUrl } : {}) });
    try {
      const conn = { host: 'db.internal', port: '5432', username: 'app', password: 'workers-poll-live', database: 'app' };
      const agentKey = join(v.dir, 'agent.key');
      const agentPub = jsonOf<{ publicKey: string }>(await runBin('sikkerkey-agent', ['init', '--key-file', agentKey, '--json'])).publicKey;
      jsonOf(await v.sk(['project', 'create', 'shop', '--json']));
      jsonOf(await v.sk(['secret', 'set', 'shop', 'admin', '--fields-json', JSON.stringify({ ...conn, username: 'admin', password: 'workers-poll-admin' }), '--json']));
      jsonOf(await v.sk(['secret', 'set', 'shop', 'db', '--fields-json', JSON.stringify(conn), '--json']));
      jsonOf(await v.sk(['machine', 'add', 'agent1', '--public-key', agentPub, '--json']));
      jsonOf(await v.sk(['grant', 'add', 'agent1', '--project', 'shop', '--secret', 'admin', '--json']));
      jsonOf(await v.sk(['rotation', 'set', 'shop', 'db', '--provider', 'postgres', '--agent', 'agent1', '--admin-secret', 'admin', '--json']));
      const agent = new VaultClient({ url: v.url, keyFile: agentKey });
      // The preflight `rotation set` created is superseded by the run (never claimed).
      const { id } = jsonOf<{ id: string }>(await v.sk(['rotation', 'run', 'shop', 'db', '--json']));

      const op = readPrivateKeyFile(v.opKey);
      const target = `/v1/rotations/${id}?wait=30&afterState=pending`;
      let settled = 0;
      const polls = Array.from({ length: 4 }, () => send(v.port, target, signRequest({ method: 'GET', authority: `127.0.0.1:${v.port}`, target }, { keyId: op.keyId, privateKey: op.privateKey }))
        .finally(() => { settled += 1; }));
      await sleep(1000);
      assert.equal(settled, 0, 'the polls are held');
      const claimed = await agent.request<{ fence: number }>('POST', `/v1/agent/rotations/${id}/claim`);
      assert.equal(claimed.status, 200);
      const answers = await within(Promise.all(polls), 20_000);
      assert.notEqual(answers, 'deadline', 'the claim ended every wait');
      for (const a of answers as Array<{ status: number; body: string }>) {
        assert.equal(a.status, 200, a.body);
        assert.equal((JSON.parse(a.body) as JobView).state, 'claimed');
      }
      // Both workers held some of them (their request log lines carry the pid; the log arrives
      // through a pipe, after the answers).
      const answeredBy = (): Set<number> => {
        const pids = new Set<number>();
        for (const line of v.proc.output().split('\n')) {
          if (!line.includes('"msg":"request completed"') || !line.includes('"route":"/v1/rotations/:id"')) continue;
          pids.add((JSON.parse(line) as { pid: number }).pid);
        }
        return pids;
      };
      await waitFor(answeredBy, { what: 'both workers to log a poll', timeoutMs: 5000, intervalMs: 50, until: (p) => p.size === 2, show: (p) => [...p].join(', ') });
    } finally {
      await v.close();
      await pg?.remove();
    }
  });
}
