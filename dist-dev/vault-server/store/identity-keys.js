export async function keyOwner(trx, keyId) {
    const machine = await trx.selectFrom('machines').select('name').where('key_id', '=', keyId).executeTakeFirst();
    if (machine)
        return { kind: 'machine', name: machine.name };
    const operator = await trx.selectFrom('operator_keys').innerJoin('operators', 'operators.id', 'operator_keys.operator_id')
        .select('operators.name as name').where('operator_keys.key_id', '=', keyId).executeTakeFirst();
    if (operator)
        return { kind: 'operator', name: operator.name };
    const agent = await trx.selectFrom('ai_agents').select('name').where('key_id', '=', keyId).executeTakeFirst();
    return agent ? { kind: 'ai_agent', name: agent.name } : undefined;
}
//# sourceMappingURL=identity-keys.js.map