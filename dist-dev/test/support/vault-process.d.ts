import http from 'node:http';
import type { CliResult, RunningProcess } from './processes.js';
export interface VaultProcessOptions {
    /** Certificate, key and the CA clients should trust (files). */
    tls?: {
        cert: string;
        key: string;
        ca: string;
    };
    /** Default 127.0.0.1:0. */
    listen?: string;
    /** PostgreSQL store instead of SQLite. */
    databaseUrl?: string;
    /** More `serve` arguments; `--workers 1` is added unless they give `--workers`. */
    args?: string[];
    env?: NodeJS.ProcessEnv;
}
export interface VaultProcess {
    dir: string;
    url: string;
    port: number;
    /** The CA file clients use (with tls). */
    caFile: string | undefined;
    opKey: string;
    proc: RunningProcess;
    /** `sikkerkey …` as the owner. */
    sk(args: string[], env?: NodeJS.ProcessEnv): Promise<CliResult>;
    /** A plain GET (https verified against the CA): status, headers and body text. */
    get(path: string): Promise<{
        status: number;
        headers: http.IncomingHttpHeaders;
        body: string;
    }>;
    /** Starts `serve` again with the same store and port (after the process stopped); `args` replace the extra arguments. */
    restart(opts?: {
        args?: string[];
    }): Promise<void>;
    close(): Promise<void>;
}
/** Makes a store with an owner; returns the files `serve` needs. */
export declare function initVaultStore(dir: string, databaseUrl?: string): Promise<{
    opKey: string;
    rootKeyFile: string;
    storeArgs: string[];
}>;
export declare function startVaultProcess(opts?: VaultProcessOptions): Promise<VaultProcess>;
