export interface BenchVaultOptions {
    store: 'sqlite' | 'postgres';
    /** Required with store `postgres`: a database of its own (see scratch-database.ts). */
    databaseUrl?: string;
    /** Pin the server to this CPU (when taskset exists). */
    cpu?: number;
    /** Secret names to create in project `p` (default `['s']`). */
    secrets?: string[];
    /** Length of each secret's value (default 1024). */
    valueBytes?: number;
    /** The vault's --log-level (default `info`, the vault's own default). */
    logLevel?: string;
    /** Write a V8 CPU profile of the vault (`node --cpu-prof`) into this directory; it is stopped with SIGTERM so the profile is written. */
    cpuProfDir?: string;
}
export interface BenchVault {
    url: string;
    /** The machine's private key file (PKCS#8 PEM, 0600). */
    machineKeyFile: string;
    /** The machine's public key (base64 of the raw 32 bytes). */
    machinePublicKey: string;
    pid: number;
    pinned: boolean;
    /** The server's log so far (successful requests are logged at debug only). */
    log(): string;
    stop(): Promise<void>;
}
/** Polls `url` until it answers 200, failing when `exited` resolves first or after `timeoutMs`. */
export declare function waitReady(url: string, child: {
    exited: Promise<number | null>;
    output(): string;
}, timeoutMs?: number): Promise<void>;
export declare function startBenchVault(opts: BenchVaultOptions): Promise<BenchVault>;
