/**
 * Best-effort "last used" bookkeeping: writes at most once per `intervalMs` per id, outside any
 * request's transaction, and only logs a failure (a missed timestamp must never fail a request).
 *
 * @example
 *   const seen = throttledRecorder(ctx, 15_000, 'last_seen_at', (id, now) => db.updateTable('machines')…execute());
 *   seen(machineId); // on every request; writes every 15 s at most
 */
import type { Logger } from 'pino';
export declare function throttledRecorder(ctx: {
    now: () => number;
    log: Logger;
}, intervalMs: number, what: string, write: (id: string, now: number) => Promise<unknown>): (id: string) => void;
