// The leak test: a marker planted in every secret value must never appear in a log line, an error
// body, an operator-visible answer, or any column of the store (values are only ever stored
// encrypted). Only the machine read that is entitled to it may return it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { forEachStore } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import { generateIdentityKey } from '../../protocol/keys.js';
const TABLES = [
    'vault_meta', 'projects', 'project_keys', 'secrets', 'secret_versions', 'grants', 'operators', 'operator_keys', 'operator_invitations', 'machines', 'ai_agents',
    'enrollment_tokens', 'bootstrap_tokens', 'machine_extensions', 'rotation_policies', 'rotations', 'audit_events', 'audit_head',
    'webhooks', 'webhook_deliveries', 'nonces', 'sweeper_leases',
];
forEachStore('leak test', (s) => {
    test('a marker in every secret appears in no log, no error body, no operator answer and no stored column', async () => {
        const marker = `LEAK${randomBytes(6).toString('hex')}`;
        const v = await startTestVault(await s.open());
        const op = v.operator;
        const entitled = [];
        const others = [];
        const record = (r, isEntitledRead = false) => { (isEntitledRead ? entitled : others).push(r); return r; };
        record(await v.call(op, 'POST', '/v1/projects', { name: 'p' }));
        record(await v.call(op, 'PUT', '/v1/projects/p/secrets/plain', { value: `${marker}-plain` }));
        record(await v.call(op, 'PUT', '/v1/projects/p/secrets/db', { fields: { host: 'h', port: '5432', username: 'u', password: `${marker}-pw` } }));
        record(await v.call(op, 'PUT', '/v1/projects/p/secrets/plain', { value: `${marker}-plain-2` }));
        const m = await v.addMachine('reader');
        const stranger = generateIdentityKey();
        record(await v.call(op, 'POST', '/v1/grants', { machine: 'reader', project: 'p', secret: 'plain' }));
        record(await v.call(m, 'GET', '/v1/projects/p/secrets/plain'), true);
        record(await v.call(m, 'GET', '/v1/projects/p/secrets/db'));
        record(await v.call(m, 'POST', '/v1/secrets:batchGet', { items: [{ project: 'p', name: 'plain' }, { project: 'p', name: 'db' }] }), true);
        record(await v.call(stranger, 'GET', '/v1/projects/p/secrets/plain'));
        record(await v.call(op, 'GET', '/v1/projects/p/secrets/plain'));
        record(await v.call(op, 'POST', '/v1/projects/p/secrets/plain/rollback', { to: 1 }));
        record(await v.call(op, 'POST', '/v1/projects/p/rotate-key'));
        record(await v.call(op, 'GET', '/v1/projects/p/secrets'));
        record(await v.call(op, 'GET', '/v1/projects/p/secrets/plain/versions'));
        record(await v.call(op, 'GET', '/v1/audit'));
        // Bad input that carries the marker: it must not be echoed back or logged.
        record(await v.call(op, 'PUT', '/v1/projects/p/secrets/bad', { value: `${marker}-bad`, extra: marker }));
        record(await v.call(op, 'PUT', '/v1/projects/p/secrets/bad', { fields: { a: 1, b: `${marker}-f` } }));
        record(await v.send('PUT', '/v1/projects/p/secrets/raw', { 'content-type': 'application/json' }, `{"value":"${marker}-unsigned"}`));
        record(await v.call(op, 'PUT', '/v1/projects/p/secrets/huge', { value: `${marker}${'x'.repeat(300_000)}` }));
        assert.ok(entitled.every((r) => r.status === 200 && r.raw.includes(marker)), 'the entitled reads did return the values (the marker is findable)');
        const leakedBodies = others.filter((r) => r.raw.includes(marker));
        assert.deepEqual(leakedBodies.map((r) => `${r.status} ${r.raw.slice(0, 200)}`), []);
        const leakedLogs = v.logs.filter((l) => l.includes(marker));
        assert.deepEqual(leakedLogs, []);
        let columnsSearched = 0;
        for (const table of TABLES) {
            const rows = await v.ctx.store.db.selectFrom(table).selectAll().execute();
            for (const row of rows) {
                for (const [column, value] of Object.entries(row)) {
                    columnsSearched += 1;
                    const hit = Buffer.isBuffer(value) ? value.includes(marker) : typeof value === 'string' && value.includes(marker);
                    assert.equal(hit, false, `${table}.${column} holds the marker in plaintext`);
                }
            }
        }
        console.log(`leak test (${s.dialect}): ${others.length} answers, ${v.logs.length} log lines, ${columnsSearched} stored values searched, 0 hits`);
        await v.close();
    });
});
//# sourceMappingURL=leak.test.js.map