import type { CliResult, RunningProcess } from './processes.js';
export interface RotationHarnessOptions {
    engine: string;
    /** The rotated secret's fields (host, port, username, password, database…). */
    target: Record<string, string>;
    /** The admin secret's fields. */
    admin: Record<string, string>;
    /** Vault --rotation-lease (default 3s, short so re-claims happen within a test). */
    lease?: string;
    strategy?: string;
    /** Serve TLS with this certificate and key; clients trust `ca` (files, PEM). */
    tls?: {
        cert: string;
        key: string;
        ca: string;
    };
    /** More URLs the vault answers to (--public-url), e.g. a proxy in front of it; its own URL stays valid. */
    publicUrls?: string[];
    /** --grace for dual/alternating. */
    grace?: string;
    /** --alternate-username for alternating. */
    alternateUsername?: string;
    /** Run this executable as the agent (e.g. the single executable, dist/bin/sikkerkey-agent) instead of `node dist/agent/main.js`. */
    agentExecutable?: string;
    /**
     * More `serve` arguments, e.g. `['--workers', '2']` (the test default is `--workers 1`). With
     * more than one worker, `restartVault` with SIGKILL kills the whole vault at once — the primary
     * and every worker, as `kill -9` of the service's process group would — since a fault point
     * pauses whichever worker took the request.
     */
    serveArgs?: string[];
}
export interface RotationHarness {
    dir: string;
    url: string;
    vault: RunningProcess;
    /** Runs `sikkerkey …` as the operator. */
    sk(args: string[]): Promise<CliResult>;
    /** Starts an agent process (optionally paused at a fault point). */
    startAgent(opts?: {
        faultAt?: string;
        name?: string;
        vaultUrl?: string;
    }): Promise<RunningProcess>;
    /** The application's read of the rotated secret. */
    read(): Promise<{
        version: number;
        fields: Record<string, string>;
    }>;
    /**
     * Stops the vault (SIGKILL unless told otherwise; with several workers, SIGKILL goes to the
     * primary and every worker at once) and starts it again on the same port; resolves to the old
     * (primary) process's exit code.
     */
    restartVault(opts?: {
        faultAt?: string;
        signal?: NodeJS.Signals;
    }): Promise<number | null>;
    /** The worker pids each whole-vault SIGKILL (several workers) killed along with the primary, in order. */
    readonly vaultKills: number[][];
    close(): Promise<void>;
}
export declare function startRotationHarness(opts: RotationHarnessOptions): Promise<RotationHarness>;
