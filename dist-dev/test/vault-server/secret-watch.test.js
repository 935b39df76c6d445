// Watching a secret (`GET …/secrets/{name}?waitForVersionAfter=N&wait=S`) is no unaudited probe:
// a watch answered with a value is one audited read (with `watchAfter`), a refused watch is a
// denied read in the audit log, and 304s (nothing newer) are counted in
// sikkerkey_secret_watch_unchanged_total. Ungranted and unknown names answer alike.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { forEachStore } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import { parsePrometheusText } from '../support/prom-text.js';
forEachStore('secret watch auditing', (s) => {
    let v;
    let m;
    before(async () => {
        v = await startTestVault(await s.open());
        const op = v.operator;
        assert.equal((await v.call(op, 'POST', '/v1/projects', { name: 'shop' })).status, 201);
        assert.equal((await v.call(op, 'PUT', '/v1/projects/shop/secrets/db', { value: 'db-value-1' })).status, 200);
        assert.equal((await v.call(op, 'PUT', '/v1/projects/shop/secrets/other', { value: 'other-value-1' })).status, 200);
        m = await v.addMachine('watcher');
        assert.equal((await v.call(op, 'POST', '/v1/grants', { machine: 'watcher', project: 'shop', secret: 'db' })).status, 201);
    });
    after(async () => v.close());
    const readEvents = async (name) => (await v.ctx.store.db.selectFrom('audit_events').select(['outcome', 'details', 'action', 'target']).where('action', '=', 'secret.read')
        .where('target', '=', `secret:shop/${name}`).orderBy('seq').execute())
        .map((e) => ({ outcome: e.outcome, details: e.details ? JSON.parse(e.details) : {} }));
    const unchanged = async () => parsePrometheusText((await v.send('GET', '/metrics', {})).raw).get('sikkerkey_secret_watch_unchanged_total')?.samples[0]?.value ?? -1;
    test('a watch answered with a value is audited once, like a read, and names the version it waited past', async () => {
        const before = (await readEvents('db')).length;
        const res = await v.call(m, 'GET', '/v1/projects/shop/secrets/db?waitForVersionAfter=0&wait=0');
        assert.equal(res.status, 200, res.raw);
        assert.equal(res.body.value, 'db-value-1');
        const events = (await readEvents('db')).slice(before);
        assert.equal(events.length, 1, JSON.stringify(events));
        assert.equal(events[0]?.outcome, 'success');
        assert.deepEqual(events[0]?.details, { version: 1, watchAfter: 0 });
    });
    test('a 304 (nothing newer) is not audited and is counted in sikkerkey_secret_watch_unchanged_total', async () => {
        const count = await unchanged();
        assert.ok(count >= 0, 'the counter is exported');
        const before = (await readEvents('db')).length;
        for (let i = 0; i < 3; i += 1) {
            const res = await v.call(m, 'GET', '/v1/projects/shop/secrets/db?waitForVersionAfter=1&wait=0');
            assert.equal(res.status, 304, res.raw);
            assert.equal(res.raw, '');
        }
        assert.equal(await unchanged(), count + 3);
        assert.equal((await readEvents('db')).length, before, 'a 304 writes no audit event');
    });
    test('watching an ungranted secret and an unknown name answer alike (same status and body), and each refusal is audited', async () => {
        const beforeOther = (await readEvents('other')).length;
        const beforeUnknown = (await readEvents('nope')).length;
        const count = await unchanged();
        const ungranted = await v.call(m, 'GET', '/v1/projects/shop/secrets/other?waitForVersionAfter=5&wait=0');
        const unknown = await v.call(m, 'GET', '/v1/projects/shop/secrets/nope?waitForVersionAfter=5&wait=0');
        assert.equal(ungranted.status, 403, ungranted.raw);
        assert.equal(unknown.status, ungranted.status);
        assert.equal(unknown.raw, ungranted.raw, 'the bodies are identical');
        assert.equal(ungranted.body.error.code, 'SK_ERR_NO_GRANT');
        // And alike with a plain read too.
        const plain = await v.call(m, 'GET', '/v1/projects/shop/secrets/nope');
        assert.equal(plain.status, ungranted.status);
        assert.equal(plain.raw, ungranted.raw);
        const other = (await readEvents('other')).slice(beforeOther);
        const nope = (await readEvents('nope')).slice(beforeUnknown);
        assert.deepEqual(other, [{ outcome: 'denied', details: { code: 'SK_ERR_NO_GRANT', watchAfter: 5 } }]);
        assert.deepEqual(nope, [{ outcome: 'denied', details: { code: 'SK_ERR_NO_GRANT', watchAfter: 5 } }, { outcome: 'denied', details: { code: 'SK_ERR_NO_GRANT' } }]);
        assert.equal(await unchanged(), count, 'a refusal is no 304');
    });
});
//# sourceMappingURL=secret-watch.test.js.map