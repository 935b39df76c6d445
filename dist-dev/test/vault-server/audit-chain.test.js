// The hash-chained audit log: concurrent writers never fork it (SQLite, and PostgreSQL with two
// real vault processes; through one `serve --workers 2` in audit-chain-workers.test.ts), and
// every edit, deletion, reordering or truncation is detected.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { forEachStore, tempPgDatabase } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import { jsonOf, runBin, startBin } from '../support/processes.js';
import { VaultClient } from '../../protocol/client.js';
import { readPrivateKeyFile } from '../../protocol/keys.js';
import { listAudit, verifyAuditChain } from '../../vault-server/modules/audit/audit-store.js';
import { fiftyConcurrentWrites } from '../support/audit-chain-writes.js';
import { openStore } from '../../vault-server/store/open-store.js';
class Rollback extends Error {
}
/** Runs a tampering inside a transaction, verifies, and rolls the tampering back. */
async function detectsTampering(db, tamper) {
    let report;
    await db.transaction().execute(async (trx) => {
        await tamper(trx);
        report = await verifyAuditChain(trx);
        throw new Rollback();
    }).catch((err) => { if (!(err instanceof Rollback))
        throw err; });
    return { ok: report?.ok ?? true, seq: report?.firstBad?.seq };
}
forEachStore('audit chain', (s) => {
    test('50 concurrent writes leave one unbroken chain', async () => {
        const v = await startTestVault(await s.open());
        await fiftyConcurrentWrites({
            call: (method, target, body) => v.call(v.operator, method, target, body),
            verify: () => verifyAuditChain(v.ctx.store.db),
            events: () => listAudit(v.ctx.store.db, { limit: 10_000 }),
        });
        await v.close();
    });
    test('every edit, deletion, reordering and truncation of any event is detected', async () => {
        const v = await startTestVault(await s.openAt(await s.freshLocation()));
        await v.call(v.operator, 'POST', '/v1/projects', { name: 'p' });
        for (let i = 0; i < 12; i++)
            await v.call(v.operator, 'PUT', `/v1/projects/p/secrets/s${i}`, { value: `v${i}` });
        const db = v.ctx.store.db;
        assert.equal((await verifyAuditChain(db)).ok, true);
        const seqs = (await db.selectFrom('audit_events').select('seq').orderBy('seq').execute()).map((r) => r.seq);
        let tried = 0;
        let detected = 0;
        const check = async (what, expectSeq, tamper) => {
            tried += 1;
            const r = await detectsTampering(db, tamper);
            if (!r.ok)
                detected += 1;
            assert.equal(r.ok, false, `${what} went unnoticed`);
            if (expectSeq !== undefined)
                assert.equal(r.seq, expectSeq, `${what}: the first bad event is named`);
        };
        for (const seq of seqs) {
            await check(`edit target of ${seq}`, seq, (t) => t.updateTable('audit_events').set({ target: 'secret:p/forged' }).where('seq', '=', seq).execute().then(() => undefined));
            await check(`edit outcome of ${seq}`, seq, (t) => t.updateTable('audit_events').set({ outcome: 'denied' }).where('seq', '=', seq).execute().then(() => undefined));
            await check(`edit details of ${seq}`, seq, (t) => t.updateTable('audit_events').set({ details: '{"x":1}' }).where('seq', '=', seq).execute().then(() => undefined));
            await check(`delete ${seq}`, seq, (t) => t.deleteFrom('audit_events').where('seq', '=', seq).execute().then(() => undefined));
            if (seq < seqs.length) {
                // Swap two neighbours' places (their sequence numbers), hashes and all.
                await check(`reorder ${seq} and ${seq + 1}`, seq, async (t) => {
                    await t.updateTable('audit_events').set({ seq: -1 }).where('seq', '=', seq).execute();
                    await t.updateTable('audit_events').set({ seq }).where('seq', '=', seq + 1).execute();
                    await t.updateTable('audit_events').set({ seq: seq + 1 }).where('seq', '=', -1).execute();
                });
            }
            await check(`truncate from ${seq}`, seq, (t) => t.deleteFrom('audit_events').where('seq', '>=', seq).execute().then(() => undefined));
        }
        console.log(`audit tampering: ${tried} tried, ${detected} detected`);
        assert.equal(detected, tried);
        assert.equal((await verifyAuditChain(db)).ok, true, 'the rollbacks left the chain intact');
        await v.close();
    });
});
test('two vault processes on one PostgreSQL, 50 parallel writes between them: one unbroken chain', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sk-audit-2p-'));
    const pgdb = await tempPgDatabase();
    const procs = [];
    after(async () => {
        for (const p of procs)
            await p.stop('SIGKILL');
        await pgdb.remove();
        rmSync(dir, { recursive: true, force: true });
    });
    const opKey = join(dir, 'op.key');
    const op = jsonOf(await runBin('sikkerkey', ['keygen', '--out', opKey, '--json']));
    const url = pgdb.location.databaseUrl;
    const init = jsonOf(await runBin('sikkerkey-vault', ['init', '--database-url', url, '--operator-public-key', op.publicKey, '--json']));
    writeFileSync(join(dir, 'root'), init.rootKey, { mode: 0o600 });
    const urls = [];
    for (let i = 0; i < 2; i++) {
        const p = startBin('sikkerkey-vault', ['serve', '--database-url', url, '--root-key-file', join(dir, 'root'), '--listen', '127.0.0.1:0']);
        procs.push(p);
        urls.push((await p.waitFor(/"url":"(http:\/\/127\.0\.0\.1:\d+)"/))[1]);
    }
    const key = readPrivateKeyFile(opKey);
    const clients = urls.map((u) => new VaultClient({ url: u, key: { keyId: key.keyId, privateKey: key.privateKey } }));
    await clients[0].request('POST', '/v1/projects', { name: 'p' });
    const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => clients[i % 2].request('PUT', `/v1/projects/p/secrets/s${i % 7}`, { value: `v${i}` })));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 50, JSON.stringify(results.find((r) => r.status === 'rejected')));
    const store = await openStore({ databaseUrl: url });
    try {
        const report = await verifyAuditChain(store.db);
        assert.equal(report.ok, true, JSON.stringify(report.firstBad));
        assert.equal(report.events, 52);
        const heads = await sql `select count(*)::int as n from audit_events group by prev_hash having count(*) > 1`.execute(store.db);
        assert.equal(heads.rows.length, 0, 'no two events share a predecessor (no fork)');
    }
    finally {
        await store.close();
    }
});
//# sourceMappingURL=audit-chain.test.js.map