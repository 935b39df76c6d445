// `npm run fault`: the full crash matrix (every engine and strategy × every crash point) and the
// full traffic test (50 rotations per engine and strategy), and the lease crash matrix on every
// engine with a server here (`npm run fault -- leases` for that alone). Prints the figure lines; exits
// non-zero unless every crash case recovered, none was lost, and dual/alternating lost no
// connection.
import { ALL_COMBOS, AGENT_POINTS, VAULT_POINTS, runMatrix, summaryLine } from './crash-matrix.js';
import { runTraffic, trafficLine } from './traffic.js';
import { LEASE_AGENT_POINTS, LEASE_VAULT_POINTS, leaseSummaryLine, runLeaseMatrix } from './lease-crash-matrix.js';

const only = process.argv.slice(2);
let failed = false;

if (only.length === 0 || only.includes('crash')) {
  const results = await runMatrix(ALL_COMBOS, [...AGENT_POINTS, ...VAULT_POINTS], (l) => console.log(l));
  console.log(summaryLine(results));
  if (results.some((r) => r.outcome !== 'recovered')) failed = true;
}
if (only.length === 0 || only.includes('traffic')) {
  for (const combo of ALL_COMBOS) {
    const r = await runTraffic(combo, 50, '2s');
    console.log(trafficLine(r));
    if (combo.strategy !== 'single' && r.failed + r.errors > 0) failed = true;
  }
}
if (only.length === 0 || only.includes('leases')) {
  const results = await runLeaseMatrix(['redis', 'postgres', 'mysql'], [...LEASE_AGENT_POINTS, ...LEASE_VAULT_POINTS], (l) => console.log(l));
  console.log(leaseSummaryLine(results));
  if (results.some((r) => r.leaked.length > 0 || r.lost.length > 0 || r.detail)) failed = true;
}
process.exit(failed ? 1 : 0);
