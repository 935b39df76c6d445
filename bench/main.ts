#!/usr/bin/env node
// `npm run bench -- <name> [--json] [options]`: reproducible benchmarks that print ratios against
// a baseline measured in the same run. Timings are benchmarks, never tests.
const [name, ...rest] = process.argv.slice(2);
const benches: Record<string, () => Promise<{ run(args: string[]): Promise<void> }>> = {
  rotation: () => import('./rotation-bench.js'),
  auth: () => import('./auth-bench.js'),
  read: () => import('./read-bench.js'),
  'read-pg': () => import('./read-pg-bench.js'),
  'read-floor': () => import('./read-floor-bench.js'),
  batch: () => import('./batch-bench.js'),
  workers: () => import('./workers-bench.js'),
  fleet: () => import('./fleet-bench.js'),
  'agent-footprint': () => import('./agent-footprint-bench.js'),
  longpoll: () => import('./longpoll-bench.js'),
  'audit-search': () => import('./audit-search-bench.js'),
  lease: () => import('./lease-bench.js'),
};
const load = name ? benches[name] : undefined;
if (!load) {
  process.stderr.write(`usage: npm run bench -- <${Object.keys(benches).join('|')}> [--json]\n`);
  process.exit(2);
}
await (await load()).run(rest);
