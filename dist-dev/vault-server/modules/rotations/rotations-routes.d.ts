import type { FastifyInstance } from 'fastify';
import type { VaultContext } from '../../context.js';
export declare function rotationsRoutes(app: FastifyInstance, ctx: VaultContext): void;
