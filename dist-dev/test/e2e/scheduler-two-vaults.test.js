// Two vault processes on one PostgreSQL, 100 cron policies due in the same instant: each due run
// becomes exactly one rotation (FOR UPDATE SKIP LOCKED plus the one-unfinished-per-secret index).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tempPgDatabase } from '../support/stores.js';
import { startTestVault } from '../support/vault-app.js';
import { startBin } from '../support/processes.js';
import { openStore } from '../../vault-server/store/open-store.js';
import { sleep, waitFor } from '../support/wait.js';
test('two vault processes create each of 100 simultaneously due rotations exactly once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sk-sched-'));
    const pgdb = await tempPgDatabase();
    const procs = [];
    after(async () => {
        for (const p of procs)
            await p.stop('SIGKILL');
        await pgdb.remove();
        rmSync(dir, { recursive: true, force: true });
    });
    // Set the vault up in-process (fast), then hand the store to two real processes.
    const setupStore = await openStore(pgdb.location);
    const v = await startTestVault(setupStore);
    const fields = { host: 'db', port: '5432', username: 'app', password: 'pw-0123456789' };
    await v.call(v.operator, 'POST', '/v1/projects', { name: 'p' });
    await v.call(v.operator, 'PUT', '/v1/projects/p/secrets/admin', { fields });
    await v.addMachine('agent', ['rotator']);
    const secrets = Array.from({ length: 100 }, (_, i) => `s${i}`);
    for (const name of secrets) {
        await v.call(v.operator, 'PUT', `/v1/projects/p/secrets/${name}`, { fields });
        const res = await v.call(v.operator, 'PUT', `/v1/projects/p/secrets/${name}/rotation`, { provider: 'postgres', agentLabel: 'rotator', adminSecret: 'admin', schedule: '0 0 1 1 *' });
        assert.equal(res.status, 200, res.raw);
    }
    const dueAt = Date.now();
    await v.ctx.store.db.updateTable('rotation_policies').set({ next_run_at: dueAt }).execute();
    await v.close();
    await setupStore.close();
    writeFileSync(join(dir, 'root'), v.rootKey.toString('base64'), { mode: 0o600 });
    for (let i = 0; i < 2; i++) {
        const p = startBin('sikkerkey-vault', ['serve', '--database-url', pgdb.location.databaseUrl, '--root-key-file', join(dir, 'root'), '--listen', '127.0.0.1:0']);
        procs.push(p);
        await p.waitFor(/vault listening/);
    }
    const store = await openStore(pgdb.location);
    try {
        const count = async () => Number((await store.db.selectFrom('rotations').select((eb) => eb.fn.countAll().as('n'))
            .where('kind', '=', 'rotate').executeTakeFirstOrThrow()).n);
        await waitFor(count, { what: 'the schedulers to create 100 rotations', timeoutMs: 60_000, intervalMs: 200, until: (n) => n >= 100, show: (n) => `${n} rotations` });
        // A deliberate wait on time, for a duplicate that would come late: each scheduler ticks every
        // second, so 2.5 s gives both processes at least two more passes over the same due policies.
        await sleep(2500);
        const perSecret = await store.db.selectFrom('rotations').innerJoin('secrets', 'secrets.id', 'rotations.secret_id')
            .select(['secrets.name as name', (eb) => eb.fn.countAll().as('n')]).where('rotations.kind', '=', 'rotate').groupBy('secrets.name').execute();
        assert.equal(perSecret.length, 100, 'every policy got its rotation');
        assert.ok(perSecret.every((r) => Number(r.n) === 1), `some secret got more than one: ${JSON.stringify(perSecret.filter((r) => Number(r.n) !== 1))}`);
        const next = await store.db.selectFrom('rotation_policies').select('next_run_at').execute();
        assert.ok(next.every((r) => (r.next_run_at ?? 0) > dueAt), 'every policy\'s next run moved on');
        console.log(`scheduler: 100 due policies, 2 vault processes, ${perSecret.length} rotations created, 0 duplicates`);
    }
    finally {
        await store.close();
    }
});
//# sourceMappingURL=scheduler-two-vaults.test.js.map