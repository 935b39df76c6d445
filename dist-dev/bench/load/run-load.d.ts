export interface LoadOptions {
    url: string;
    keyFile: string;
    paths: string[];
    method?: 'GET' | 'POST';
    /** JSON request body (signed with content-type application/json). */
    body?: string;
    connections: number;
    seconds: number;
    warmup?: number;
    cpu?: number;
    /** Count a batch answer as an error unless every item in it is 200. */
    checkBatch?: boolean;
}
export interface LoadResult {
    connections: number;
    seconds: number;
    /** Answers recorded in the measured window, any status. */
    requests: number;
    rps: number;
    /** 200 answers (every item 200 with checkBatch) per second. */
    ok_rps: number;
    /** Latency of the 200 answers. */
    p50_ms: number;
    p99_ms: number;
    /** Count per status ("200", "401", "error:ECONNRESET", "item:403" …). */
    statuses: Record<string, number>;
    /** Answers that were not 200. */
    errors: number;
    first_error?: string;
    /** The generator's CPU use over the window, in cores: near 1.0 pinned means the generator, not the server, was the limit. */
    generator_cpu: number;
}
export declare function runLoad(opts: LoadOptions): Promise<LoadResult>;
