/**
 * A strict parser for the Prometheus text exposition format (0.0.4), for tests: it throws on any
 * line a Prometheus server would reject (bad names, bad label syntax or escapes, a value that is
 * not a float, a TYPE after its samples or twice, a sample of an undeclared family when strict,
 * histogram buckets that are not cumulative or whose +Inf bucket differs from _count).
 *
 * @example
 *   const families = parsePrometheusText(await (await fetch(url + '/metrics')).text());
 *   families.get('sikkerkey_http_requests_total')?.samples[0]?.labels.route
 */
export interface PromSample {
    name: string;
    labels: Record<string, string>;
    value: number;
}
export interface PromFamily {
    name: string;
    type: string;
    help: string | undefined;
    samples: PromSample[];
}
export declare function parsePrometheusText(text: string, opts?: {
    strict?: boolean;
}): Map<string, PromFamily>;
