/** The longest `?wait=` a long-poll accepts (seconds); the routes' schemas use it. */
export declare const LONG_POLL_MAX_SECONDS = 60;
export declare const DEFAULT_MAX_CONNECTIONS = 10000;
/** File descriptors kept back from the connection cap. */
export declare const FD_RESERVE = 256;
export interface ServerLimits {
    maxConnections: number;
    /** Socket inactivity (fastify connectionTimeout): the longest long-poll wait + 30 s. */
    connectionTimeoutMs: number;
    /** Time to receive a request's headers (Node headersTimeout). */
    headersTimeoutMs: number;
    /** Time to receive the whole request, body included (Node requestTimeout). */
    requestTimeoutMs: number;
    keepAliveTimeoutMs: number;
    /** How often Node checks the two timeouts above (Node's default is 30 s). */
    checkIntervalMs: number;
}
export declare const DEFAULT_LIMITS: ServerLimits;
/** The soft open-file limit (`ulimit -n` in a child shell; Node 20 has no getrlimit), or undefined. */
export declare function openFileLimit(): number | undefined;
/** The connection cap to apply: the asked-for (or default) number, at most the fd limit − 256. */
export declare function effectiveMaxConnections(requested: number | undefined, fdLimit: number | undefined): {
    value: number;
    cappedFrom?: number;
};
