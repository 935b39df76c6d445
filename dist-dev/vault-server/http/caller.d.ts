import type { FastifyRequest } from 'fastify';
import type { Caller } from './authenticate.js';
/** The verified caller of an authenticated route (the auth hook guarantees one exists). */
export declare function callerOf(req: FastifyRequest): Caller;
