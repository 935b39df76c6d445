export function rotationOperationsMigration(dialect) {
    const ms = dialect === 'postgres' ? 'bigint' : 'integer';
    return {
        async up(db) {
            await db.schema.alterTable('rotation_policies').addColumn('no_agent_since', ms).execute();
            await db.schema.alterTable('rotation_policies').addColumn('primary_username', 'text').execute();
        },
        async down(db) {
            await db.schema.alterTable('rotation_policies').dropColumn('primary_username').execute();
            await db.schema.alterTable('rotation_policies').dropColumn('no_agent_since').execute();
        },
    };
}
//# sourceMappingURL=0002-rotation-operations.js.map