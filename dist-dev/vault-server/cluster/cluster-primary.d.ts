import type { Logger } from 'pino';
import type { VaultConfig } from '../config.js';
/** What `serve` flags (outside VaultConfig) a worker needs. */
export interface WorkerServeOptions {
    canaryDisablesMachine: boolean;
    geoipDb?: string;
    acceptBrokenChain: boolean;
}
/** Primary → worker, once, when the worker says it is `ready` for it. */
export interface WorkerStartMessage {
    sk: 'start';
    /** 1…N; a restarted worker keeps its number. Worker 1 runs the scheduler and the machine sweeper. */
    index: number;
    config: VaultConfig;
    /** base64; only ever on the IPC channel. */
    rootKey: string;
    serve: WorkerServeOptions;
}
/** Worker → primary. */
export type WorkerReport = {
    sk: 'listening';
    url: string;
    authorities: string[];
    tls: boolean;
    clientCertificates: boolean;
    maxConnections: number;
} | {
    sk: 'failed';
    code: string;
    message: string;
};
export interface PrimaryOptions {
    workers: number;
    config: VaultConfig;
    rootKey: Buffer;
    log: Logger;
    serve: WorkerServeOptions;
}
export declare function runPrimary(opts: PrimaryOptions): Promise<void>;
