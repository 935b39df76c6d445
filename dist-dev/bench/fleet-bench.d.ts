/** Runs fn over items with at most `limit` in flight; resolves to the results in order. */
export declare function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]>;
export declare function run(args: string[]): Promise<void>;
