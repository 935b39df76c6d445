// The lease crash matrix in `npm test`: Redis × every crash point of the agent's create job and of
// the vault's intent and claim commits. `npm run fault -- leases` runs PostgreSQL (scram cluster)
// and MariaDB too (all 15 cases passed there when this was written: docs/leases.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LEASE_AGENT_POINTS, LEASE_VAULT_POINTS, leaseSummaryLine, runLeaseMatrix } from './lease-crash-matrix.js';

test('lease crash matrix: a crash of the agent or the vault at any step leaks no login and loses no lease', { timeout: 300_000 }, async () => {
  const lines: string[] = [];
  const points = [...LEASE_AGENT_POINTS, ...LEASE_VAULT_POINTS];
  const results = await runLeaseMatrix(['redis'], points, (l) => lines.push(l));
  console.log(lines.join('\n'));
  console.log(leaseSummaryLine(results));
  assert.equal(results.length, points.length);
  const bad = results.filter((r) => r.leaked.length > 0 || r.lost.length > 0 || r.detail);
  assert.deepEqual(bad.map((r) => `${r.engine} ${r.point}: ${r.detail ?? ''} leaked ${r.leaked.join(',')} lost ${r.lost.join(',')}`), []);
});
