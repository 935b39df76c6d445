import type { FastifyInstance } from 'fastify';
import type { VaultContext } from '../../context.js';
/**
 * Deleting, restoring, purging and renaming projects and secrets, and secrets' metadata
 * (trash-service.ts, secret-metadata.ts). Deletes take `?force=true` (a DELETE carries no body).
 */
export declare function trashRoutes(app: FastifyInstance, ctx: VaultContext, opts: {
    trashDays: number;
}): void;
