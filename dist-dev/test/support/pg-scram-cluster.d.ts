import { type ServerCertFiles } from './services.js';
export interface ScramCluster {
    host: string;
    port: number;
    adminUser: string;
    adminPassword: string;
    /** postgres://user:password@host:port/postgres */
    url: string;
    /** The server log (log_statement = 'ddl'), when this process started the cluster. */
    logFile: string | undefined;
    /** With `tls`: the server's self-signed certificate for "localhost" (or `cert`'s CA), to use as caFile. */
    caFile: string | undefined;
    /** Milliseconds initdb + start took (0 for PG_SCRAM_URL). */
    startupMs: number;
    /** Stops the cluster and removes its files; safe to call twice. A no-op for PG_SCRAM_URL. */
    stop(): Promise<void>;
}
export interface ScramClusterOptions {
    /**
     * Also accept TLS (ssl = on, a self-signed certificate for "localhost"); plain connections still
     * work. Always a local cluster: PG_SCRAM_URL says nothing about its certificates.
     */
    tls?: boolean;
    /**
     * With `tls`: serve this certificate instead of the self-signed one. Such a cluster is the
     * caller's alone: started on every call, not shared through the per-process cache.
     */
    cert?: ServerCertFiles;
}
/** The process's cluster (one per options), started on first call. */
export declare function scramCluster(options?: ScramClusterOptions): Promise<ScramCluster>;
/** Same as scramCluster(). */
export declare const startScramCluster: typeof scramCluster;
