import type { FastifyInstance } from 'fastify';
import type { VaultContext } from '../../context.js';
/**
 * Operator routes only. Machines read canaries through the ordinary secret routes (that is the
 * point) and have no route that lists secrets or canaries at all.
 */
export declare function canariesRoutes(app: FastifyInstance, ctx: VaultContext): void;
