// The trash on both stores (issue "A lifecycle for everything"): delete → 404 → restore → the same
// value; purge → gone for good (on SQLite not even the bytes of the wrapped data keys remain in the
// database file or its WAL); a deleted secret's policy does not run and resumes on restore; a
// delete during an unfinished rotation is refused; a deleted canary cannot trip; a project with
// policies needs --force; the sweeper purges after --trash-days; rename and describe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { forEachStore } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import type { InjectedResponse, TestVault } from '../support/vault-app.js';
import { runSchedulerTick } from '../../vault-server/modules/rotations/rotation-scheduler.js';
import { sweepTrash } from '../../vault-server/modules/trash/trash-sweeper.js';
import { SQLITE_FILE_NAME } from '../../vault-server/store/open-store.js';

const codeOf = (r: InjectedResponse): string | undefined => (r.body as { error?: { code?: string } } | undefined)?.error?.code;

async function ok(res: Promise<InjectedResponse>, status = 200): Promise<InjectedResponse> {
  const r = await res;
  assert.equal(r.status, status, r.raw);
  return r;
}

/** A project `p` with a structured secret `db`, its admin secret, an agent and a reader granted the project, and a policy on `db`. */
async function withPolicy(v: TestVault): Promise<{ reader: Awaited<ReturnType<TestVault['addMachine']>>; agent: Awaited<ReturnType<TestVault['addMachine']>> }> {
  const op = v.operator;
  await ok(v.call(op, 'POST', '/v1/projects', { name: 'p' }), 201);
  await ok(v.call(op, 'PUT', '/v1/projects/p/secrets/db', { fields: { host: '127.0.0.1', port: '5432', username: 'app', password: 'trash-live-password' } }));
  await ok(v.call(op, 'PUT', '/v1/projects/p/secrets/admin', { fields: { host: '127.0.0.1', port: '5432', username: 'postgres', password: 'trash-admin-password' } }));
  const agent = await v.addMachine('agent');
  const reader = await v.addMachine('reader');
  await ok(v.call(op, 'POST', '/v1/grants', { machine: 'agent', project: 'p', secret: 'admin' }), 201);
  await ok(v.call(op, 'POST', '/v1/grants', { machine: 'reader', project: 'p' }), 201);
  await ok(v.call(op, 'PUT', '/v1/projects/p/secrets/db/rotation', { provider: 'postgres', agent: 'agent', adminSecret: 'admin' }));
  return { reader, agent };
}

forEachStore('trash', (s) => {
  test('delete → 404 at once → restore → the same value; the name is reserved while in the trash', async () => {
    const v = await startTestVault(await s.openAt(await s.freshLocation()));
    await ok(v.call(v.operator, 'POST', '/v1/projects', { name: 'shop' }), 201);
    await ok(v.call(v.operator, 'PUT', '/v1/projects/shop/secrets/api', { value: 'trash-value-1 = "#quoted"' }));
    const m = await v.addMachine('app');
    await ok(v.call(v.operator, 'POST', '/v1/grants', { machine: 'app', project: 'shop', secret: 'api' }), 201);
    assert.equal(((await ok(v.call(m, 'GET', '/v1/projects/shop/secrets/api'))).body as { value: string }).value, 'trash-value-1 = "#quoted"');

    await ok(v.call(v.operator, 'DELETE', '/v1/projects/shop/secrets/api'));
    const gone = await v.call(m, 'GET', '/v1/projects/shop/secrets/api');
    assert.deepEqual([gone.status, codeOf(gone)], [404, 'SK_ERR_NOT_FOUND']);
    const listed = (await ok(v.call(v.operator, 'GET', '/v1/projects/shop/secrets'))).body as { secrets: unknown[] };
    assert.equal(listed.secrets.length, 0);
    const reuse = await v.call(v.operator, 'PUT', '/v1/projects/shop/secrets/api', { value: 'other' });
    assert.deepEqual([reuse.status, codeOf(reuse)], [409, 'SK_ERR_CONFLICT']);
    assert.match(reuse.raw, /trash/);
    const trash = (await ok(v.call(v.operator, 'GET', '/v1/trash'))).body as { trashDays: number; items: Array<{ kind: string; project: string; name: string; purgeAt: number; deletedAt: number }> };
    assert.deepEqual(trash.items.map((i) => [i.kind, i.project, i.name]), [['secret', 'shop', 'api']]);
    assert.equal(trash.items[0]!.purgeAt - trash.items[0]!.deletedAt, 30 * 24 * 3600_000);

    await ok(v.call(v.operator, 'POST', '/v1/projects/shop/secrets/api/restore'));
    assert.equal(((await ok(v.call(m, 'GET', '/v1/projects/shop/secrets/api'))).body as { value: string }).value, 'trash-value-1 = "#quoted"');

    // A whole project: everything in it 404s, and comes back with it.
    await ok(v.call(v.operator, 'DELETE', '/v1/projects/shop'));
    assert.equal((await v.call(m, 'GET', '/v1/projects/shop/secrets/api')).status, 404);
    assert.equal(((await ok(v.call(v.operator, 'GET', '/v1/projects'))).body as { projects: unknown[] }).projects.length, 0);
    const again = await v.call(v.operator, 'POST', '/v1/projects', { name: 'shop' });
    assert.deepEqual([again.status, codeOf(again)], [409, 'SK_ERR_CONFLICT']);
    await ok(v.call(v.operator, 'POST', '/v1/projects/shop/restore'));
    assert.equal(((await ok(v.call(m, 'GET', '/v1/projects/shop/secrets/api'))).body as { value: string }).value, 'trash-value-1 = "#quoted"');
    const events = ((await ok(v.call(v.operator, 'GET', '/v1/audit'))).body as { events: Array<{ action: string }> }).events.map((e) => e.action);
    for (const a of ['secret.delete', 'secret.restore', 'project.delete', 'project.restore']) assert.ok(events.includes(a), `audit lacks ${a}`);
    await v.close();
  });

  test('purge: restore is refused and the versions and their wrapped data keys are gone from the store', async () => {
    const loc = await s.freshLocation();
    const v = await startTestVault(await s.openAt(loc));
    await ok(v.call(v.operator, 'POST', '/v1/projects', { name: 'shop' }), 201);
    for (let i = 0; i < 3; i++) await ok(v.call(v.operator, 'PUT', '/v1/projects/shop/secrets/old', { value: `purge-me-${i}` }));
    const secretId = (await v.ctx.store.db.selectFrom('secrets').select('id').where('name', '=', 'old').executeTakeFirstOrThrow()).id;
    const wrapped = (await v.ctx.store.db.selectFrom('secret_versions').select('wrapped_data_key').where('secret_id', '=', secretId).execute()).map((r) => Buffer.from(r.wrapped_data_key));
    assert.equal(wrapped.length, 3);

    await ok(v.call(v.operator, 'DELETE', '/v1/projects/shop/secrets/old'));
    const admin = await (async () => {
      const inv = (await ok(v.call(v.operator, 'POST', '/v1/operator-invitations', { name: 'ada', role: 'admin' }), 201)).body as { token: string };
      const { generateIdentityKey } = await import('../../protocol/keys.js');
      const key = generateIdentityKey();
      await ok(v.call(key, 'POST', '/v1/operator-invitations/accept', { token: inv.token, publicKey: Buffer.from(key.publicKey).toString('base64') }), 201);
      return key;
    })();
    const notOwner = await v.call(admin, 'POST', '/v1/trash/purge', { project: 'shop', name: 'old' });
    assert.deepEqual([notOwner.status, codeOf(notOwner)], [403, 'SK_ERR_FORBIDDEN']);
    const purged = (await ok(v.call(v.operator, 'POST', '/v1/trash/purge', { project: 'shop', name: 'old' }))).body as { secrets: string[]; versions: number; checkpointed: boolean | null };
    assert.deepEqual([purged.secrets, purged.versions], [['shop/old'], 3]);
    const restore = await v.call(v.operator, 'POST', '/v1/projects/shop/secrets/old/restore');
    assert.deepEqual([restore.status, codeOf(restore)], [404, 'SK_ERR_NOT_FOUND']);
    assert.equal((await v.ctx.store.db.selectFrom('secret_versions').select('id').where('secret_id', '=', secretId).execute()).length, 0);
    assert.equal((await v.ctx.store.db.selectFrom('secrets').select('id').where('id', '=', secretId).execute()).length, 0);
    if (s.dialect === 'sqlite') {
      assert.equal(purged.checkpointed, true);
      const dir = (loc as { dataDir: string }).dataDir;
      for (const file of [SQLITE_FILE_NAME, `${SQLITE_FILE_NAME}-wal`]) {
        const path = join(dir, file);
        if (!existsSync(path)) continue;
        const bytes = readFileSync(path);
        for (const w of wrapped) assert.equal(bytes.includes(w), false, `${file} still holds a purged wrapped data key`);
      }
    }
    const events = ((await ok(v.call(v.operator, 'GET', '/v1/audit'))).body as { events: Array<{ action: string }> }).events.map((e) => e.action);
    assert.ok(events.includes('secret.purge'));
    await v.close();
  });

  test('a deleted secret\'s rotation policy does not run; a delete during an unfinished rotation is refused unless --force', async () => {
    const v = await startTestVault(await s.openAt(await s.freshLocation()));
    const { agent, reader } = await withPolicy(v);
    const db = v.ctx.store.db;
    const run = (await ok(v.call(v.operator, 'POST', '/v1/projects/p/secrets/db/rotation/run'), 202)).body as { id: string };
    const refused = await v.call(v.operator, 'DELETE', '/v1/projects/p/secrets/db');
    assert.deepEqual([refused.status, codeOf(refused)], [409, 'SK_ERR_ROTATION_IN_PROGRESS']);
    const adminInUse = await v.call(v.operator, 'DELETE', '/v1/projects/p/secrets/admin');
    assert.deepEqual([adminInUse.status, codeOf(adminInUse)], [409, 'SK_ERR_IN_USE']);
    const projectInUse = await v.call(v.operator, 'DELETE', '/v1/projects/p');
    assert.deepEqual([projectInUse.status, codeOf(projectInUse)], [409, 'SK_ERR_IN_USE']);
    // The unfinished rotation ends; now the delete goes through and pauses the policy.
    await db.updateTable('rotations').set({ state: 'cancelled', finished_at: Date.now() }).where('id', '=', run.id).execute();
    const deleted = (await ok(v.call(v.operator, 'DELETE', '/v1/projects/p/secrets/db'))).body as { pausedPolicies: number };
    assert.equal(deleted.pausedPolicies, 1);
    await db.updateTable('rotation_policies').set({ next_run_at: Date.now() - 1000 }).execute();
    const countRotations = async (): Promise<number> => (await db.selectFrom('rotations').select('id').where('state', '=', 'pending').execute()).length;
    await runSchedulerTick(v.ctx);
    assert.equal(await countRotations(), 0, 'the paused policy of a deleted secret started a rotation');
    const runDeleted = await v.call(v.operator, 'POST', '/v1/projects/p/secrets/db/rotation/run');
    assert.equal(runDeleted.status, 404);
    // Restore resumes exactly that policy, which then runs when due.
    const restored = (await ok(v.call(v.operator, 'POST', '/v1/projects/p/secrets/db/restore'))).body as { resumedPolicies: number };
    assert.equal(restored.resumedPolicies, 1);
    await runSchedulerTick(v.ctx);
    assert.equal(await countRotations(), 1);
    // --force while the agent holds the claim: the rotation completes (its confirm is recorded), and
    // the restored secret carries the credential the database now has.
    const pending = await db.selectFrom('rotations').select('id').where('state', '=', 'pending').executeTakeFirstOrThrow();
    const claim = (await ok(v.call(agent, 'POST', `/v1/agent/rotations/${pending.id}/claim`))).body as { fence: number; pendingPassword: string };
    await ok(v.call(v.operator, 'DELETE', '/v1/projects/p/secrets/db?force=true'));
    assert.equal((await v.call(reader, 'GET', '/v1/projects/p/secrets/db')).status, 404);
    await ok(v.call(agent, 'POST', `/v1/agent/rotations/${pending.id}/applied`, { fence: claim.fence }));
    const confirmed = (await ok(v.call(agent, 'POST', `/v1/agent/rotations/${pending.id}/confirm`, { fence: claim.fence }))).body as { state: string; version: number };
    assert.equal(confirmed.state, 'promoted');
    await ok(v.call(v.operator, 'POST', '/v1/projects/p/secrets/db/restore'));
    const after = (await ok(v.call(reader, 'GET', '/v1/projects/p/secrets/db'))).body as { version: number; fields: Record<string, string> };
    assert.deepEqual([after.version, after.fields.password], [confirmed.version, claim.pendingPassword]);
    await v.close();
  });

  test('a deleted canary cannot be tripped; only an owner deletes it', async () => {
    const v = await startTestVault(await s.openAt(await s.freshLocation()));
    await ok(v.call(v.operator, 'POST', '/v1/projects', { name: 'c' }), 201);
    await ok(v.call(v.operator, 'POST', '/v1/projects/c/canaries', { name: 'bait', value: 'canary-decoy' }), 201);
    const m = await v.addMachine('curious');
    await ok(v.call(v.operator, 'POST', '/v1/grants', { machine: 'curious', project: 'c' }), 201);
    const viaSecret = await v.call(v.operator, 'DELETE', '/v1/projects/c/secrets/bait');
    assert.deepEqual([viaSecret.status, codeOf(viaSecret)], [403, 'SK_ERR_FORBIDDEN']);
    await ok(v.call(v.operator, 'DELETE', '/v1/projects/c/canaries/bait'));
    const read = await v.call(m, 'GET', '/v1/projects/c/secrets/bait');
    assert.equal(read.status, 404);
    const projects = (await ok(v.call(v.operator, 'GET', '/v1/projects'))).body as { projects: Array<{ name: string; locked: boolean }> };
    assert.deepEqual(projects.projects.map((p) => [p.name, p.locked]), [['c', false]]);
    const machines = (await ok(v.call(v.operator, 'GET', '/v1/machines'))).body as { machines: Array<{ name: string; status: string }> };
    assert.deepEqual(machines.machines.map((x) => x.status), ['active']);
    const events = ((await ok(v.call(v.operator, 'GET', '/v1/audit'))).body as { events: Array<{ action: string }> }).events.map((e) => e.action);
    assert.ok(events.includes('canary.delete'));
    assert.equal(events.includes('canary.tripped'), false);
    await v.close();
  });

  test('the sweeper purges what has been in the trash longer than --trash-days, and nothing younger', async () => {
    let now = Date.now();
    const v = await startTestVault(await s.openAt(await s.freshLocation()), { now: () => now });
    await ok(v.call(v.operator, 'POST', '/v1/projects', { name: 'old' }), 201);
    await ok(v.call(v.operator, 'PUT', '/v1/projects/old/secrets/a', { value: 'sweep-a' }));
    await ok(v.call(v.operator, 'POST', '/v1/projects', { name: 'keep' }), 201);
    await ok(v.call(v.operator, 'PUT', '/v1/projects/keep/secrets/b', { value: 'sweep-b' }));
    await ok(v.call(v.operator, 'DELETE', '/v1/projects/old'));
    now += 20 * 24 * 3600_000;
    await ok(v.call(v.operator, 'DELETE', '/v1/projects/keep/secrets/b'));
    now += 11 * 24 * 3600_000;
    const swept = await sweepTrash(v.ctx, 30);
    assert.deepEqual([swept.ran, swept.purged, swept.skipped], [true, 1, 0]);
    const trash = (await ok(v.call(v.operator, 'GET', '/v1/trash'))).body as { items: Array<{ project: string; name: string | null }> };
    assert.deepEqual(trash.items.map((i) => [i.project, i.name]), [['keep', 'b']]);
    assert.equal((await v.ctx.store.db.selectFrom('projects').select('id').where('name', '=', 'old').execute()).length, 0);
    await v.close();
  });

  test('rename and describe: metadata without values; a renamed secret decrypts as before', async () => {
    const v = await startTestVault(await s.openAt(await s.freshLocation()));
    await ok(v.call(v.operator, 'POST', '/v1/projects', { name: 'shop' }), 201);
    await ok(v.call(v.operator, 'PUT', '/v1/projects/shop/secrets/api', { value: 'rename-me-value' }));
    await ok(v.call(v.operator, 'PUT', '/v1/projects/shop/secrets/other', { value: 'x' }));
    const m = await v.addMachine('app');
    await ok(v.call(v.operator, 'POST', '/v1/grants', { machine: 'app', project: 'shop' }), 201);
    const d = (await ok(v.call(v.operator, 'POST', '/v1/projects/shop/secrets/api/metadata', { description: 'payments API key', tags: { team: 'payments', env: 'prod' } }))).body as { secret: { description: string; tags: Record<string, string> } };
    assert.deepEqual([d.secret.description, d.secret.tags], ['payments API key', { team: 'payments', env: 'prod' }]);
    const d2 = (await ok(v.call(v.operator, 'POST', '/v1/projects/shop/secrets/api/metadata', { removeTags: ['env'] }))).body as { secret: { tags: Record<string, string> } };
    assert.deepEqual(d2.secret.tags, { team: 'payments' });
    assert.equal(JSON.stringify(d2).includes('rename-me-value'), false);
    const taken = await v.call(v.operator, 'POST', '/v1/projects/shop/secrets/api/rename', { name: 'other' });
    assert.deepEqual([taken.status, codeOf(taken)], [409, 'SK_ERR_CONFLICT']);
    await ok(v.call(v.operator, 'POST', '/v1/projects/shop/secrets/api/rename', { name: 'payments-api' }));
    await ok(v.call(v.operator, 'POST', '/v1/projects/shop/rename', { name: 'store' }));
    assert.equal(((await ok(v.call(m, 'GET', '/v1/projects/store/secrets/payments-api'))).body as { value: string }).value, 'rename-me-value');
    // The old names are gone: no project "shop" any more (refused like any project without a grant).
    assert.equal((await v.call(m, 'GET', '/v1/projects/shop/secrets/api')).status, 403);
    assert.equal((await v.call(m, 'GET', '/v1/projects/store/secrets/api')).status, 404);
    const meta = (await ok(v.call(v.operator, 'GET', '/v1/projects/store/secrets/payments-api/metadata'))).body as { secret: { description: string; versions: number } };
    assert.deepEqual([meta.secret.description, meta.secret.versions], ['payments API key', 1]);
    await v.close();
  });
});
