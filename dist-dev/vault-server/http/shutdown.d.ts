import type { FastifyInstance } from 'fastify';
/** Seconds a client is told to wait before trying again (a restart, or another replica). */
export declare const SHUTDOWN_RETRY_AFTER_SECONDS = 2;
export declare function installShutdownGate(app: FastifyInstance): void;
