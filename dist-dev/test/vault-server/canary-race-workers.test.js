// The canary race against a real `sikkerkey-vault serve --workers 2` (SQLite and PostgreSQL):
// the same body and assertions as the in-process run (test/support/canary-race.ts) — no read that
// starts after the canary's answer arrived is served, from the client's clock and from the audit
// chain's order — with the reads spread by cluster's round-robin over both workers' connections.
// The vault logs every request at debug level with its worker's pid: both workers must have
// served secret reads, or the run proved nothing about two processes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readPrivateKeyFile } from '../../protocol/keys.js';
import { startVaultProcess } from '../support/vault-process.js';
import { tempPgDatabase } from '../support/stores.js';
import { vaultOverHttp, runCanaryRace } from '../support/canary-race.js';
import { waitFor } from '../support/wait.js';
/** Pids that logged a served (200) read of a real secret of project `race`. */
function readersOf(v) {
    const pids = new Map();
    for (const line of v.proc.output().split('\n')) {
        if (!line.includes('"msg":"request completed"'))
            continue;
        const e = JSON.parse(line);
        if (e.method === 'GET' && e.route === '/v1/projects/:project/secrets/:name' && e.status === 200)
            pids.set(e.pid, (pids.get(e.pid) ?? 0) + 1);
    }
    return pids;
}
for (const dialect of ['sqlite', 'postgres']) {
    test(`--workers 2 (${dialect}): 200 concurrent reads and one canary read: no read that starts after the canary committed is served`, async () => {
        const pg = dialect === 'postgres' ? await tempPgDatabase() : undefined;
        const v = await startVaultProcess({ args: ['--workers', '2', '--log-level', 'debug'], ...(pg ? { databaseUrl: pg.location.databaseUrl } : {}) });
        const k = readPrivateKeyFile(v.opKey);
        const rv = vaultOverHttp(v.url, { keyId: k.keyId, privateKey: k.privateKey });
        try {
            const r = await runCanaryRace(rv);
            const pids = await waitFor(() => readersOf(v), {
                what: 'both workers to have logged served reads', timeoutMs: 5000, intervalMs: 50, until: (p) => p.size === 2,
                show: (p) => JSON.stringify([...p]),
            });
            console.log(`canary race --workers 2 (${dialect}): ${r.reads} reads, ${r.servedBeforeLock} served before lock, ${r.servedAfterLock} served after lock; reads served per worker pid: ${JSON.stringify([...pids])}`);
            assert.equal(pids.size, 2);
        }
        finally {
            rv.close();
            await v.close();
            await pg?.remove();
        }
    });
}
//# sourceMappingURL=canary-race-workers.test.js.map