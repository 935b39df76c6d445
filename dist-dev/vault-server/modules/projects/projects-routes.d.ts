import type { FastifyInstance } from 'fastify';
import type { VaultContext } from '../../context.js';
export declare function projectsRoutes(app: FastifyInstance, ctx: VaultContext): void;
