// `GET /v1/projects/:p/secrets/:s?version=N` (and `version` in batchGet items): a machine reads a
// version that was live once — previous or retired — granted and audited exactly like the live
// read; pending, discarded and unknown versions answer the same 404, and a canary trips at any version.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { forEachStore } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import type { InjectedResponse, TestVault } from '../support/vault-app.js';
import type { IdentityKey } from '../../protocol/keys.js';
import { auditEvents, codeOf, machineStatus, projectLock } from '../support/canary-fixtures.js';
import { writeTx } from '../../vault-server/context.js';
import { insertVersion } from '../../vault-server/modules/secrets/secrets-service.js';
import { requireProject } from '../../vault-server/modules/projects/projects-service.js';

function ok(res: InjectedResponse, status = 200): InjectedResponse {
  assert.equal(res.status, status, res.raw);
  return res;
}

const messageOf = (res: InjectedResponse): string => (res.body as { error: { message: string } }).error.message;

forEachStore('reading a previous version', (s) => {
  let v: TestVault;
  let reader: IdentityKey;
  let fieldReader: IdentityKey;
  let stranger: IdentityKey;

  before(async () => {
    v = await startTestVault(await s.open());
    const op = v.operator;
    ok(await v.call(op, 'POST', '/v1/projects', { name: 'shop' }), 201);
    for (const value of ['first-value-aaaa', 'second-value-bbbb', 'third-value-cccc']) ok(await v.call(op, 'PUT', '/v1/projects/shop/secrets/db', { value }));
    ok(await v.call(op, 'PUT', '/v1/projects/shop/secrets/cfg', { fields: { user: 'user-one', pass: 'pass-one-aaaa' } }));
    ok(await v.call(op, 'PUT', '/v1/projects/shop/secrets/cfg', { fields: { user: 'user-two', pass: 'pass-two-bbbb' } }));
    reader = await v.addMachine('reader');
    fieldReader = await v.addMachine('field-reader');
    stranger = await v.addMachine('stranger');
    ok(await v.call(op, 'POST', '/v1/grants', { machine: 'reader', project: 'shop' }), 201);
    ok(await v.call(op, 'POST', '/v1/grants', { machine: 'field-reader', project: 'shop', secret: 'cfg', fields: ['user'] }), 201);
    ok(await v.call(op, 'POST', '/v1/projects', { name: 'other' }), 201);
    ok(await v.call(op, 'PUT', '/v1/projects/other/secrets/x', { value: 'other-value-dddd' }));
    ok(await v.call(op, 'POST', '/v1/grants', { machine: 'stranger', project: 'other' }), 201);
  });
  after(async () => v.close());

  test('a granted machine reads the retired, previous and live versions by number, and the live one without', async () => {
    const at = async (q: string): Promise<unknown> => ok(await v.call(reader, 'GET', `/v1/projects/shop/secrets/db${q}`)).body;
    assert.deepEqual(await at('?version=1'), { project: 'shop', name: 'db', version: 1, value: 'first-value-aaaa' });
    assert.deepEqual(await at('?version=2'), { project: 'shop', name: 'db', version: 2, value: 'second-value-bbbb' });
    assert.deepEqual(await at('?version=3'), { project: 'shop', name: 'db', version: 3, value: 'third-value-cccc' });
    assert.deepEqual(await at(''), { project: 'shop', name: 'db', version: 3, value: 'third-value-cccc' });
    const states = (ok(await v.call(v.operator, 'GET', '/v1/projects/shop/secrets/db/versions')).body as { versions: Array<{ version: number; state: string }> }).versions;
    assert.deepEqual(states.map((x) => [x.version, x.state]), [[3, 'live'], [2, 'previous'], [1, 'retired']]);
    const reads = (await auditEvents(v, 'secret.read')).filter((e) => e.target === 'secret:shop/db' && e.outcome === 'success');
    assert.deepEqual(reads.map((e) => [e.details?.version, e.details?.state]), [[1, 'retired'], [2, 'previous'], [3, 'live'], [3, undefined]]);
  });

  test('a field grant applies to an old version too', async () => {
    const res = ok(await v.call(fieldReader, 'GET', '/v1/projects/shop/secrets/cfg?version=1'));
    assert.deepEqual(res.body, { project: 'shop', name: 'cfg', version: 1, fields: { user: 'user-one' } });
    const last = (await auditEvents(v, 'secret.read')).at(-1);
    assert.deepEqual([last?.details?.version, last?.details?.fields], [1, ['user']]);
  });

  test('pending, discarded and unknown versions answer the same 404; a machine without a grant gets 403 as for the live read', async () => {
    const project = await requireProject(v.ctx.store.db, 'shop');
    const secret = await v.ctx.store.db.selectFrom('secrets').select('id').where('project_id', '=', project.id).where('name', '=', 'db').executeTakeFirstOrThrow();
    const pending = await writeTx(v.ctx, (trx) => insertVersion(v.ctx, trx, { project, secretId: secret.id, plaintext: Buffer.from('pending-value-eeee'), state: 'pending', createdBy: 'test' }));
    assert.equal(pending.version, 4);
    const p = await v.call(reader, 'GET', '/v1/projects/shop/secrets/db?version=4');
    assert.equal(p.status, 404, p.raw);
    assert.equal(codeOf(p), 'SK_ERR_NOT_FOUND');
    await v.ctx.store.db.updateTable('secret_versions').set({ state: 'discarded' }).where('id', '=', pending.id).execute();
    const d = await v.call(reader, 'GET', '/v1/projects/shop/secrets/db?version=4');
    const unknown = await v.call(reader, 'GET', '/v1/projects/shop/secrets/db?version=99');
    for (const res of [d, unknown]) {
      assert.equal(res.status, 404, res.raw);
      assert.equal(codeOf(res), 'SK_ERR_NOT_FOUND');
    }
    // No oracle: a pending, a discarded and a never-written version read alike, but for the number.
    assert.equal(messageOf(p), messageOf(d));
    assert.equal(messageOf(unknown), messageOf(d).replace('version 4', 'version 99'));
    assert.equal(p.raw.includes('pending-value-eeee') || d.raw.includes('pending-value-eeee'), false);
    // The live read is unchanged by the pending version.
    assert.equal((ok(await v.call(reader, 'GET', '/v1/projects/shop/secrets/db')).body as { version: number }).version, 3);

    const refused = await v.call(stranger, 'GET', '/v1/projects/shop/secrets/db?version=1');
    assert.equal(refused.status, 403, refused.raw);
    assert.equal(codeOf(refused), 'SK_ERR_NO_GRANT');
    const denied = (await auditEvents(v, 'secret.read')).at(-1);
    assert.deepEqual([denied?.outcome, denied?.details?.code, denied?.details?.version], ['denied', 'SK_ERR_NO_GRANT', 1]);
    const unknownSecret = await v.call(stranger, 'GET', '/v1/projects/shop/secrets/nothing?version=1');
    assert.equal(codeOf(unknownSecret), 'SK_ERR_NO_GRANT', 'an ungranted machine learns nothing of which secrets exist');
  });

  test('version is checked at the schema: 0, text and a number beyond a version column are 400; it does not combine with a watch', async () => {
    for (const q of ['0', 'abc', '2147483648', '-1']) {
      const res = await v.call(reader, 'GET', `/v1/projects/shop/secrets/db?version=${q}`);
      assert.equal(res.status, 400, `${q}: ${res.raw}`);
      assert.equal(codeOf(res), 'SK_ERR_VALIDATION');
    }
    const both = await v.call(reader, 'GET', '/v1/projects/shop/secrets/db?version=1&waitForVersionAfter=0');
    assert.equal(both.status, 400, both.raw);
  });

  test('batchGet items take a version', async () => {
    const res = ok(await v.call(reader, 'POST', '/v1/secrets:batchGet', { items: [
      { project: 'shop', name: 'db', version: 2 }, { project: 'shop', name: 'db' }, { project: 'shop', name: 'db', version: 4 },
    ] }));
    const results = (res.body as { results: Array<{ status: number; version?: number; value?: string; error?: { code: string } }> }).results;
    assert.deepEqual(results.map((r) => [r.status, r.version ?? r.error?.code, r.value]), [
      [200, 2, 'second-value-bbbb'], [200, 3, 'third-value-cccc'], [404, 'SK_ERR_NOT_FOUND', undefined],
    ]);
  });

  test('a canary read at an old version trips it; at a version it never had it trips and answers 404', async () => {
    const op = v.operator;
    for (const name of ['bait-a', 'bait-b']) {
      ok(await v.call(op, 'POST', '/v1/projects', { name }), 201);
      ok(await v.call(op, 'POST', `/v1/projects/${name}/canaries`, { name: 'backup', value: 'decoy-value-ffff' }), 201);
    }
    const a = await v.addMachine('intruder-a');
    const b = await v.addMachine('intruder-b');
    ok(await v.call(op, 'POST', '/v1/grants', { machine: 'intruder-a', project: 'bait-a' }), 201);
    ok(await v.call(op, 'POST', '/v1/grants', { machine: 'intruder-b', project: 'bait-b' }), 201);

    const read = ok(await v.call(a, 'GET', '/v1/projects/bait-a/secrets/backup?version=1'));
    assert.deepEqual(read.body, { project: 'bait-a', name: 'backup', version: 1, value: 'decoy-value-ffff' });
    assert.equal((await projectLock(v, 'bait-a')).locked, true);
    assert.equal(await machineStatus(v, 'intruder-a'), 'disabled');

    const missing = await v.call(b, 'GET', '/v1/projects/bait-b/secrets/backup?version=7');
    assert.equal(missing.status, 404, missing.raw);
    assert.equal(codeOf(missing), 'SK_ERR_NOT_FOUND');
    assert.equal((await projectLock(v, 'bait-b')).locked, true, 'the trip committed although the version does not exist');
    assert.equal(await machineStatus(v, 'intruder-b'), 'disabled');
    const trips = (await auditEvents(v, 'canary.tripped')).map((e) => e.target);
    assert.deepEqual(trips, ['secret:bait-a/backup', 'secret:bait-b/backup']);
  });
});
