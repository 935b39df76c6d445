/**
 * One key, one identity: a public key registered to a machine, an operator (any of its keys,
 * revoked ones included: a revoked key must never come back) or an AI agent cannot be registered
 * again anywhere. An operator's key registered as a machine would let it read values.
 *
 * @example
 *   const owner = await keyOwner(trx, keyId);
 *   if (owner) throw new SikkerKeyError('SK_ERR_CONFLICT', `this public key already belongs to ${owner.kind} ${owner.name}`);
 */
import type { Kysely } from 'kysely';
import type { Database } from './database.js';
export declare function keyOwner(trx: Kysely<Database>, keyId: string): Promise<{
    kind: 'machine' | 'operator' | 'ai_agent';
    name: string;
} | undefined>;
