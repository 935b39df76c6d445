export declare function processCpuSeconds(pid: number): number | undefined;
/** Runs `work` and returns its result with the cores `pid` used meanwhile (undefined without /proc). */
export declare function withServerCpu<T>(pid: number, work: () => Promise<T>): Promise<{
    result: T;
    serverCpu: number | undefined;
}>;
