import type { FastifyInstance } from 'fastify';
import type { VaultContext } from '../../context.js';
export declare const TRASH_LEASE_NAME = "trash-purge";
export declare function sweepTrash(ctx: VaultContext, trashDays: number): Promise<{
    ran: boolean;
    purged: number;
    skipped: number;
}>;
export declare function startTrashSweeper(app: FastifyInstance, ctx: VaultContext, opts: {
    trashDays: number;
    everyMs?: number;
}): void;
