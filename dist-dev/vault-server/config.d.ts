export interface VaultConfig {
    readonly dataDir: string | undefined;
    readonly databaseUrl: string | undefined;
    /** `host:port` or `unix:PATH`. */
    readonly listen: string;
    /** URLs clients use to reach this vault; their host[:port] are the `@authority` values accepted. */
    readonly publicUrl: readonly string[];
    readonly rootKeyFile: string | undefined;
    readonly log: {
        readonly level: string;
    };
    readonly rotationLeaseSeconds: number;
    readonly allowCidr: readonly string[];
    readonly trustProxy: readonly string[];
    /** Certificate and key files (PEM); `clientCa` makes client certificates from that CA mandatory. */
    readonly tls: {
        readonly cert: string;
        readonly key: string;
        readonly clientCa: string | undefined;
    } | undefined;
    /** Plain HTTP on a non-loopback address was asked for explicitly. */
    readonly insecureListen: boolean;
    readonly metrics: {
        readonly enabled: boolean;
    };
    /** How long in-flight requests may take to finish after SIGTERM. */
    readonly shutdownTimeoutMs: number;
    /** Ed25519 verifications in flight at once before SK_ERR_VERIFY_BUSY; undefined: 2 × cores × 32. */
    readonly verifyConcurrency: number | undefined;
    /** --max-connections as given (undefined: the default); start-up caps it at `ulimit -n` − 256. */
    readonly maxConnections: number | undefined;
    /** Days a deleted project or secret stays in the trash before it is purged; undefined: 30. */
    readonly trashDays: number | undefined;
    /** --workers as given (undefined: os.availableParallelism()); 1 serves in this process, more fork workers sharing the listener. */
    readonly workers: number | undefined;
    /** Things worth a log line at start (never fatal): e.g. an unknown SIKKERKEY_VAULT_ variable. */
    readonly warnings: readonly string[];
}
type Kind = 'string' | 'list' | 'boolean' | 'duration' | 'level' | 'count';
interface Setting {
    /** Dotted key in the config file. */
    key: string;
    kind: Kind;
    /** The flag that overrides it (commander's camelCase attribute name), if any. */
    flag?: string;
    /** Shown in docs and `check-config --help`. */
    about: string;
}
/** More processes than this would only contend for the store. */
export declare const MAX_WORKERS = 64;
/** Every setting the vault reads; the one list the file, the variables, the flags and the docs follow. */
export declare const VAULT_SETTINGS: readonly Setting[];
/** `tls.clientCa` → `SIKKERKEY_VAULT_TLS_CLIENT_CA`. */
export declare function envNameOf(key: string): string;
/** The flags `serve` accepts, as commander parses them (every one optional). */
export interface VaultFlags {
    dataDir?: string;
    databaseUrl?: string;
    listen?: string;
    publicUrl?: string[];
    rootKeyFile?: string;
    logLevel?: string;
    rotationLease?: string;
    allowCidr?: string[];
    trustProxy?: string[];
    tlsCert?: string;
    tlsKey?: string;
    tlsClientCa?: string;
    insecureListen?: boolean;
    shutdownTimeout?: string;
    verifyConcurrency?: string;
    maxConnections?: string;
    trashDays?: string;
    workers?: string;
}
export interface LoadVaultConfigRequest {
    /** `--config FILE`: `.json` is JSON, anything else YAML (which also reads JSON). */
    file?: string | undefined;
    env?: NodeJS.ProcessEnv;
    flags?: VaultFlags;
}
/**
 * Loads, merges and validates the vault configuration; the result is frozen. Precedence: flags,
 * then `SIKKERKEY_VAULT_*`, then the file, then defaults. Throws SK_ERR_CONFIG naming the setting.
 */
export declare function loadVaultConfig(req?: LoadVaultConfigRequest): VaultConfig;
export interface ListenAddress {
    host?: string;
    port?: number;
    path?: string;
}
/** `host:port` (IPv6 in brackets) or `unix:PATH`. */
export declare function parseListenAddress(text: string, from?: string): ListenAddress;
/** 127.0.0.0/8, ::1 and the name localhost: addresses no other machine can reach. */
export declare function isLoopbackHost(host: string | undefined): boolean;
/** The effective configuration as it may be shown: the database URL's password is masked. */
export declare function describeVaultConfig(config: VaultConfig): Record<string, unknown>;
export {};
