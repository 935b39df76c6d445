import type { ChildProcess } from 'node:child_process';
/** Runs `cleanup` if the bench is interrupted (after its children are killed); returns a function that unregisters it. */
export declare function onInterrupt(cleanup: () => Promise<void> | void): () => void;
/** True when `taskset` runs here and the machine has at least two CPUs to pin onto. */
export declare function canPin(): boolean;
/** `argv` prefixed with `taskset -c <cpu>` when pinning is possible and `cpu` is given. */
export declare function pinnedCommand(cpu: number | undefined, argv: string[]): string[];
export interface TrackedChild {
    proc: ChildProcess;
    /** Output so far: the log file's content, or the piped stdout + stderr. */
    output(): string;
    /** Resolves with the first match of `re` in the output; fails when the process exits first or after `timeoutMs`. */
    waitForLine(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
    /** Resolves with the exit code once the process has ended by itself. */
    exited: Promise<number | null>;
    /** SIGKILL at once, or `signal` first and SIGKILL after `graceMs` (e.g. to let `--cpu-prof` write its profile). */
    stop(opts?: {
        signal?: NodeJS.Signals;
        graceMs?: number;
    }): Promise<void>;
}
/**
 * Starts `argv`. With `logFile`, stdout and stderr go straight to that file (a busy server's
 * request log then costs this process nothing); without it they are piped and kept here.
 */
export declare function spawnTracked(argv: string[], opts?: {
    logFile?: string;
    env?: NodeJS.ProcessEnv;
}): TrackedChild;
