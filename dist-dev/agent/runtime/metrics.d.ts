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
export declare function createAgentMetrics(): {
    registry: {
        contentType: string;
        /** The exposition text; a Promise like prom-client's `Registry#metrics()`. */
        metrics: () => Promise<string>;
    };
    jobs: Counter;
    duration: Histogram;
    polls: Counter;
    active: Gauge;
    lastContact: Gauge;
};
export type AgentMetrics = ReturnType<typeof createAgentMetrics>;
type Labels = Record<string, string | number>;
interface Family {
    render(): string;
}
/** One family's samples, keyed by their label values in `labelNames` order. */
declare abstract class Metric implements Family {
    readonly name: string;
    readonly help: string;
    readonly type: string;
    readonly labelNames: readonly string[];
    private readonly collect?;
    protected readonly values: Map<string, {
        labels: Labels;
        value: number;
    }>;
    constructor(name: string, help: string, type: string, labelNames?: readonly string[], collect?: (() => void) | undefined);
    protected entry(labels: Labels): {
        labels: Labels;
        value: number;
    };
    reset(): void;
    protected samples(): string[];
    render(): string;
}
declare class Counter extends Metric {
    constructor(name: string, help: string, labelNames?: readonly string[], collect?: () => void);
    inc(labels?: Labels, by?: number): void;
}
declare class Gauge extends Metric {
    constructor(name: string, help: string, labelNames?: readonly string[], collect?: () => void);
    /** `set(value)` or `set(labels, value)`, as prom-client takes them. */
    set(labelsOrValue: Labels | number, value?: number): void;
    inc(by?: number): void;
    dec(by?: number): void;
}
declare class Histogram implements Family {
    readonly name: string;
    readonly help: string;
    readonly labelNames: readonly string[];
    readonly buckets: readonly number[];
    private readonly series;
    constructor(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]);
    observe(labels: Labels, value: number): void;
    render(): string;
}
export {};
