// Grants by machine label (issue 24, "machine groups"), on both stores through signed requests:
// an active machine with the label reads without a grant of its own, a machine without it does
// not, a machine pending approval never does; label grants are listed, audited and removable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachStore } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import type { InjectedResponse } from '../support/vault-app.js';
import { auditEvents, codeOf } from '../support/canary-fixtures.js';

const VALUE = 'label-granted-value-42';

async function ok(res: Promise<InjectedResponse>, status = 200): Promise<InjectedResponse> {
  const r = await res;
  assert.equal(r.status, status, r.raw);
  return r;
}

forEachStore('label grants', (s) => {
  test('a label grant serves every active machine with the label, and no other; listed, audited, removable', async () => {
    const v = await startTestVault(await s.openAt(await s.freshLocation()));
    try {
      await ok(v.call(v.operator, 'POST', '/v1/projects', { name: 'fleet' }), 201);
      await ok(v.call(v.operator, 'PUT', '/v1/projects/fleet/secrets/db', { value: VALUE }));
      await ok(v.call(v.operator, 'PUT', '/v1/projects/fleet/secrets/other', { value: 'not-granted' }));
      const web1 = await v.addMachine('web-1', ['web']);
      const web2 = await v.addMachine('web-2', ['web', 'eu']);
      const batch = await v.addMachine('batch-1', ['batch']);
      // Nothing is granted yet: a label alone gives nothing.
      assert.equal(codeOf(await v.call(web1, 'GET', '/v1/projects/fleet/secrets/db')), 'SK_ERR_NO_GRANT');

      const added = await ok(v.call(v.operator, 'POST', '/v1/grants', { label: 'web', project: 'fleet', secret: 'db' }), 201);
      const grant = (added.body as { grant: { id: string; machine: string | null; label: string } }).grant;
      assert.deepEqual([grant.machine, grant.label], [null, 'web']);
      for (const key of [web1, web2]) {
        const r = await ok(v.call(key, 'GET', '/v1/projects/fleet/secrets/db'));
        assert.equal((r.body as { value: string }).value, VALUE);
      }
      assert.equal(codeOf(await v.call(web1, 'GET', '/v1/projects/fleet/secrets/other')), 'SK_ERR_NO_GRANT', 'a secret grant covers that secret only');
      const refused = await v.call(batch, 'GET', '/v1/projects/fleet/secrets/db');
      assert.equal(codeOf(refused), 'SK_ERR_NO_GRANT');
      assert.equal(refused.raw.includes(VALUE), false);
      // A watch takes label grants too.
      await ok(v.call(web1, 'GET', '/v1/projects/fleet/secrets/db?waitForVersionAfter=0&wait=1'));

      const both = await ok(v.call(v.operator, 'POST', '/v1/grants', { machine: 'web-1', label: 'web', project: 'fleet' }), 400);
      assert.equal(codeOf(both), 'SK_ERR_VALIDATION');

      const listed = (await ok(v.call(v.operator, 'GET', '/v1/grants?machine=web-2'))).body as { grants: Array<{ id: string; label?: string }> };
      assert.deepEqual(listed.grants.map((g) => [g.id, g.label]), [[grant.id, 'web']], 'a machine\'s list includes its labels\' grants');
      const byLabel = (await ok(v.call(v.operator, 'GET', '/v1/grants?label=web'))).body as { grants: Array<{ id: string }> };
      assert.deepEqual(byLabel.grants.map((g) => g.id), [grant.id]);
      const audit = (await auditEvents(v, 'grant.add')).filter((e) => e.target === 'label:web');
      assert.equal(audit.length, 1);

      await ok(v.call(v.operator, 'DELETE', `/v1/grants/${grant.id}`), 204);
      assert.equal(codeOf(await v.call(web1, 'GET', '/v1/projects/fleet/secrets/db')), 'SK_ERR_NO_GRANT', 'removed: the next read is refused');
      assert.equal((await auditEvents(v, 'grant.remove')).at(-1)?.details['label'], 'web');
    } finally {
      await v.close();
    }
  });

  test('a machine pending approval holds no label grant', async () => {
    const v = await startTestVault(await s.openAt(await s.freshLocation()));
    try {
      await ok(v.call(v.operator, 'POST', '/v1/projects', { name: 'fleet' }), 201);
      await ok(v.call(v.operator, 'PUT', '/v1/projects/fleet/secrets/db', { value: VALUE }));
      await ok(v.call(v.operator, 'POST', '/v1/grants', { label: 'web', project: 'fleet' }), 201);
      const fresh = await v.addMachine('web-new', ['web']);
      // The state a machine enrolled through an AI agent's token is in until an operator approves it.
      await v.ctx.store.db.updateTable('machines').set({ status: 'pending_approval' }).where('name', '=', 'web-new').execute();
      const r = await v.call(fresh, 'GET', '/v1/projects/fleet/secrets/db');
      assert.equal(r.status, 403, r.raw);
      assert.equal(r.raw.includes(VALUE), false);
      await ok(v.call(v.operator, 'POST', '/v1/machines/web-new/approve'));
      assert.equal(((await ok(v.call(fresh, 'GET', '/v1/projects/fleet/secrets/db'))).body as { value: string }).value, VALUE, 'approved: the label grant applies');
    } finally {
      await v.close();
    }
  });
});
