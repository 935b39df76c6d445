/** The q-quantile (0–1) of samples, nearest-rank. */
export declare function quantile(samples: number[], q: number): number;
export declare const round: (x: number, digits?: number) => number;
export declare function flag(args: string[], name: string, fallback: string): string;
/** The median of samples (the mean of the middle two for an even count). */
export declare function median(samples: number[]): number;
