// `npm run fault`: the full crash matrix (every engine and strategy × every crash point) and the
// full traffic test (50 rotations per engine and strategy). Prints the figure lines; exits
// non-zero unless every crash case recovered, none was lost, and dual/alternating lost no
// connection.
import { ALL_COMBOS, AGENT_POINTS, VAULT_POINTS, runMatrix, summaryLine } from './crash-matrix.js';
import { runTraffic, trafficLine } from './traffic.js';
const only = process.argv.slice(2);
let failed = false;
if (only.length === 0 || only.includes('crash')) {
    const results = await runMatrix(ALL_COMBOS, [...AGENT_POINTS, ...VAULT_POINTS], (l) => console.log(l));
    console.log(summaryLine(results));
    if (results.some((r) => r.outcome !== 'recovered'))
        failed = true;
}
if (only.length === 0 || only.includes('traffic')) {
    for (const combo of ALL_COMBOS) {
        const r = await runTraffic(combo, 50, '2s');
        console.log(trafficLine(r));
        if (combo.strategy !== 'single' && r.failed + r.errors > 0)
            failed = true;
    }
}
process.exit(failed ? 1 : 0);
//# sourceMappingURL=run-fault.js.map