import { readFileSync, readdirSync } from 'node:fs';
import { PerformanceObserver, constants as perfConstants, monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';

/**
 * The agent's Prometheus metrics, written out by hand in the text exposition format 0.0.4.
 *
 * Not prom-client: the agent has five metrics of its own, and prom-client (its registry, metric
 * classes, aggregation and OpenTelemetry hooks) cost the idle agent ~1 MiB, ~2.5 MiB unbundled
 * (docs/benchmarks-agent.md, `agent-footprint`). The names, types, help texts, labels
 * and values are the ones prom-client's `Counter`/`Gauge`/`Histogram` and `collectDefaultMetrics`
 * (prefix `sikkerkey_agent_`) gave, in the same order: dashboards and alerts keep working, and
 * test/agent/agent-metrics.test.ts compares the two family by family.
 *
 * @example
 *   const metrics = createAgentMetrics();
 *   metrics.jobs.inc({ engine: 'postgres', kind: 'rotate', outcome: 'promoted' });
 *   res.setHeader('content-type', metrics.registry.contentType).end(await metrics.registry.metrics());
 */
export function createAgentMetrics() {
  const families: Family[] = defaultMetrics(PREFIX);
  const add = <F extends Family>(f: F): F => { families.push(f); return f; };
  return {
    registry: {
      contentType: 'text/plain; version=0.0.4; charset=utf-8',
      /** The exposition text; a Promise like prom-client's `Registry#metrics()`. */
      metrics: (): Promise<string> => Promise.resolve(families.map((f) => f.render()).join('\n\n') + '\n'),
    },
    jobs: add(new Counter('sikkerkey_agent_jobs_total', 'Jobs finished, by engine, kind and outcome', ['engine', 'kind', 'outcome'])),
    duration: add(new Histogram('sikkerkey_agent_job_duration_seconds', 'Claim to outcome, by engine and kind', ['engine', 'kind'], [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30])),
    polls: add(new Counter('sikkerkey_agent_polls_total', 'Long-polls answered, by result', ['result'])),
    active: add(new Gauge('sikkerkey_agent_jobs_active', 'Jobs being worked on now')),
    lastContact: add(new Gauge('sikkerkey_agent_last_vault_contact_seconds', 'Unix time of the last answer from the vault')),
    driftProbes: add(new Counter('sikkerkey_agent_drift_probes_total', 'Logins with the live credential, by engine and result (ok, refused, unknown, unreported)', ['engine', 'result'])),
    cacheReads: add(new Counter('sikkerkey_agent_cache_reads_total', 'Reads served from the offline cache because the vault could not be reached')),
    leaseJobs: add(new Counter('sikkerkey_agent_lease_jobs_total', 'Lease jobs finished, by engine, kind (create, renew, drop, reconcile-drop) and result (confirmed, failed, error)', ['engine', 'kind', 'result'])),
  };
}
export type AgentMetrics = ReturnType<typeof createAgentMetrics>;

const PREFIX = 'sikkerkey_agent_';

type Labels = Record<string, string | number>;

interface Family { render(): string }

/** One family's samples, keyed by their label values in `labelNames` order. */
abstract class Metric implements Family {
  protected readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(readonly name: string, readonly help: string, readonly type: string, readonly labelNames: readonly string[] = [], private readonly collect?: () => void) {
    // a family without labels shows 0 before its first update (a labelled one shows nothing)
    if (labelNames.length === 0 && type !== 'histogram') this.values.set('', { labels: {}, value: 0 });
  }

  protected entry(labels: Labels): { labels: Labels; value: number } {
    for (const key of Object.keys(labels)) {
      if (!this.labelNames.includes(key)) throw new Error(`Added label "${key}" is not included in initial labelset: ${JSON.stringify(this.labelNames)}`);
    }
    const key = this.labelNames.map((n) => String(labels[n] ?? '')).join('\u0000');
    let e = this.values.get(key);
    if (!e) this.values.set(key, e = { labels: { ...labels }, value: 0 });
    return e;
  }

  reset(): void {
    this.values.clear();
  }

  protected samples(): string[] {
    return [...this.values.values()].map((e) => `${this.name}${labelText(e.labels)} ${formatValue(e.value)}`);
  }

  render(): string {
    this.collect?.();
    return [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`, ...this.samples()].join('\n');
  }
}

class Counter extends Metric {
  constructor(name: string, help: string, labelNames: readonly string[] = [], collect?: () => void) {
    super(name, help, 'counter', labelNames, collect);
  }

  inc(labels: Labels = {}, by = 1): void {
    if (!Number.isFinite(by) || by < 0) throw new Error(`It is not possible to decrease a counter (${by})`);
    this.entry(labels).value += by;
  }
}

class Gauge extends Metric {
  constructor(name: string, help: string, labelNames: readonly string[] = [], collect?: () => void) {
    super(name, help, 'gauge', labelNames, collect);
  }

  /** `set(value)` or `set(labels, value)`, as prom-client takes them. */
  set(labelsOrValue: Labels | number, value?: number): void {
    const [labels, v] = typeof labelsOrValue === 'number' ? [{}, labelsOrValue] : [labelsOrValue, value ?? 0];
    this.entry(labels).value = v;
  }

  inc(by = 1): void {
    this.entry({}).value += by;
  }

  dec(by = 1): void {
    this.entry({}).value -= by;
  }
}

class Histogram implements Family {
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(readonly name: string, readonly help: string, readonly labelNames: readonly string[], readonly buckets: readonly number[]) {}

  observe(labels: Labels, value: number): void {
    const key = this.labelNames.map((n) => String(labels[n] ?? '')).join('\u0000');
    let s = this.series.get(key);
    if (!s) this.series.set(key, s = { labels: { ...labels }, counts: this.buckets.map(() => 0), sum: 0, count: 0 });
    const i = this.buckets.findIndex((b) => value <= b);
    if (i >= 0) s.counts[i] = (s.counts[i] as number) + 1;
    s.sum += value;
    s.count += 1;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} histogram`];
    for (const s of this.series.values()) {
      let cumulative = 0;
      this.buckets.forEach((b, i) => {
        cumulative += s.counts[i] as number;
        lines.push(`${this.name}_bucket${labelText({ le: b, ...s.labels })} ${formatValue(cumulative)}`);
      });
      lines.push(`${this.name}_bucket${labelText({ le: '+Inf', ...s.labels })} ${formatValue(s.count)}`);
      lines.push(`${this.name}_sum${labelText(s.labels)} ${formatValue(s.sum)}`);
      lines.push(`${this.name}_count${labelText(s.labels)} ${formatValue(s.count)}`);
    }
    return lines.join('\n');
  }
}

/** prom-client's number format: JavaScript's, with Nan / +Inf / -Inf for the specials. */
function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'Nan';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function escapeHelp(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${String(v).replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

/** Counts by constructor name (prom-client's `nodejs_active_handles{type}` and `_requests{type}`). */
function byConstructorName(list: readonly unknown[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of list) {
    const name = (item as { constructor?: { name?: string } } | null)?.constructor?.name;
    if (name !== undefined) counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}

function setAll(gauge: Gauge, counts: Map<string, number>): void {
  gauge.reset();
  for (const [type, n] of counts) gauge.set({ type }, n);
}

/** Node 20 still has these (prom-client reads them too); they are not in @types/node. */
const internals = process as unknown as { _getActiveHandles?: () => unknown[]; _getActiveRequests?: () => unknown[] };

/**
 * What prom-client's `collectDefaultMetrics({ prefix })` registers on Linux and Node 20, same
 * names, help texts, labels and values, computed when scraped.
 */
function defaultMetrics(prefix: string): Family[] {
  const g = (name: string, help: string, labelNames: readonly string[] = [], collect?: () => void): Gauge => new Gauge(prefix + name, help, labelNames, collect);
  const families: Family[] = [];

  let lastCpu = process.cpuUsage();
  const cpuSystem = new Counter(`${prefix}process_cpu_system_seconds_total`, 'Total system CPU time spent in seconds.');
  const cpuTotal = new Counter(`${prefix}process_cpu_seconds_total`, 'Total user and system CPU time spent in seconds.');
  const cpuUser = new Counter(`${prefix}process_cpu_user_seconds_total`, 'Total user CPU time spent in seconds.', [], () => {
    const now = process.cpuUsage();
    const user = now.user - lastCpu.user;
    const system = now.system - lastCpu.system;
    lastCpu = now;
    cpuUser.inc({}, user / 1e6);
    cpuSystem.inc({}, system / 1e6);
    cpuTotal.inc({}, (user + system) / 1e6);
  });
  families.push(cpuUser, cpuSystem, cpuTotal);

  const startSeconds = Math.round(Date.now() / 1000 - process.uptime());
  families.push(g('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.', [], () => start.set(startSeconds)));
  const start = families.at(-1) as Gauge;

  const virtual = g('process_virtual_memory_bytes', 'Virtual memory size in bytes.');
  const heap = g('process_heap_bytes', 'Process heap size in bytes.');
  const resident = g('process_resident_memory_bytes', 'Resident memory size in bytes.', [], () => {
    try {
      const status = readFileSync('/proc/self/status', 'utf8');
      const kib = (field: string): number => Number(new RegExp(`^${field}:\\s*(\\d+)`, 'm').exec(status)?.[1]) * 1024;
      resident.set(kib('VmRSS'));
      virtual.set(kib('VmSize'));
      heap.set(kib('VmData'));
    } catch { /* no procfs: the last values stay */ }
  });
  families.push(resident, virtual, heap);

  families.push(g('process_open_fds', 'Number of open file descriptors.', [], () => {
    try {
      openFds.set(readdirSync('/proc/self/fd').length - 1); // minus the one readdirSync used
    } catch { /* no procfs */ }
  }));
  const openFds = families.at(-1) as Gauge;
  const maxFds = (() => {
    try {
      const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
      return line === undefined ? undefined : Number(line.split(/ {2,}/)[1]);
    } catch {
      return undefined;
    }
  })();
  if (maxFds !== undefined) families.push(g('process_max_fds', 'Maximum number of open file descriptors.', [], () => maxFdsGauge?.set(maxFds)));
  const maxFdsGauge = maxFds === undefined ? undefined : families.at(-1) as Gauge;

  // Event loop: the delay histogram since the last scrape, and one setImmediate's lag, which
  // (as in prom-client) is measured after a scrape and shown by the next.
  const delay = monitorEventLoopDelay();
  delay.enable();
  const lagMin = g('nodejs_eventloop_lag_min_seconds', 'The minimum recorded event loop delay.');
  const lagMax = g('nodejs_eventloop_lag_max_seconds', 'The maximum recorded event loop delay.');
  const lagMean = g('nodejs_eventloop_lag_mean_seconds', 'The mean of the recorded event loop delays.');
  const lagStddev = g('nodejs_eventloop_lag_stddev_seconds', 'The standard deviation of the recorded event loop delays.');
  const lagP50 = g('nodejs_eventloop_lag_p50_seconds', 'The 50th percentile of the recorded event loop delays.');
  const lagP90 = g('nodejs_eventloop_lag_p90_seconds', 'The 90th percentile of the recorded event loop delays.');
  const lagP99 = g('nodejs_eventloop_lag_p99_seconds', 'The 99th percentile of the recorded event loop delays.');
  const lag = g('nodejs_eventloop_lag_seconds', 'Lag of event loop in seconds.', [], () => {
    const started = process.hrtime.bigint();
    setImmediate(() => lag.set(Number(process.hrtime.bigint() - started) / 1e9));
    lagMin.set(delay.min / 1e9);
    lagMax.set(delay.max / 1e9);
    lagMean.set(delay.mean / 1e9);
    lagStddev.set(delay.stddev / 1e9);
    lagP50.set(delay.percentile(50) / 1e9);
    lagP90.set(delay.percentile(90) / 1e9);
    lagP99.set(delay.percentile(99) / 1e9);
    delay.reset();
  });
  families.push(lag, lagMin, lagMax, lagMean, lagStddev, lagP50, lagP90, lagP99);

  const resources = g('nodejs_active_resources', 'Number of active resources that are currently keeping the event loop alive, grouped by async resource type.', ['type'], () => {
    const counts = new Map<string, number>();
    for (const r of process.getActiveResourcesInfo()) counts.set(r, (counts.get(r) ?? 0) + 1);
    setAll(resources, counts);
  });
  const resourcesTotal = g('nodejs_active_resources_total', 'Total number of active resources.', [], () => resourcesTotal.set(process.getActiveResourcesInfo().length));
  families.push(resources, resourcesTotal);
  if (typeof internals._getActiveHandles === 'function') {
    const handlesOf = internals._getActiveHandles.bind(process);
    const handles = g('nodejs_active_handles', 'Number of active libuv handles grouped by handle type. Every handle type is C++ class name.', ['type'], () => setAll(handles, byConstructorName(handlesOf())));
    const handlesTotal = g('nodejs_active_handles_total', 'Total number of active handles.', [], () => handlesTotal.set(handlesOf().length));
    families.push(handles, handlesTotal);
  }
  if (typeof internals._getActiveRequests === 'function') {
    const requestsOf = internals._getActiveRequests.bind(process);
    const requests = g('nodejs_active_requests', 'Number of active libuv requests grouped by request type. Every request type is C++ class name.', ['type'], () => setAll(requests, byConstructorName(requestsOf())));
    const requestsTotal = g('nodejs_active_requests_total', 'Total number of active requests.', [], () => requestsTotal.set(requestsOf().length));
    families.push(requests, requestsTotal);
  }

  const heapUsed = g('nodejs_heap_size_used_bytes', 'Process heap size used from Node.js in bytes.');
  const external = g('nodejs_external_memory_bytes', 'Node.js external memory size in bytes.');
  const heapTotal = g('nodejs_heap_size_total_bytes', 'Process heap size from Node.js in bytes.', [], () => {
    try {
      const m = process.memoryUsage();
      heapTotal.set(m.heapTotal);
      heapUsed.set(m.heapUsed);
      external.set(m.external);
    } catch { /* memoryUsage() can throw on some platforms (prom-client #67) */ }
  });
  families.push(heapTotal, heapUsed, external);

  const spaceUsed = g('nodejs_heap_space_size_used_bytes', 'Process heap space size used from Node.js in bytes.', ['space']);
  const spaceAvailable = g('nodejs_heap_space_size_available_bytes', 'Process heap space size available from Node.js in bytes.', ['space']);
  const spaceTotal = g('nodejs_heap_space_size_total_bytes', 'Process heap space size total from Node.js in bytes.', ['space'], () => {
    for (const s of getHeapSpaceStatistics()) {
      const space = s.space_name.slice(0, s.space_name.indexOf('_space'));
      spaceTotal.set({ space }, s.space_size);
      spaceUsed.set({ space }, s.space_used_size);
      spaceAvailable.set({ space }, s.space_available_size);
    }
  });
  families.push(spaceTotal, spaceUsed, spaceAvailable);

  const [major = '', minor = '', patch = ''] = process.version.slice(1).split('.');
  const version = g('nodejs_version_info', 'Node.js version info.', ['version', 'major', 'minor', 'patch'], () => version.set({ version: process.version, major, minor, patch }, 1));
  families.push(version);

  const gcKinds: Record<number, string> = {
    [perfConstants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
    [perfConstants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
    [perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
    [perfConstants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
  };
  const gc = new Histogram(`${prefix}nodejs_gc_duration_seconds`, 'Garbage collection duration by kind, one of major, minor, incremental or weakcb.', ['kind'], [0.001, 0.01, 0.1, 1, 2, 5]);
  new PerformanceObserver((list) => {
    // as prom-client: the first entry of each batch
    const entry = list.getEntries()[0];
    if (!entry) return;
    const kind = gcKinds[(entry as { detail?: { kind?: number } }).detail?.kind ?? -1];
    gc.observe(kind === undefined ? {} : { kind }, entry.duration / 1000);
  }).observe({ entryTypes: ['gc'] });
  families.push(gc);
  return families;
}
