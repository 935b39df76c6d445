export type ServiceName = 'postgres' | 'mysql' | 'redis' | 'postgres-scram';
/** PostgreSQL (trust auth, so it proves nothing about passwords). */
export declare const pgUrl: () => string;
export declare const mysqlUrl: () => string;
export declare const redisUrl: () => string;
export interface ServiceAddress {
    host: string;
    port: number;
    username: string;
    password: string;
    database: string | undefined;
}
export declare function parseServiceUrl(url: string): ServiceAddress;
/** Fails with a message naming the service and its environment variable when nothing answers. */
export declare function assertReachable(name: ServiceName, url: string, timeoutMs?: number): Promise<void>;
/** A TCP port nothing listens on right now (the kernel's choice, released at once). */
export declare function freePort(): Promise<number>;
/** A short random tag for names that must not collide across runs and parallel test files. */
export declare const randomTag: (bytes?: number) => string;
export interface TlsFiles {
    /** PEM certificate for CN/SAN "localhost" (self-signed: it is its own CA file). */
    certFile: string;
    keyFile: string;
}
/**
 * A self-signed certificate for "localhost" (DNS name only, no IP address), valid one day, made
 * with the openssl command: verify-full against "localhost" passes, against "127.0.0.1" fails.
 */
export declare function makeLocalhostCert(dir: string): TlsFiles;
/**
 * A server certificate made elsewhere (e.g. by test-ca.ts: `ca.issue({ names })`), served instead
 * of the self-signed one for "localhost"; `caFile` is what a client trusts for it (its CA).
 */
export interface ServerCertFiles {
    certFile: string;
    keyFile: string;
    caFile: string;
}
/**
 * The certificate a test server serves, as files in its own directory `dir` (which the server's
 * OS user may then be given): a copy of `cert`, or the self-signed one for "localhost" (its own CA).
 */
export declare function serverCertIn(dir: string, cert: ServerCertFiles | undefined): TlsFiles & {
    caFile: string;
};
export interface RedisServer {
    host: string;
    port: number;
    /** The aclfile's path when one was asked for. */
    aclFile: string | undefined;
    /** With `tls`: the port speaks only TLS, with this self-signed certificate for "localhost" (or `cert`'s CA). */
    caFile: string | undefined;
    stop(): Promise<void>;
}
/**
 * A private redis-server on a free port, for tests that change the default user or global config
 * (never done on the shared Redis). Settings go in a config file, not on the command line.
 */
export declare function startRedisServer(opts?: {
    requirepass?: string;
    aclFileContents?: string;
    tls?: boolean;
    cert?: ServerCertFiles;
}): Promise<RedisServer>;
export interface MariadbServer {
    host: string;
    port: number;
    /** Unix socket where root logs in without a password (for test setup). */
    socketPath: string;
    /** The self-signed certificate for "localhost" it serves TLS with (or, with `cert`, that certificate's CA). */
    caFile: string;
    stop(): Promise<void>;
}
/**
 * A private MariaDB with TLS on a free port (mariadb-install-db + mariadbd in a temp dir, ~3 s),
 * for the TLS paths the machine's MariaDB (TLS disabled) cannot show. Run as root, the server
 * drops to the OS user mysql.
 */
export declare function startMariadbServer(opts?: {
    cert?: ServerCertFiles;
}): Promise<MariadbServer>;
