// The audit chain through a real `sikkerkey-vault serve --workers 2` (SQLite and PostgreSQL): 50
// parallel writes spread by cluster's round-robin over both workers leave one unbroken, unforked
// chain with exactly one event per write — the same body and assertions as the in-process run
// (test/support/audit-chain-writes.ts), the chain checked by the vault (`sikkerkey audit verify
// --json`: hashes and MACs). The request log (debug, with each worker's pid) must show both
// workers wrote.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readPrivateKeyFile } from '../../protocol/keys.js';
import { jsonOf } from '../support/processes.js';
import { startVaultProcess } from '../support/vault-process.js';
import { tempPgDatabase } from '../support/stores.js';
import { vaultOverHttp } from '../support/canary-race.js';
import { fiftyConcurrentWrites } from '../support/audit-chain-writes.js';
import { waitFor } from '../support/wait.js';
/** Pids that logged a successful secret write, with how many each. */
function writersOf(v) {
    const pids = new Map();
    for (const line of v.proc.output().split('\n')) {
        if (!line.includes('"msg":"request completed"'))
            continue;
        const e = JSON.parse(line);
        if (e.method === 'PUT' && e.route === '/v1/projects/:project/secrets/:name' && e.status === 200)
            pids.set(e.pid, (pids.get(e.pid) ?? 0) + 1);
    }
    return pids;
}
for (const dialect of ['sqlite', 'postgres']) {
    test(`--workers 2 (${dialect}): 50 parallel writes through one vault leave one unbroken chain`, async () => {
        const pg = dialect === 'postgres' ? await tempPgDatabase() : undefined;
        const v = await startVaultProcess({ args: ['--workers', '2', '--log-level', 'debug'], ...(pg ? { databaseUrl: pg.location.databaseUrl } : {}) });
        const k = readPrivateKeyFile(v.opKey);
        const op = vaultOverHttp(v.url, { keyId: k.keyId, privateKey: k.privateKey });
        try {
            const r = await fiftyConcurrentWrites({
                call: op.call,
                verify: async () => jsonOf(await v.sk(['audit', 'verify', '--json'])),
                events: async () => {
                    const res = await op.call('GET', '/v1/audit?limit=10000');
                    assert.equal(res.status, 200, JSON.stringify(res.body));
                    return res.body.events;
                },
            });
            const pids = await waitFor(() => writersOf(v), {
                what: 'both workers to have logged writes', timeoutMs: 5000, intervalMs: 50, until: (p) => p.size === 2, show: (p) => JSON.stringify([...p]),
            });
            assert.equal([...pids.values()].reduce((a, b) => a + b, 0), 50);
            console.log(`audit chain --workers 2 (${dialect}): ${r.events} events, one chain; writes per worker pid: ${JSON.stringify([...pids])}`);
        }
        finally {
            op.close();
            await v.close();
            await pg?.remove();
        }
    });
}
//# sourceMappingURL=audit-chain-workers.test.js.map