// A read claims its request's nonce inside its own group-commit job (one batch per read): on both
// stores, every answer of a read route — served, refused, not found, invalid, or refused at
// authentication — leaves with its nonce claimed, so the same signed request sent again is a
// replay (401 SK_ERR_SIGNATURE_REPLAYED), and of two copies sent at once exactly one is served.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { forEachStore } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import type { TestVault } from '../support/vault-app.js';
import type { IdentityKey } from '../../protocol/keys.js';

function codeOf(res: { body: unknown }): string | undefined {
  return (res.body as { error?: { code?: string } } | undefined)?.error?.code;
}

forEachStore('nonce claimed in the read\'s own job', (s) => {
  let v: TestVault;
  let reader: IdentityKey;
  let stranger: IdentityKey;

  before(async () => {
    v = await startTestVault(await s.open());
    assert.equal((await v.call(v.operator, 'POST', '/v1/projects', { name: 'shop' })).status, 201);
    assert.equal((await v.call(v.operator, 'PUT', '/v1/projects/shop/secrets/token', { value: 'nonce-test-value' })).status, 200);
    reader = await v.addMachine('reader');
    stranger = await v.addMachine('stranger');
    assert.equal((await v.call(v.operator, 'POST', '/v1/grants', { machine: 'reader', project: 'shop' })).status, 201);
  });
  after(async () => v.close());

  /** Sends one signed request twice, one after the other: the first answer's status, then the replay's. */
  async function sendTwice(key: IdentityKey, method: string, target: string, body?: unknown): Promise<{ first: number; firstCode: string | undefined; replay: number; replayCode: string | undefined }> {
    const signed = v.sign(key, method, target, body);
    const first = await v.send(method, target, signed.headers, body === undefined ? undefined : signed.payload);
    const replay = await v.send(method, target, signed.headers, body === undefined ? undefined : signed.payload);
    return { first: first.status, firstCode: codeOf(first), replay: replay.status, replayCode: codeOf(replay) };
  }

  test('a served read, sent again, is a replay; the nonce row is stored with the read', async () => {
    const before = await v.ctx.store.db.selectFrom('nonces').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    const r = await sendTwice(reader, 'GET', '/v1/projects/shop/secrets/token');
    assert.deepEqual([r.first, r.replay, r.replayCode], [200, 401, 'SK_ERR_SIGNATURE_REPLAYED']);
    const afterRows = await v.ctx.store.db.selectFrom('nonces').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    assert.equal(Number(afterRows.n) - Number(before.n), 1, 'exactly one nonce row for the two sends');
  });

  test('a refused read (no grant) and a read of a missing secret keep their nonce: sent again, each is a replay', async () => {
    const refused = await sendTwice(stranger, 'GET', '/v1/projects/shop/secrets/token');
    assert.deepEqual([refused.first, refused.firstCode, refused.replay, refused.replayCode], [403, 'SK_ERR_NO_GRANT', 401, 'SK_ERR_SIGNATURE_REPLAYED']);
    const missing = await sendTwice(reader, 'GET', '/v1/projects/shop/secrets/no-such-secret');
    assert.deepEqual([missing.first, missing.firstCode, missing.replay, missing.replayCode], [404, 'SK_ERR_NOT_FOUND', 401, 'SK_ERR_SIGNATURE_REPLAYED']);
  });

  test('a read answered before its job (an invalid query) claims its nonce before answering: sent again, it is a replay', async () => {
    const r = await sendTwice(reader, 'GET', '/v1/projects/shop/secrets/token?version=0');
    assert.deepEqual([r.first, r.firstCode, r.replay, r.replayCode], [400, 'SK_ERR_VALIDATION', 401, 'SK_ERR_SIGNATURE_REPLAYED']);
  });

  test('a batch read sent again is a replay and is audited once', async () => {
    const count = async (): Promise<number> => Number((await v.ctx.store.db.selectFrom('audit_events').select((eb) => eb.fn.countAll().as('n'))
      .where('action', '=', 'secret.read').executeTakeFirstOrThrow()).n);
    const before = await count();
    const r = await sendTwice(reader, 'POST', '/v1/secrets:batchGet', { items: [{ project: 'shop', name: 'token' }] });
    assert.deepEqual([r.first, r.replay, r.replayCode], [200, 401, 'SK_ERR_SIGNATURE_REPLAYED']);
    assert.equal(await count() - before, 1, 'one secret.read event: the replay read nothing');
  });

  test('of ten copies of one signed read sent at once, exactly one is served and the others are replays', async () => {
    const signed = v.sign(reader, 'GET', '/v1/projects/shop/secrets/token');
    const answers = await Promise.all(Array.from({ length: 10 }, () => v.send('GET', '/v1/projects/shop/secrets/token', signed.headers)));
    assert.equal(answers.filter((a) => a.status === 200).length, 1);
    assert.deepEqual(answers.filter((a) => a.status !== 200).map(codeOf), Array(9).fill('SK_ERR_SIGNATURE_REPLAYED'));
  });

  test('a read refused at authentication (a disabled machine) keeps its nonce: after the machine is enabled again, the same request is a replay', async () => {
    const later = await v.addMachine('later');
    assert.equal((await v.call(v.operator, 'POST', '/v1/grants', { machine: 'later', project: 'shop' })).status, 201);
    assert.equal((await v.call(v.operator, 'POST', '/v1/machines/later/disable')).status, 200);
    const signed = v.sign(later, 'GET', '/v1/projects/shop/secrets/token');
    const refused = await v.send('GET', '/v1/projects/shop/secrets/token', signed.headers);
    assert.deepEqual([refused.status, codeOf(refused)], [403, 'SK_ERR_MACHINE_DISABLED']);
    assert.equal((await v.call(v.operator, 'POST', '/v1/machines/later/enable')).status, 200);
    const replay = await v.send('GET', '/v1/projects/shop/secrets/token', signed.headers);
    assert.deepEqual([replay.status, codeOf(replay)], [401, 'SK_ERR_SIGNATURE_REPLAYED']);
  });
});
