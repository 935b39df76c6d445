/**
 * Connection limits and timeouts of the vault's listener, so slow or idle clients cannot hold
 * sockets (or file descriptors) without end:
 *
 * - `maxConnections` (--max-connections, default 10,000, long-polls included): more are closed as
 *   they arrive. Capped at the open-file limit (`ulimit -n`) − 256, kept for the store, logs and
 *   TLS files.
 * - headers within 10 s of the request starting, the whole request (headers and body) within 30 s;
 * - a socket idle for longer than the longest long-poll wait + 30 s is closed.
 */
import { spawnSync } from 'node:child_process';

/** The longest `?wait=` a long-poll accepts (seconds); the routes' schemas use it. */
export const LONG_POLL_MAX_SECONDS = 60;
export const DEFAULT_MAX_CONNECTIONS = 10_000;
/** File descriptors kept back from the connection cap. */
export const FD_RESERVE = 256;

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

export const DEFAULT_LIMITS: ServerLimits = {
  maxConnections: DEFAULT_MAX_CONNECTIONS,
  connectionTimeoutMs: (LONG_POLL_MAX_SECONDS + 30) * 1000,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 72_000,
  checkIntervalMs: 1_000,
};

/** The soft open-file limit (`ulimit -n` in a child shell; Node 20 has no getrlimit), or undefined. */
export function openFileLimit(): number | undefined {
  const res = spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8', timeout: 5_000 });
  const text = (res.stdout ?? '').trim();
  if (res.status !== 0 || !/^\d+$/.test(text)) return undefined; // "unlimited" or no shell
  return Number(text);
}

/** The connection cap to apply: the asked-for (or default) number, at most the fd limit − 256. */
export function effectiveMaxConnections(requested: number | undefined, fdLimit: number | undefined): { value: number; cappedFrom?: number } {
  const want = requested ?? DEFAULT_MAX_CONNECTIONS;
  if (fdLimit === undefined) return { value: want };
  const ceiling = Math.max(1, fdLimit - FD_RESERVE);
  return want > ceiling ? { value: ceiling, cappedFrom: want } : { value: want };
}

/**
 * The body limit of `POST /v1/projects/:project/import` (every other route: the app's 256 KiB):
 * up to 1,000 secrets in one request. Larger imports are split by the operator.
 */
export const IMPORT_BODY_LIMIT = 4 * 1024 * 1024;
