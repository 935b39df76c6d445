import type { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
export declare const EVENTS_CHANNEL = "sikkerkey_events";
/** The events relayed: `<emitter>.<event>`, with the event's arguments (ids, and who it concerns: long-poll.ts wakes only those). */
declare const RELAYED: {
    readonly 'rotation.work': readonly [EventEmitter<[never]>, "work"];
    readonly 'rotation.finished': readonly [EventEmitter<[never]>, "finished"];
    readonly 'secret.changed': readonly [EventEmitter<[never]>, "changed"];
};
type WakeName = keyof typeof RELAYED;
/** One wake-up as it crosses a process boundary. */
export interface WakeupMessage {
    sk: 'wakeup';
    e: WakeName;
    args?: unknown[];
}
export declare function isWakeupMessage(m: unknown): m is WakeupMessage;
/** The IPC side of a process: a cluster worker's `process`. */
export interface IpcChannel {
    send?: (m: unknown) => boolean;
    on(event: 'message', listener: (m: unknown) => void): unknown;
    off(event: 'message', listener: (m: unknown) => void): unknown;
}
export interface WakeupRelay {
    close(): Promise<void>;
}
export interface WakeupRelayOptions {
    log: Logger;
    /** Relay over this IPC channel (a SQLite store's workers). */
    ipc?: IpcChannel;
    /** Relay through PostgreSQL LISTEN/NOTIFY on this database. */
    databaseUrl?: string;
}
export declare function startWakeupRelay(opts: WakeupRelayOptions): Promise<WakeupRelay>;
/** The primary's side of the IPC relay: a worker's wake-up goes to every other worker. */
export declare function relayWakeup(m: WakeupMessage, from: unknown, workers: Iterable<{
    isConnected(): boolean;
    send(m: unknown): boolean;
}>): void;
export {};
