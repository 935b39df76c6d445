// The crash matrix, reduced for `npm test`: two engine/strategy pairs × every crash point of the
// agent and the vault. `npm run fault` runs every engine and strategy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AGENT_POINTS, VAULT_POINTS, runMatrix, summaryLine } from './crash-matrix.js';
// 16 cases, each a crash, a restart and a full recovery (a vault restart, a lease of 3 s to run
// out, a re-claim): 80-110 s on a 2-core machine, beyond npm test's 120 s per-test default under
// load. Each case bounds its own waits (60 s to a fault point, 60 s to settle); the runner's
// per-file guard (10 min) stays above this.
test('crash matrix (reduced): every crash of the agent or the vault recovers with a working live credential', { timeout: 300_000 }, async () => {
    const lines = [];
    const results = await runMatrix([{ engine: 'redis', strategy: 'single' }, { engine: 'postgres', strategy: 'alternating' }], [...AGENT_POINTS, ...VAULT_POINTS], (l) => lines.push(l));
    console.log(lines.join('\n'));
    console.log(summaryLine(results));
    const bad = results.filter((r) => r.outcome !== 'recovered');
    assert.deepEqual(bad.map((r) => `${r.combo.engine} ${r.combo.strategy} ${r.point}: ${r.outcome} ${r.detail ?? ''}`), []);
    assert.equal(results.length, (AGENT_POINTS.length + VAULT_POINTS.length) * 2);
});
//# sourceMappingURL=crash-matrix.test.js.map