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

export async function keyOwner(trx: Kysely<Database>, keyId: string): Promise<{ kind: 'machine' | 'operator' | 'ai_agent'; name: string } | undefined> {
  const machine = await trx.selectFrom('machines').select('name').where('key_id', '=', keyId).executeTakeFirst();
  if (machine) return { kind: 'machine', name: machine.name };
  const operator = await trx.selectFrom('operator_keys').innerJoin('operators', 'operators.id', 'operator_keys.operator_id')
    .select('operators.name as name').where('operator_keys.key_id', '=', keyId).executeTakeFirst();
  if (operator) return { kind: 'operator', name: operator.name };
  const agent = await trx.selectFrom('ai_agents').select('name').where('key_id', '=', keyId).executeTakeFirst();
  return agent ? { kind: 'ai_agent', name: agent.name } : undefined;
}
