import type { FastifyInstance } from 'fastify';
import type { VaultContext } from '../../context.js';
export declare function machinesRoutes(app: FastifyInstance, ctx: VaultContext): void;
