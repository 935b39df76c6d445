// The crash matrix with the vault run as `sikkerkey-vault serve --workers 2`: Redis (single) ×
// every crash point of the agent and of the vault, judged exactly as the reduced matrix in
// crash-matrix.test.ts is (same runMatrix, same assertions). A vault fault point pauses whichever
// worker took the request (both inherit SIKKERKEY_FAULT_PAUSE_AT; the primary serves no route),
// and the crash is `kill -9` of the whole vault — the primary and both workers at once, checked
// to be gone before the restart (rotation-harness.ts, killWholeVault) — then a restart with
// `--workers 2` again and the same recovery checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AGENT_POINTS, VAULT_POINTS, runMatrix, summaryLine } from './crash-matrix.js';
// 8 cases, each a crash, a restart and a full recovery: about half of crash-matrix.test.ts.
test('crash matrix (reduced, --workers 2): every crash of the agent or the vault recovers with a working live credential', { timeout: 300_000 }, async () => {
    const lines = [];
    const results = await runMatrix([{ engine: 'redis', strategy: 'single' }], [...AGENT_POINTS, ...VAULT_POINTS], (l) => lines.push(l), { serveArgs: ['--workers', '2'] });
    console.log(lines.join('\n'));
    console.log(`--workers 2: ${summaryLine(results)}`);
    const bad = results.filter((r) => r.outcome !== 'recovered');
    assert.deepEqual(bad.map((r) => `${r.combo.engine} ${r.combo.strategy} ${r.point}: ${r.outcome} ${r.detail ?? ''}`), []);
    assert.equal(results.length, AGENT_POINTS.length + VAULT_POINTS.length);
    // Every vault crash was a kill -9 of the primary and both its workers (one of them paused at the step).
    for (const r of results.filter((x) => VAULT_POINTS.includes(x.point))) {
        assert.equal(r.killedWorkers?.length, 2, `${r.point}: workers killed with the primary: ${r.killedWorkers?.join(', ') ?? 'none'}`);
    }
});
//# sourceMappingURL=crash-matrix-workers.test.js.map