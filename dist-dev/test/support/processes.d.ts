import type { ChildProcess } from 'node:child_process';
/** The compiled entry points (tests run from dist/test/…, so dist/ is two levels up). */
export declare const BIN: {
    readonly 'sikkerkey-vault': string;
    readonly sikkerkey: string;
    readonly 'sikkerkey-agent': string;
};
export type BinName = keyof typeof BIN;
export interface CliResult {
    code: number | null;
    stdout: string;
    stderr: string;
}
/**
 * `sikkerkey-vault serve` in tests runs one process (`--workers 1`) unless the test gives
 * `--workers` itself: the default (one worker per CPU) would fork on every test's vault.
 */
export declare function withTestDefaults(bin: BinName, args: string[]): string[];
/** Runs one of our programs as a real process, the way a user would. */
export declare function runBin(bin: BinName, args: string[], opts?: {
    env?: NodeJS.ProcessEnv;
    input?: string;
    timeoutMs?: number;
    cwd?: string;
}): Promise<CliResult>;
/** Parses a --json command's stdout, failing the test with the command's stderr if it did not succeed. */
export declare function jsonOf<T>(r: CliResult): T;
export interface RunningProcess {
    proc: ChildProcess;
    output: () => string;
    /**
     * Resolves once the process wrote output matching `re` to stdout or stderr (returns the match);
     * fails when the process exits first or after `timeoutMs`, quoting its output. The default,
     * 60 s, is far above what a start-up or a fault point takes even on a loaded machine: it only
     * decides how long a broken run takes to fail.
     */
    waitFor: (re: RegExp, timeoutMs?: number) => Promise<RegExpMatchArray>;
    stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}
export declare function startBin(bin: BinName, args: string[], opts?: {
    env?: NodeJS.ProcessEnv;
    cwd?: string;
}): RunningProcess;
/** Like startBin, for any executable (e.g. the single-executable agent in dist/bin). */
export declare function startExecutable(command: string, args: string[], opts?: {
    env?: NodeJS.ProcessEnv;
    label?: string;
    cwd?: string;
}): RunningProcess;
/** The pids whose parent is `pid` (Linux /proc): a `serve --workers N` primary's workers. */
export declare function childPids(pid: number): number[];
/** Gone, or a zombie waiting for a reaper: either way it holds no socket and no file. */
export declare function pidGone(pid: number): boolean;
