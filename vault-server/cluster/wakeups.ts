/**
 * Cross-process wake-ups for long-polls: what one process emits on its local emitters
 * (`rotationEvents` 'work' / 'finished' / 'state', `secretEvents` 'changed', `leaseEvents` 'lease' / 'job' —
 * all emitted after commit) is
 * re-emitted in the other processes serving the same store, so a long-poll held in one wakes on a
 * write made through another. The waiters themselves are unchanged: they still listen to the local
 * emitters, with the arguments they carry (so the receiving hub wakes only the polls concerned);
 * a lost wake-up is caught by each process's one safety-net sweep (http/long-poll.ts).
 *
 * - Workers of one `serve --workers N` on SQLite: IPC via the primary (worker → primary → every
 *   other worker), see `relayWakeup` for the primary's side.
 * - PostgreSQL (workers or separate replicas): `LISTEN sikkerkey_events` on one dedicated client
 *   per process, `pg_notify` on it when a local event fires. A notification carries the sender's
 *   origin id, so a process ignores its own.
 *
 * A relayed event is re-emitted with a flag set, so this module's own listeners do not send it
 * on again.
 *
 * @example
 *   const relay = await startWakeupRelay({ ipc: process, log });                  // SQLite worker
 *   const relay = await startWakeupRelay({ databaseUrl, log });                   // PostgreSQL
 *   await relay.close();
 */
import { randomUUID } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import type { Client } from 'pg';
import type { Logger } from 'pino';
import { rotationEvents } from '../modules/rotations/rotations-engine.js';
import { secretEvents } from '../modules/secrets/secret-watch.js';
import { leaseEvents } from '../modules/leases/leases-service.js';
import { describeUrl } from '../store/open-store.js';
import { loadPg } from '../store/pg-driver.js';

export const EVENTS_CHANNEL = 'sikkerkey_events';

/** The events relayed: `<emitter>.<event>`, with the event's arguments (ids, and who it concerns: long-poll.ts wakes only those). */
const RELAYED = {
  'rotation.work': [rotationEvents, 'work'],
  'rotation.finished': [rotationEvents, 'finished'],
  'rotation.state': [rotationEvents, 'state'],
  'secret.changed': [secretEvents, 'changed'],
  // a lease's state and a lease job's end: a machine's lease request held in another worker wakes at once
  'lease.lease': [leaseEvents, 'lease'],
  'lease.job': [leaseEvents, 'job'],
} as const satisfies Record<string, readonly [EventEmitter, string]>;
type WakeName = keyof typeof RELAYED;

/** One wake-up as it crosses a process boundary. */
export interface WakeupMessage { sk: 'wakeup'; e: WakeName; args?: unknown[] }

export function isWakeupMessage(m: unknown): m is WakeupMessage {
  return typeof m === 'object' && m !== null && (m as { sk?: unknown }).sk === 'wakeup'
    && Object.hasOwn(RELAYED, String((m as { e?: unknown }).e))
    && ((m as { args?: unknown }).args === undefined || Array.isArray((m as { args?: unknown }).args));
}

/** Set while a relayed event is re-emitted here: this module's listeners then stay silent. */
let relaying = false;

function emitLocally(m: WakeupMessage): void {
  const [emitter, event] = RELAYED[m.e];
  relaying = true;
  try {
    emitter.emit(event, ...(m.args ?? []));
  } finally {
    relaying = false;
  }
}

/** Calls `send` for every local (not relayed) event; returns the unsubscribe. */
function subscribe(send: (m: WakeupMessage) => void): () => void {
  const offs: Array<() => void> = [];
  for (const [name, [emitter, event]] of Object.entries(RELAYED) as Array<[WakeName, readonly [EventEmitter, string]]>) {
    const listener = (...args: unknown[]): void => {
      if (relaying) return;
      // The arguments are plain data (ids, names, numbers): they survive IPC and JSON as they are.
      send(args.length > 0 ? { sk: 'wakeup', e: name, args } : { sk: 'wakeup', e: name });
    };
    emitter.on(event, listener);
    offs.push(() => emitter.off(event, listener));
  }
  return () => offs.forEach((off) => off());
}

/** The IPC side of a process: a cluster worker's `process`. */
export interface IpcChannel {
  send?: (m: unknown) => boolean;
  on(event: 'message', listener: (m: unknown) => void): unknown;
  off(event: 'message', listener: (m: unknown) => void): unknown;
}

export interface WakeupRelay { close(): Promise<void> }

export interface WakeupRelayOptions {
  log: Logger;
  /** Relay over this IPC channel (a SQLite store's workers). */
  ipc?: IpcChannel;
  /** Relay through PostgreSQL LISTEN/NOTIFY on this database. */
  databaseUrl?: string;
}

export async function startWakeupRelay(opts: WakeupRelayOptions): Promise<WakeupRelay> {
  if (opts.databaseUrl !== undefined) return startPgRelay(opts.databaseUrl, opts.log);
  const ipc = opts.ipc;
  if (ipc === undefined) return { close: async () => undefined };
  const unsubscribe = subscribe((m) => { ipc.send?.(m); });
  const onMessage = (m: unknown): void => {
    if (isWakeupMessage(m)) emitLocally(m);
  };
  ipc.on('message', onMessage);
  return {
    close: async () => {
      unsubscribe();
      ipc.off('message', onMessage);
    },
  };
}

/** The primary's side of the IPC relay: a worker's wake-up goes to every other worker. */
export function relayWakeup(m: WakeupMessage, from: unknown, workers: Iterable<{ isConnected(): boolean; send(m: unknown): boolean }>): void {
  for (const w of workers) if (w !== from && w.isConnected()) w.send(m);
}

const RECONNECT_MS = 1000;

async function startPgRelay(databaseUrl: string, log: Logger): Promise<WakeupRelay> {
  const origin = randomUUID();
  const { shown, scrub } = describeUrl(databaseUrl);
  let client: Client | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;

  const connect = async (): Promise<void> => {
    const pg = await loadPg();
    const c = new pg.Client({ connectionString: databaseUrl, application_name: 'sikkerkey-vault-events', connectionTimeoutMillis: 10_000 });
    c.on('error', (err) => {
      if (closed || client !== c) return;
      log.warn({ store: shown, err: scrub(err.message) }, 'the wake-up listener lost its PostgreSQL connection; reconnecting (long-polls re-check the store meanwhile)');
      client = undefined;
      c.end().catch(() => undefined);
      schedule();
    });
    c.on('notification', (n) => {
      if (n.channel !== EVENTS_CHANNEL || n.payload === undefined) return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(n.payload);
      } catch {
        return;
      }
      const { o, ...m } = parsed as { o?: unknown } & Record<string, unknown>;
      if (o === origin || !isWakeupMessage(m)) return;
      emitLocally(m);
    });
    await c.connect();
    await c.query(`LISTEN ${EVENTS_CHANNEL}`);
    if (closed) {
      await c.end().catch(() => undefined);
      return;
    }
    client = c;
  };
  const schedule = (): void => {
    if (closed || retry !== undefined) return;
    retry = setTimeout(() => {
      retry = undefined;
      connect().catch((err: unknown) => {
        log.warn({ store: shown, err: scrub(err instanceof Error ? err.message : String(err)) }, 'the wake-up listener cannot reach PostgreSQL; retrying');
        schedule();
      });
    }, RECONNECT_MS);
    retry.unref();
  };

  await connect();
  const unsubscribe = subscribe((m) => {
    // The events fire after their transaction committed; a notification lost while reconnecting
    // only delays the other processes' waiters until their own re-check.
    client?.query('SELECT pg_notify($1, $2)', [EVENTS_CHANNEL, JSON.stringify({ o: origin, ...m })]).catch(() => undefined);
  });
  return {
    close: async () => {
      closed = true;
      unsubscribe();
      if (retry !== undefined) clearTimeout(retry);
      const c = client;
      client = undefined;
      await c?.end().catch(() => undefined);
    },
  };
}
