// The agent's /metrics is written by hand (agent/runtime/metrics.ts) instead of by prom-client, to
// keep prom-client out of the agent's memory: its exposition must stay the one prom-client gave —
// the same families in the same order, each with the same type, help and label names, and for
// the agent's own metrics the same text — and parse under a strict Prometheus parser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { createAgentMetrics } from '../../agent/runtime/metrics.js';
import { parsePrometheusText } from '../support/prom-text.js';
import type { PromFamily } from '../support/prom-text.js';

/** What agent/runtime/metrics.ts used to build with prom-client (plus the drift probe, cache read and lease job counters, added since), verbatim. */
function promClientAgentMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'sikkerkey_agent_' });
  return {
    registry,
    jobs: new Counter({ name: 'sikkerkey_agent_jobs_total', help: 'Jobs finished, by engine, kind and outcome', labelNames: ['engine', 'kind', 'outcome'], registers: [registry] }),
    duration: new Histogram({ name: 'sikkerkey_agent_job_duration_seconds', help: 'Claim to outcome, by engine and kind', labelNames: ['engine', 'kind'], buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [registry] }),
    polls: new Counter({ name: 'sikkerkey_agent_polls_total', help: 'Long-polls answered, by result', labelNames: ['result'], registers: [registry] }),
    active: new Gauge({ name: 'sikkerkey_agent_jobs_active', help: 'Jobs being worked on now', registers: [registry] }),
    lastContact: new Gauge({ name: 'sikkerkey_agent_last_vault_contact_seconds', help: 'Unix time of the last answer from the vault', registers: [registry] }),
    driftProbes: new Counter({ name: 'sikkerkey_agent_drift_probes_total', help: 'Logins with the live credential, by engine and result (ok, refused, unknown, unreported)', labelNames: ['engine', 'result'], registers: [registry] }),
    cacheReads: new Counter({ name: 'sikkerkey_agent_cache_reads_total', help: 'Reads served from the offline cache because the vault could not be reached', registers: [registry] }),
    leaseJobs: new Counter({ name: 'sikkerkey_agent_lease_jobs_total', help: 'Lease jobs finished, by engine, kind (create, renew, drop, reconcile-drop) and result (confirmed, failed, error)', labelNames: ['engine', 'kind', 'result'], registers: [registry] }),
  };
}

type Metrics = ReturnType<typeof createAgentMetrics> | ReturnType<typeof promClientAgentMetrics>;

/** The same updates the daemon makes (agent/runtime/agent-daemon.ts), including awkward label values. */
function exercise(m: Metrics): void {
  m.polls.inc({ result: 'jobs' });
  m.polls.inc({ result: 'empty' });
  m.polls.inc({ result: 'empty' });
  m.active.inc();
  m.active.inc();
  m.active.dec();
  m.jobs.inc({ engine: 'postgres', kind: 'rotate', outcome: 'promoted' });
  m.jobs.inc({ engine: 'redis', kind: 'preflight', outcome: 'we"ird\\\nvalue' });
  for (const s of [0.003, 0.01, 0.7, 12, 31]) m.duration.observe({ engine: 'postgres', kind: 'rotate' }, s);
  m.duration.observe({ engine: 'redis', kind: 'preflight' }, 0.25);
  m.lastContact.set(1_796_571_659);
  m.driftProbes.inc({ engine: 'redis', result: 'ok' });
  m.driftProbes.inc({ engine: 'redis', result: 'refused' });
  m.cacheReads.inc();
  m.cacheReads.inc();
  m.leaseJobs.inc({ engine: 'redis', kind: 'create', result: 'confirmed' });
}

const OWN = /^sikkerkey_agent_(jobs_total|job_duration_seconds|polls_total|jobs_active|last_vault_contact_seconds|drift_probes_total|cache_reads_total)$/;

/** Family name → type, help, and the label names its samples use (values of process metrics differ run to run). */
function shape(families: Map<string, PromFamily>): Array<[string, string, string | undefined, string[]]> {
  return [...families.values()].map((f) => [
    f.name, f.type, f.help, [...new Set(f.samples.flatMap((s) => Object.keys(s.labels).map((l) => `${s.name}:${l}`)))].sort(),
  ]);
}

test('the hand-written exposition has the families prom-client gave, in its order, with the same types, help and labels', async () => {
  const ours = createAgentMetrics();
  const theirs = promClientAgentMetrics();
  exercise(ours);
  exercise(theirs);
  // a scrape, a little activity, and the compared scrape: both sides have event-loop and GC figures by then
  await ours.registry.metrics();
  await theirs.registry.metrics();
  const garbage: unknown[] = [];
  for (let i = 0; i < 200_000; i++) garbage.push({ i });
  await new Promise((resolve) => setTimeout(resolve, 50));
  const [oursText, theirsText] = [await ours.registry.metrics(), await theirs.registry.metrics()];

  const a = parsePrometheusText(oursText, { strict: true });
  const b = parsePrometheusText(theirsText, { strict: true });
  assert.deepEqual(shape(a), shape(b));
  assert.ok(a.size >= 30, `${a.size} families`);
  assert.equal(ours.registry.contentType, theirs.registry.contentType);

  // the agent's own families: identical text
  const own = (text: string): string => text.split('\n\n').filter((block) => OWN.test(/^# HELP (\S+)/.exec(block)?.[1] ?? '')).join('\n\n');
  assert.equal(own(oursText), own(theirsText));
  assert.match(own(oursText), /sikkerkey_agent_jobs_total\{engine="redis",kind="preflight",outcome="we\\"ird\\\\\\nvalue"\} 1/);

  // process figures are live: this process's, not zeros
  const value = (name: string): number => a.get(`sikkerkey_agent_${name}`)?.samples[0]?.value ?? Number.NaN;
  assert.ok(value('process_resident_memory_bytes') > 10 * 2 ** 20);
  assert.ok(value('nodejs_heap_size_used_bytes') > 0);
  assert.ok(value('process_cpu_user_seconds_total') > 0);
  assert.equal(value('process_start_time_seconds'), b.get('sikkerkey_agent_process_start_time_seconds')?.samples[0]?.value);
  assert.equal(a.get('sikkerkey_agent_nodejs_version_info')?.samples[0]?.labels.version, process.version);
  assert.ok(garbage.length > 0);
});

test('an update with a label the metric does not have is refused, as prom-client refuses it', () => {
  const wrong: Record<string, string> = { outcome: 'x' };
  assert.throws(() => createAgentMetrics().polls.inc(wrong), /not included in initial labelset/);
  assert.throws(() => promClientAgentMetrics().polls.inc(wrong), /not included in initial labelset/);
});
