import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Store } from './store/open-store.js';
import type { VaultConfig, VaultFlags } from './config.js';
import type { BudgetLike } from './http/auth-guard.js';
import type { IpcChannel, WakeupRelay } from './cluster/wakeups.js';
type StoreLocation = {
    dataDir: string;
} | {
    databaseUrl: string;
};
/** Flags first, then SIKKERKEY_VAULT_DATA_DIR / SIKKERKEY_VAULT_DATABASE_URL. */
export declare function storeLocation(opts: {
    dataDir?: string;
    databaseUrl?: string;
}, env?: NodeJS.ProcessEnv): StoreLocation;
export declare function initCommand(opts: {
    dataDir?: string;
    databaseUrl?: string;
    operatorPublicKey: string;
    operatorName: string;
    json?: boolean;
}): Promise<void>;
export interface Running {
    app: FastifyInstance;
    store: Store;
    url: string;
    log: Logger;
    authorities: readonly string[];
    maxConnections: number;
    /** Cross-process wake-ups (cluster/wakeups.ts); closed after the app. */
    relay: WakeupRelay;
}
/** What starting a listener needs from the configuration. */
type ServerSettings = Pick<VaultConfig, 'listen' | 'publicUrl' | 'rotationLeaseSeconds' | 'allowCidr' | 'trustProxy' | 'tls' | 'metrics'> & Partial<Pick<VaultConfig, 'verifyConcurrency' | 'maxConnections' | 'databaseUrl' | 'trashDays'>>;
export interface StartServerOptions {
    store: Store;
    rootKey: Buffer;
    settings: ServerSettings;
    log: Logger;
    canaryDisablesMachine?: boolean;
    geoipDb?: string | undefined;
    acceptBrokenChain?: boolean;
    /** Run the rotation scheduler and the machine sweeper here (default true; of several workers only worker 1 does). */
    background?: boolean;
    /** Log "vault listening" with the URL (default true; a worker reports to its primary, which logs it once). */
    announce?: boolean;
    /** A failure budget shared with other workers (cluster/shared-budget.ts). */
    failureBudget?: BudgetLike;
    /** A cluster worker's channel to its primary: wake-ups go through it on SQLite. */
    ipc?: IpcChannel;
}
/**
 * Opens the vault with the root key, builds the app and listens; the authority list follows the
 * real port. On PostgreSQL long-polls are also woken by other processes' writes (LISTEN/NOTIFY).
 */
export declare function startServer(opts: StartServerOptions): Promise<Running>;
/**
 * SIGTERM/SIGINT: stop accepting, answer held long-polls and new requests 503 + Retry-After, give
 * in-flight requests up to `shutdownTimeoutMs`, then cut what is left and close the store. A
 * second signal exits at once. SIGHUP reloads the TLS certificate (and never ends the process:
 * Node's default for SIGHUP would).
 */
export declare function onSignals(running: Running, opts: {
    shutdownTimeoutMs: number;
    tls?: VaultConfig['tls'];
    cleanup?: () => void;
    escalate?: boolean;
}): void;
export interface ServeFlags extends VaultFlags {
    config?: string;
    rootKeyStdin?: boolean;
    canaryDisableMachine?: boolean;
    /** --geoip-db FILE: MaxMind-format database for machines' country allowlists. */
    geoipDb?: string;
    /** --accept-broken-chain: key an audit log whose existing chain is broken (recorded in audit.keys.created). */
    acceptBrokenChain?: boolean;
}
export declare function serveCommand(flags: ServeFlags): Promise<void>;
/** `sikkerkey-vault check-config FILE`: the file and SIKKERKEY_VAULT_* variables, validated as `serve` would. */
export declare function checkConfigCommand(file: string, opts: {
    json?: boolean;
}): Promise<void>;
export declare function devCommand(opts: {
    listen: string;
    logLevel: string;
}): Promise<void>;
export {};
