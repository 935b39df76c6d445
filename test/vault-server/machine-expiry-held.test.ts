// A request held open across a machine's expiry (a watch, a lease wait) is answered as the
// machine is when it is answered: its lifetime checked again inside the read's transaction, not
// only when the request arrived — the sweeper marks the machine expired up to a minute later.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateIdentityKey } from '../../protocol/keys.js';
import { forEachStore } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import type { TestVault } from '../support/vault-app.js';
import { waitFor } from '../support/wait.js';
import { watchesHeld } from '../../vault-server/modules/secrets/secret-watch.js';

forEachStore('a held request across the machine\'s expiry', (s) => {
  let v: TestVault;
  let clock = Date.now();

  before(async () => {
    v = await startTestVault(await s.open(), { now: () => clock });
  });
  after(async () => v.close());

  test('a watch that began before the expiry is refused SK_ERR_MACHINE_EXPIRED when the new version comes after it, not handed the value', async () => {
    const op = v.operator;
    assert.equal((await v.call(op, 'POST', '/v1/projects', { name: 'shop' })).status, 201);
    assert.equal((await v.call(op, 'PUT', '/v1/projects/shop/secrets/db', { value: 'db-value-1' })).status, 200);
    const key = generateIdentityKey();
    const added = await v.call(op, 'POST', '/v1/machines', { name: 'shortlived', publicKey: Buffer.from(key.publicKey).toString('base64'), expiresIn: '1h' });
    assert.equal(added.status, 201, added.raw);
    assert.equal((await v.call(op, 'POST', '/v1/grants', { machine: 'shortlived', project: 'shop', secret: 'db' })).status, 201);
    assert.equal((await v.call(key, 'GET', '/v1/projects/shop/secrets/db')).status, 200, 'readable while its lifetime lasts');

    const held = v.call(key, 'GET', '/v1/projects/shop/secrets/db?waitForVersionAfter=1&wait=30');
    // The watch is past its first check (authenticated, its machine active) before the clock moves.
    await waitFor(async () => watchesHeld(v.ctx).checked, { what: 'the watch to be held', timeoutMs: 10_000, intervalMs: 10, until: (n) => n === 1 });
    clock += 2 * 3_600_000; // past its expiry; the sweeper has not run
    assert.equal((await v.call(op, 'PUT', '/v1/projects/shop/secrets/db', { value: 'db-value-2' })).status, 200);
    const res = await held;
    assert.equal(res.status, 403, res.raw);
    assert.equal((res.body as { error?: { code?: string } }).error?.code, 'SK_ERR_MACHINE_EXPIRED');
    assert.doesNotMatch(res.raw, /db-value-2/);
  });
});
